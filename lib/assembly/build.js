// Compiles the WebAssembly kernels (AssemblyScript): lib/assembly/index.ts, which exports the training-step
// kernels of kernels.ts and the generic kernels of ops.ts, into lib/assembly/build/kernels.wasm (128-bit
// SIMD) and kernels-fma.wasm (the same with relaxed SIMD: fused multiply-add in the matrix products),
// when a source in lib/assembly, the compiler or the flags changed. Run by
// `npm ci` (prepare), `tools/setup.js`, and by lib/compile/simd.ts when the module is missing or stale.
//
//   node tools/build-wasm.js [--force]     (the command; this file is the library's own builder)
//
// The module runs on memory its caller gives it (each compiled plan has its own), so it must not own any
// of it: the build fails if the output has a data section or imports anything but `env.memory`.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const SOURCE_DIR = path.join(ROOT, 'lib', 'assembly');
const SOURCE = path.join(SOURCE_DIR, 'index.ts');
const OUT_DIR = path.join(ROOT, 'lib', 'assembly', 'build');
const OUT = path.join(OUT_DIR, 'kernels.wasm');
const OUT_FMA = path.join(OUT_DIR, 'kernels-fma.wasm');
const STAMP = `${OUT}.stamp`;
const FLAGS = [
  '-O3',
  '--enable',
  'simd',
  '--runtime',
  'stub',
  '--importMemory',
  '--noExportMemory',
  '--initialMemory',
  '0',
  '--use',
  'abort=',
  '--noAssert',
];
/** Each output and the features it is compiled with (kernels.ts reads ASC_FEATURE_RELAXED_SIMD). */
const OUTPUTS = [
  [OUT, []],
  [OUT_FMA, ['--enable', 'relaxed-simd']],
];

/** What the output depends on: every source in lib/assembly (names and contents), the compiler's version and the flags. */
function stampOf() {
  const asc = require(path.join(ROOT, 'node_modules', 'assemblyscript', 'package.json')).version;
  const hash = crypto.createHash('sha256');
  for (const name of fs
    .readdirSync(SOURCE_DIR)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    hash
      .update(name)
      .update('\0')
      .update(fs.readFileSync(path.join(SOURCE_DIR, name)))
      .update('\0');
  }
  return hash
    .update(asc)
    .update(JSON.stringify([FLAGS, OUTPUTS.map(([out, extra]) => [path.basename(out), extra])]))
    .digest('hex');
}

function upToDate() {
  try {
    return OUTPUTS.every(([out]) => fs.existsSync(out)) && fs.readFileSync(STAMP, 'utf8') === stampOf();
  } catch {
    return false;
  }
}

/** The ids of the sections of a WebAssembly binary (11 is data, 2 imports). */
function sectionIds(bytes) {
  const ids = [];
  let i = 8;
  const leb = () => {
    let v = 0,
      shift = 0,
      b;
    do {
      b = bytes[i++];
      v |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return v;
  };
  while (i < bytes.length) {
    const id = bytes[i++];
    const size = leb();
    ids.push(id);
    i += size;
  }
  return ids;
}

/**
 * Let this Node.js compile relaxed SIMD (kernels-fma.wasm). Node.js 20's V8 (11.3) has it complete
 * behind a flag; V8 11.4 shipped it (Chrome 114, Node.js 22), where this changes nothing. The flag is
 * set through Node's public `v8.setFlagsFromString`; it only widens what later modules may use.
 */
function allowRelaxedSimd() {
  require('v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
}

function check(bytes) {
  allowRelaxedSimd();
  const mod = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(mod).map((m) => `${m.module}.${m.name}`);
  if (imports.join() !== 'env.memory')
    throw new Error(`the kernels import ${imports.join(', ')}; only env.memory is allowed`);
  if (sectionIds(bytes).includes(11))
    throw new Error(
      'the kernels have a data section: they would overwrite TensorFlow.js memory (avoid strings and Math.* tables)',
    );
}

function build({ force = false } = {}) {
  if (!force && upToDate()) return false;
  const asc = path.join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  if (!fs.existsSync(asc)) throw new Error('assemblyscript is not installed: run `npm ci` in the project folder.');
  fs.mkdirSync(OUT_DIR, { recursive: true });
  for (const [out, extra] of OUTPUTS) {
    const tmp = `${out}.tmp-${process.pid}`;
    const r = spawnSync(process.execPath, [asc, path.relative(ROOT, SOURCE), ...FLAGS, ...extra, '-o', tmp], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      fs.rmSync(tmp, { force: true });
      throw new Error(
        `compiling ${path.relative(ROOT, SOURCE)} (${path.basename(out)}) failed:\n${r.stderr || r.stdout}`,
      );
    }
    try {
      check(fs.readFileSync(tmp));
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    fs.renameSync(tmp, out);
  }
  fs.writeFileSync(STAMP, stampOf());
  return true;
}

module.exports = { build, upToDate, allowRelaxedSimd, OUT, OUT_FMA };
