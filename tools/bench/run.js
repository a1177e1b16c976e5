#!/usr/bin/env node
// `npm run bench`: the same work on every available TensorFlow.js backend and in PyTorch, in one
// run, each in its own process; prints a table of medians (with min-max spread) and the speed
// relative to PyTorch, and saves it as dist/bench.json. Not a test: nothing is asserted.
//
//   npm run bench [-- --repeats 5] [--full] [--eager-notebook] [--install-torch] [--works bn-mlp,deep-ud,eval-train,edited,probe,live-chart]
//
// --full adds the whole full profile of one stage notebook (200,000 steps; about a minute per column,
// and PyTorch two); --eager-notebook also runs it on the eager TensorFlow.js path (4.5 minutes).
// --install-torch installs torch==2.13.0 (CPU) into .venv when it is missing.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { ROOT, venvPython, jupyterEnv, log } = require('../common');

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const repeats = Number(option('--repeats', '5'));
const works = option('--works', 'bn-mlp,deep-ud,eval-train,edited,probe,live-chart')
  .split(',')
  .concat(flag('--full') ? ['notebook'] : []);
const names = process.env.MAKEMORE_NAMES ?? path.join(ROOT, 'data', 'names.txt');
// Columns: each backend; on wasm also the eager TensorFlow.js path (compiling turned off).
const COLUMNS = {
  tensorflow: { MAKEMORE_BACKEND: 'tensorflow' },
  wasm: { MAKEMORE_BACKEND: 'wasm' },
  'wasm-eager': { MAKEMORE_BACKEND: 'wasm', MAKEMORE_COMPILE: '0' },
  cpu: { MAKEMORE_BACKEND: 'cpu' },
};
const BACKENDS = (process.env.MAKEMORE_BENCH_BACKENDS ?? Object.keys(COLUMNS).join(',')).split(',');
// Native TensorFlow is optional (its install downloads libtensorflow): by default its column is left
// out, with one line, where the package is missing; asked for by name, it shows its error.
if (!process.env.MAKEMORE_BENCH_BACKENDS && !resolves('@tensorflow/tfjs-node')) {
  BACKENDS.splice(BACKENDS.indexOf('tensorflow'), 1);
  log('@tensorflow/tfjs-node is not installed: no tensorflow column (tools/install-native-tensorflow.sh adds it).');
}

function resolves(name) {
  try {
    require.resolve(name, { paths: [ROOT] });
    return true;
  } catch {
    return false;
  }
}

