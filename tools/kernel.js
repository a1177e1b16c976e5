#!/usr/bin/env node
// The tslab kernel of this project, started by Jupyter (see the kernel spec that tools/setup.js
// writes). It runs from the project's root, whatever the notebook's folder: tslab compiles only
// files under its working directory, and the notebooks import the library as './lib'.
'use strict';
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
process.chdir(ROOT);
require(path.join(ROOT, 'node_modules', 'tslab', 'dist', 'main.js')).main();
