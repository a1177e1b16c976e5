// Paths and small helpers shared by the project's tools (plain Node.js, no dependencies, so
// that they run on a fresh clone before `npm ci`).
'use strict';
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
// MAKEMORE_VENV moves the virtual environment elsewhere (the set-up tests use a throw-away one).
const VENV = process.env.MAKEMORE_VENV ? path.resolve(process.env.MAKEMORE_VENV) : path.join(ROOT, '.venv');
// The project's own kernel name: a `tslab` kernel installed elsewhere (tslab install) is never picked
// by mistake. The notebooks' metadata, tools/execute_notebooks.py and the tests name it too.
const KERNEL_NAME = 'makemore-ts';

const venvPython = () =>
  process.platform === 'win32' ? path.join(VENV, 'Scripts', 'python.exe') : path.join(VENV, 'bin', 'python');
const venvBin = (name) => path.join(VENV, process.platform === 'win32' ? 'Scripts' : 'bin', name);
const jupyterPath = () => path.join(VENV, 'share', 'jupyter');
const kernelDir = () => path.join(jupyterPath(), 'kernels', KERNEL_NAME);

/** The environment for Jupyter processes: our venv's kernel spec comes first (before ~/.local). */
function jupyterEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  env.JUPYTER_PATH = [jupyterPath(), env.JUPYTER_PATH].filter(Boolean).join(path.delimiter);
  env.PATH = [path.dirname(venvPython()), env.PATH].join(path.delimiter);
  return env;
}

function log(msg) {
  process.stdout.write(`[makemore] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`\n[makemore] error: ${msg}\n`);
  process.exit(1);
}

module.exports = { ROOT, VENV, KERNEL_NAME, venvPython, venvBin, jupyterPath, kernelDir, jupyterEnv, log, fail };
