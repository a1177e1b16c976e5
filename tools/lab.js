#!/usr/bin/env node
// `npm run lab`: JupyterLab on notebooks/ (or on another folder: `npm run lab -- dist` opens the executed
// exports), with this project's tslab kernel.
//
// The launcher picks the port (a free one from 8888 on, or --port=N, checked) and the token, so the URL
// it prints is this server's. Jupyter runs in its own process group: Ctrl+C (or a closed terminal)
// reaches only this launcher, which stops Jupyter once with SIGTERM, Jupyter's clean stop that shuts its
// kernels down. (Forwarding the terminal's SIGINT as well made Jupyter exit without that cleanup.)
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const { ROOT, venvBin, jupyterEnv, fail, log } = require('./common');

const USAGE =
  'npm run lab [-- FOLDER] [-- --port=N] [-- other JupyterLab options]; FOLDER is notebooks (the default), dist, or any folder';

/** Split our arguments (a folder, --port, --notebook-dir / --ServerApp.root_dir) from Jupyter's. */
function parseArgs(argv) {
  // npm runs scripts in the project's root; INIT_CWD is where the user typed the command.
  const cwd = process.env.INIT_CWD || process.cwd();
  let folder, port;
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (name) => (a.startsWith(`${name}=`) ? a.slice(name.length + 1) : a === name ? argv[++i] : undefined);
    const dir = value('--notebook-dir') ?? value('--ServerApp.root_dir') ?? value('--ServerApp.notebook_dir');
    const p = value('--port') ?? value('--ServerApp.port');
    if (dir !== undefined) folder = dir;
    else if (p !== undefined) port = p;
    else if (!a.startsWith('-') && folder === undefined) folder = a;
    else rest.push(a);
  }
  let root = path.join(ROOT, 'notebooks');
  if (folder !== undefined) {
    // `dist` and `notebooks` mean the project's, wherever the command runs; other folders are as typed.
    root = ['dist', 'notebooks'].includes(folder) ? path.join(ROOT, folder) : path.resolve(cwd, folder);
  }
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    fail(
      `the folder to open, ${folder}, is not there (${root})` +
        (folder === 'dist'
          ? ': run `npm start` first, which executes the notebooks into dist/.'
          : `.\nUsage: ${USAGE}`),
    );
  }
  if (port !== undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    fail(`--port must be a port number from 1 to 65535, got ${JSON.stringify(port)}.\nUsage: ${USAGE}`);
  }
  return { root, port: port === undefined ? undefined : Number(port), rest };
}

/** Whether nothing listens on `port` (Jupyter listens on localhost: both loopback addresses). */
function portFree(port) {
  const tryHost = (host) =>
    new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', (e) => resolve(e.code === 'EADDRNOTAVAIL' || e.code === 'EAFNOSUPPORT'));
      srv.listen(port, host, () => srv.close(() => resolve(true)));
    });
  return tryHost('127.0.0.1').then((v4) => (v4 ? tryHost('::1') : false));
}

async function choosePort(asked) {
  if (asked !== undefined) {
    if (!(await portFree(asked))) {
      fail(
        `port ${asked} is in use (another JupyterLab, or another server): choose another, e.g. ` +
          `npm run lab -- --port=${asked + 1}, or leave --port out to take a free one.`,
      );
    }
    return asked;
  }
  for (let p = 8888; p < 8988; p++) if (await portFree(p)) return p;
  fail('no free port from 8888 to 8987: give one with npm run lab -- --port=N.');
}

async function main() {
  const { root, port: asked, rest } = parseArgs(process.argv.slice(2));
  const port = await choosePort(asked);
  const token = crypto.randomBytes(24).toString('hex');
  // Jupyter refuses to run as root unless told to (containers often run as root).
  const rootFlag = process.getuid && process.getuid() === 0 ? ['--allow-root'] : [];
  const child = spawn(
    venvBin('jupyter'),
    [
      'lab',
      `--ServerApp.root_dir=${root}`,
      `--port=${port}`,
      '--ServerApp.port_retries=0',
      `--IdentityProvider.token=${token}`,
      ...rootFlag,
      ...rest,
    ],
    {
      cwd: ROOT,
      env: jupyterEnv(),
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  child.on('error', (e) =>
    fail(`could not start JupyterLab (${venvBin('jupyter')}): ${e.message}. Run npm run setup.`),
  );
  log(`JupyterLab on ${path.relative(ROOT, root) || '.'}/: http://localhost:${port}/lab?token=${token}`);
  log('Ctrl+C stops it and its kernels.');

  let stopping = false;
  const stop = (signal) => {
    if (child.exitCode !== null) return;
    if (!stopping) {
      stopping = true;
      log(`${signal}: stopping JupyterLab and its kernels ...`);
      child.kill('SIGTERM');
      // Jupyter waits for its kernels; past 30 s the whole group goes.
      setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 30000).unref();
    }
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => stop(sig));
  child.on('exit', (code, signal) => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0))));
}

main();
