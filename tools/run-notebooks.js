#!/usr/bin/env node
// `npm start`: execute every notebook in order on the tslab kernel and export it to dist/.
// Arguments pass through to tools/execute_notebooks.py (--out DIR, --only NAME ...).
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, venvPython, jupyterEnv } = require('./common');

const r = spawnSync(venvPython(), [path.join(ROOT, 'tools', 'execute_notebooks.py'), ...process.argv.slice(2)], {
  cwd: ROOT, stdio: 'inherit', env: jupyterEnv(),
});
process.exit(r.status === null ? 1 : r.status);
