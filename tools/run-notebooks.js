#!/usr/bin/env node
// `npm start`: execute every notebook in order on the tslab kernel and export it to dist/, then build
// the playground (dist/playground.html, tools/build-playground.ts).
// Arguments pass through to tools/execute_notebooks.py (--out DIR, --only NAME ...).
//
// First the settings and the data are checked (lib/env/settings.ts), before any kernel starts: a wrong
// MAKEMORE_* value or a missing names.txt fails in seconds, with one message. Signals (Ctrl+C, a closed
// terminal) are passed to the Python runner, which ends its kernels and says so in one line; this
// launcher waits for it.
'use strict';
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { ROOT, venvPython, jupyterEnv } = require('./common');

const check = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '-e',
    "(async () => { try { await require('./lib/env/settings').checkSettings(); } catch (e) { " +
      'process.stderr.write(`[makemore] error: ${e.message}\\n`); process.exit(1); } })()',
  ],
  {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  },
);
if (check.status !== 0) process.exit(check.status === null ? 1 : check.status);

const args = process.argv.slice(2);
const child = spawn(venvPython(), [path.join(ROOT, 'tools', 'execute_notebooks.py'), ...args], {
  cwd: ROOT,
  stdio: 'inherit',
  env: jupyterEnv(),
});
// The runner may have had the signal from the terminal already; a second one changes nothing there.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    if (child.exitCode === null) child.kill(sig);
  });
child.on('exit', (code, signal) => {
  if (code === null) process.exit(128 + (signal === 'SIGKILL' ? 9 : 15));
  // The playground needs none of the notebooks' results: it is built whatever their outcome, beside them.
  const at = args.findIndex((a) => a === '--out' || a.startsWith('--out='));
  const out = at < 0 ? path.join(ROOT, 'dist') : args[at].startsWith('--out=') ? args[at].slice(6) : args[at + 1];
  const p = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'tools', 'build-playground.ts'), '--out', out],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  process.exit(code !== 0 ? code : p.status === 0 ? 0 : 1);
});