function torchAvailable() {
  const r = spawnSync(venvPython(), ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

let torch = torchAvailable();
if (!torch && flag('--install-torch')) {
  log('installing torch==2.13.0 (CPU) into .venv ...');
  spawnSync(venvPython(), ['-m', 'pip', 'install', '-q', 'torch==2.13.0'], { stdio: 'inherit' });
  torch = torchAvailable();
}
if (!torch)
  log('PyTorch is not installed in .venv: its column is skipped. Run `npm run bench -- --install-torch` to add it.');

function runOne(label, cmd, cmdArgs, env) {
  const r = spawnSync(cmd, cmdArgs, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 24,
  });
  const line = (r.stdout || '')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (r.status !== 0 || !line)
    return { error: ((r.stderr || r.stdout || '').trim().split('\n').pop() || `exit ${r.status}`).slice(0, 160) };
  return JSON.parse(line);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const results = [];
const t0 = Date.now();
for (const work of works.filter((w) => w !== 'live-chart')) {
  const reps = work === 'notebook' ? 1 : repeats;
  if (torch) {
    log(`${work}: torch ...`);
    results.push({
      work,
      column: 'torch',
      ...runOne('torch', venvPython(), [path.join(__dirname, 'torch_work.py'), work, String(reps), names]),
    });
  }
  for (const backend of BACKENDS) {
    if (work === 'notebook' && backend === 'wasm-eager' && !flag('--eager-notebook')) {
      results.push({ work, column: backend, error: 'skipped: about 4.5 min; --eager-notebook runs it' });
      continue;
    }
    log(`${work}: ${backend} ...`);
    results.push({
      work,
      column: backend,
      ...runOne(backend, process.execPath, ['--import', 'tsx', path.join(__dirname, 'work.ts'), work, String(reps)], {
        MAKEMORE_COMPILE: '1',
        ...COLUMNS[backend],
        MAKEMORE_NAMES: names,
      }),
    });
  }
}

// live-chart: the live loss chart's cost, in a real kernel (Jupyter's, through the project's kernel spec):
// the batch-norm MLP trained in a notebook cell with its progress line and chart, and without either.
if (works.includes('live-chart')) {
  log('live-chart: a kernel, training with and without the progress line and chart ...');
  results.push({ work: 'live-chart', column: 'kernel', ...liveChartCost(repeats) });
}

function liveChartCost(reps) {
  const steps = 20000;
  // The cell times each run, and the time spent in the chart's and the progress line's code (wrapped
  // here, the library's own classes): that share is the cost, measured without the noise of two runs.
  const setup = [
    "import * as mm from './lib/index';",
    "import { LiveLossChart } from './lib/viz/livechart';",
    "import { LiveOutput } from './lib/viz/display';",
    'const data = await mm.loadData();',
    'let inside = 0, depth = 0;',
    'const timed = (proto, name) => { const f = proto[name]; proto[name] = function (...a) { const t0 = performance.now(); depth++;',
    '  try { return f.apply(this, a); } finally { depth--; if (depth === 0) inside += performance.now() - t0; } }; };',
    "timed(LiveLossChart.prototype, 'show'); timed(LiveOutput.prototype, 'update');",
    "const run = async (progress) => { const g = new mm.Generator(2147483647); const net = mm.stageNetwork('batchnorm', g); inside = 0;",
    `  const t0 = performance.now(); await mm.train({ parameters: net.parameters, loss: net.loss, data: data.train, steps: ${steps}, generator: g,`,
    '    learningRate: () => 0.1, printEvery: 0, progress }); const ms = performance.now() - t0;',
    "  net.dispose(); console.log(`run ${progress ? 'chart' : 'plain'} ${ms / " + steps + '} ${inside / ms}`); };',
    'await run(false);',
  ].join('\n');
  const cells = [{ execute: setup }];
  for (let i = 0; i < reps; i++) cells.push({ execute: 'await run(true);' }, { execute: 'await run(false);' });
  const out = path.join(require('os').tmpdir(), `makemore-bench-live-${process.pid}.json`);
  const r = spawnSync(venvPython(), [path.join(ROOT, 'test', 'helpers', 'kernel_session.py'), out], {
    cwd: ROOT,
    input: JSON.stringify(cells),
    encoding: 'utf8',
    env: { ...jupyterEnv({ MAKEMORE_NAMES: names }), MAKEMORE_BACKEND: 'wasm' },
    timeout: 20 * 60 * 1000,
  });
  if (r.status !== 0 || !fs.existsSync(out))
    return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').pop().slice(0, 160) };
  const text = JSON.parse(fs.readFileSync(out, 'utf8'))
    .flatMap((c) => c.outputs)
    .map((o) => o.text ?? '')
    .join('');
  fs.rmSync(out, { force: true });
  const runs = (kind) =>
    [...text.matchAll(new RegExp(`run ${kind} ([\\d.e-]+) ([\\d.e-]+)`, 'g'))].map((m) => [Number(m[1]), Number(m[2])]);
  const chart = runs('chart'),
    plain = runs('plain').slice(1); // the first plain run warmed up
  if (chart.length !== reps || plain.length !== reps)
    return { error: `the kernel printed ${chart.length} + ${plain.length} timings, not ${reps} each` };
  return {
    unit: 'ms/step',
    samples: chart.map((c) => c[0]),
    plain: plain.map((p) => p[0]),
    share: median(chart.map((c) => c[1])),
    peakMiB: NaN,
    liveTensors: null,
  };
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rows = [
  ['work', 'column', 'median', 'spread (min-max)', 'speed vs torch', 'first step', 'peak MiB', 'live tensors', 'step'],
];
for (const r of results) {
  if (r.error) {
    rows.push([
      r.work,
      r.column,
      'n/a',
      r.error.length > 70 ? `${r.error.slice(0, 69)}…` : r.error,
      '',
      '',
      '',
      '',
      '',
    ]);
    continue;
  }
  r.median = median(r.samples);
  const ref = results.find((x) => x.work === r.work && x.column === 'torch' && !x.error);
  r.speedVsTorch = ref ? median(ref.samples) / r.median : null;
  if (r.plain) r.chartCost = r.median / median(r.plain) - 1;
  rows.push([
    r.work,
    r.column,
    `${fmt(r.median)} ${r.unit}`,
    `${fmt(Math.min(...r.samples))}-${fmt(Math.max(...r.samples))} (n=${r.samples.length})`,
    r.chartCost !== undefined
      ? `${(100 * r.share).toFixed(2)}% in chart (${r.chartCost >= 0 ? '+' : ''}${(100 * r.chartCost).toFixed(1)}%)`
      : r.speedVsTorch === null
        ? ''
        : `${r.speedVsTorch.toFixed(2)}x`,
    r.firstStepMs ? `${fmt(median(r.firstStepMs))} ms` : '',
    Number.isFinite(r.peakMiB) ? r.peakMiB.toFixed(0) : '',
    r.liveTensors ?? '',
    r.compiled === undefined ? '' : r.compiled ? 'compiled' : 'tfjs ops',
  ]);
}
const widths = rows[0].map((_, j) => Math.max(...rows.map((row) => String(row[j]).length)));
console.log('\n' + rows.map((row) => row.map((c, j) => String(c).padEnd(widths[j])).join('  ')).join('\n'));
console.log(
  '\nms/step: the median over repeats of the time per step after the first; first step: its own time (here the trace,\n' +
    'compilation and check of the compiled step; in PyTorch the warm-up of its first step).',
);
console.log("speed vs torch = PyTorch's median time / this median time (above 1.0x: faster than PyTorch).");
console.log(
  'live-chart: 20,000 steps of bn-mlp in a notebook cell (a real kernel) with the progress line and live loss chart;\n' +
    "x% in chart: the share of the run spent in the chart's and the progress line's code; (+y%): the run's median time\n" +
    'against the same cell with progress: false, run alternately (noisier: two runs of a shared machine).',
);
console.log(
  "step: compiled = lib/compile's plan of WebAssembly SIMD kernels (the default); tfjs ops = one TensorFlow.js operation at a time.",
);
// Where the compiled step spends its time: ms per step per kind of kernel (a separate, profiled run).
for (const r of results.filter((x) => x.kernelTimes && !x.error)) {
  const top = Object.entries(r.kernelTimes).sort((a, b) => b[1] - a[1]);
  const total = top.reduce((s, [, ms]) => s + ms, 0);
  console.log(
    `kernels, ${r.work} on ${r.column} (${total.toFixed(3)} ms/step in kernels): ` +
      top
        .slice(0, 10)
        .map(([k, ms]) => `${k} ${ms.toFixed(3)}`)
        .join(', '),
  );
}
// The step-0 loss of the works that report one: the same generator streams on both sides, so it
// should agree with PyTorch's to float32 rounding.
for (const work of works) {
  const ref = results.find(
    (x) => x.work === work && x.column === 'torch' && !x.error && typeof x.firstLoss === 'number',
  );
  const mine = results.filter(
    (x) => x.work === work && x.column !== 'torch' && !x.error && typeof x.firstLoss === 'number',
  );
  if (!ref && mine.length === 0) continue;
  const cells = mine.map(
    (r) =>
      `${r.column} ${r.firstLoss.toFixed(6)}` +
      (ref ? ` (diff ${Math.abs(r.firstLoss - ref.firstLoss).toExponential(1)})` : ''),
  );
  console.log(
    `first loss, ${work}: ${ref ? `torch ${ref.firstLoss.toFixed(6)}` : 'torch n/a'}${cells.length ? ', ' + cells.join(', ') : ''}`,
  );
}
const out = path.join(ROOT, 'dist', 'bench.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(
  out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      repeats,
      torch,
      node: process.version,
      cpu: require('os').cpus()[0].model,
      seconds: (Date.now() - t0) / 1000,
      results,
    },
    null,
    1,
  ),
);
log(`saved ${path.relative(ROOT, out)}`);
