#!/usr/bin/env node
// `npm start`: execute every notebook in order on the tslab kernel and export it to dist/, then build
// the playground (dist/playground.html, tools/build-playground.ts).
// Arguments pass through to tools/execute_notebooks.py (--out DIR, --only NAME ...).
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, venvPython, jupyterEnv } = require('./common');

const args = process.argv.slice(2);
const r = spawnSync(venvPython(), [path.join(ROOT, 'tools', 'execute_notebooks.py'), ...args], {
  cwd: ROOT, stdio: 'inherit', env: jupyterEnv(),
});

// The playground needs none of the notebooks' results: it is built whatever their outcome, beside them.
const at = args.findIndex((a) => a === '--out' || a.startsWith('--out='));
const out = at < 0 ? path.join(ROOT, 'dist') : args[at].startsWith('--out=') ? args[at].slice(6) : args[at + 1];
const p = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'tools', 'build-playground.ts'), '--out', out], {
  cwd: ROOT, stdio: 'inherit',
});

const failed = (s) => s.status === null || s.status !== 0;
process.exit(failed(r) ? (r.status ?? 1) : failed(p) ? 1 : 0);
