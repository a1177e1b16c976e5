/**
 * A real JupyterLab server from the project's .venv, on 127.0.0.1, for browser tests. Jupyter's
 * config, data and runtime folders are private to the test (nothing touches the user's home), and
 * the project's tslab kernel is found through JUPYTER_PATH, as `npm run lab` does.
 */
import { ChildProcess, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const { venvBin, jupyterEnv } = require('../../tools/common');

export interface Lab {
  url: (p: string) => string;
  root: string;
  stop: () => Promise<number | null>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startLab(root: string): Promise<Lab> {
  const port = await freePort();
  const token = crypto.randomBytes(12).toString('hex');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-jupyter-'));
  const env = jupyterEnv({
    JUPYTER_CONFIG_DIR: path.join(home, 'config'),
    JUPYTER_DATA_DIR: path.join(home, 'data'),
    JUPYTER_RUNTIME_DIR: path.join(home, 'runtime'),
  });
  const proc: ChildProcess = spawn(
    venvBin('jupyter'),
    [
      'lab',
      '--no-browser',
      '--ip=127.0.0.1',
      `--port=${port}`,
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${root}`,
      '--LabApp.news_url=',
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
      '--expose-app-in-browser',
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  proc.stdout!.on('data', (d) => {
    log += d;
  });
  proc.stderr!.on('data', (d) => {
    log += d;
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`JupyterLab exited (${proc.exitCode}):\n${log}`);
    try {
      const r = await fetch(`${base}/api/status?token=${token}`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`JupyterLab did not start in 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    root,
    url: (p: string) => `${base}${p}${p.includes('?') ? '&' : '?'}token=${token}`,
    stop: async () => {
      // A clean stop: the server's own shutdown endpoint, which also shuts the kernels down.
      await fetch(`${base}/api/shutdown`, { method: 'POST', headers: { Authorization: `token ${token}` } }).catch(
        () => undefined,
      );
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
          resolve(null);
        }, 20000);
        proc.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
        if (proc.exitCode !== null) {
          clearTimeout(timer);
          resolve(proc.exitCode);
        }
      });
      fs.rmSync(home, { recursive: true, force: true });
      return code;
    },
  };
}
