#!/usr/bin/env node
// The tslab kernel of this project, started by Jupyter (see the kernel spec that tools/setup.js
// writes). It runs from the project's root, whatever the notebook's folder: tslab compiles only
// files under its working directory, and the notebooks import the library as './lib/index'.
'use strict';
const fs = require('fs');
const Module = require('module');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
process.chdir(ROOT);

// tslab 1.0.22 gives TypeScript's watch program a fake setTimeout that holds one timer and throws
// "Unexpected pending rebuildTimer" when TypeScript schedules a second one. TypeScript does that
// when a library file is deleted and written again (as git checkout, git stash or an editor's
// atomic save do) while a cell runs: the kernel then dies. The patch below lets the fake timer hold
// several callbacks and run them all at the next compile. test/notebooks/kernel.test.ts checks it.
const converterPath = require.resolve('tslab/dist/converter.js', { paths: [ROOT] });
const original = fs.readFileSync(converterPath, 'utf8');
const start = original.indexOf('    let rebuildTimer = null;\n    sys.setTimeout = ');
const end = original.indexOf('    sys.readFile = function (path, encoding) {');
if (start < 0 || end < start) {
  throw new Error(
    `tools/kernel.js: ${converterPath} is not the tslab 1.0.22 it patches; update the patch or the pinned version.`,
  );
}
const timers = `    let rebuildTimer = null;
    let pendingTimers = [];
    sys.setTimeout = (callback) => {
        // Patched by tools/kernel.js: several pending timers run together at the next rebuild.
        const timer = { callback };
        pendingTimers.push(timer);
        rebuildTimer = {
            callback: () => {
                const due = pendingTimers;
                pendingTimers = [];
                rebuildTimer = null;
                for (const t of due) t.callback();
            },
        };
        return timer;
    };
    sys.clearTimeout = (timeoutId) => {
        pendingTimers = pendingTimers.filter((t) => t !== timeoutId);
        if (pendingTimers.length === 0) rebuildTimer = null;
    };
`;
const patched = original.slice(0, start) + timers + original.slice(end);
const mod = new Module(converterPath, module);
mod.filename = converterPath;
mod.paths = Module._nodeModulePaths(path.dirname(converterPath));
mod._compile(patched, converterPath);
mod.loaded = true;
require.cache[converterPath] = mod;

// The kernel's status (JupyterLab's status bar). tslab takes each request as it arrives, says 'busy',
// and says 'idle' when that request is done, while other cells may still run: with Run All (every cell
// is sent at once) the second cell's 'busy' comes at once and the first cell's 'idle' after it, and a
// completion (Tab) or an inspection asked for during a cell ends with its own 'idle'. Either way the
// status bar said Idle for the rest of a training cell. So after every 'idle', while a cell has not
// ended, the kernel says 'busy' again for the oldest such cell (the one running: tslab runs cells in
// the order they came), as Python's kernel does when it starts the next cell of its queue. This wraps
// publishStatus, a public method of tslab's ZmqServer; test/notebooks/kernel.test.ts checks it.
const { ZmqServer } = require(require.resolve('tslab/dist/jupyter.js', { paths: [ROOT] }));
const publishStatus = ZmqServer && ZmqServer.prototype.publishStatus;
if (typeof publishStatus !== 'function' || publishStatus.length !== 2) {
  throw new Error(
    "tools/kernel.js: tslab's ZmqServer.publishStatus(status, parent) is not there; update the status patch or the pinned tslab version.",
  );
}
const unfinished = []; // the execute requests that have not ended, oldest first
ZmqServer.prototype.publishStatus = function (status, parent) {
  if (parent.header.msg_type === 'execute_request') {
    if (status === 'busy') unfinished.push(parent);
    if (status === 'idle' && unfinished.includes(parent)) unfinished.splice(unfinished.indexOf(parent), 1);
  }
  publishStatus.call(this, status, parent);
  if (status === 'idle' && unfinished.length > 0) publishStatus.call(this, 'busy', unfinished[0]);
};

require(path.join(ROOT, 'node_modules', 'tslab', 'dist', 'main.js')).main();
