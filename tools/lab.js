#!/usr/bin/env node
// `npm run lab`: JupyterLab on notebooks/, with this project's tslab kernel.
'use strict';
const path = require('path');
const { spawn } = require('child_process');
const { ROOT, venvBin, jupyterEnv } = require('./common');

// Jupyter refuses to run as root unless told to (containers often run as root).
const rootFlag = process.getuid && process.getuid() === 0 ? ['--allow-root'] : [];
const child = spawn(venvBin('jupyter'), ['lab', `--notebook-dir=${path.join(ROOT, 'notebooks')}`, ...rootFlag, ...process.argv.slice(2)], {
  cwd: ROOT, stdio: 'inherit', env: jupyterEnv(),
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code === null ? 1 : code));
