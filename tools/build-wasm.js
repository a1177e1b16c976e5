#!/usr/bin/env node
// Builds the WebAssembly kernels when they are missing or stale (lib/assembly/build.js says when):
//   node tools/build-wasm.js [--force]
'use strict';
const path = require('path');
const { build, OUT, OUT_FMA } = require('../lib/assembly/build.js');

try {
  const built = build({ force: process.argv.includes('--force') });
  process.stdout.write(
    `[makemore] ${built ? 'built' : 'up to date:'} ${path.relative(path.resolve(__dirname, '..'), OUT)}, ${path.basename(OUT_FMA)}\n`,
  );
} catch (e) {
  process.stderr.write(`[makemore] error: ${e.message}\n`);
  process.exit(1);
}
