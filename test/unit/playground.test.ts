// What the playground (dist/playground.html) needs from the library, on node: its settings read and
// checked as the page does, and the kernels' module given as bytes (`useKernelModule`, how the
// browser bundle carries them) training exactly as the file does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../lib/env/backend';
import { useKernelModule } from '../../lib/compile/simd';
import { splitDataset, Dataset } from '../../lib/data/dataset';
import { DeepNetwork } from '../../lib/nn/models';
import { loadNames } from '../../lib/data/names';
import { Generator } from '../../lib/tensor/random';
import { train } from '../../lib/train/loop';
import { DEFAULTS, readSettings, parseNumber } from '../../playground/settings';
import { NAMES_FILE, ROOT } from '../helpers/paths';

const KERNELS = path.join(ROOT, 'lib', 'assembly', 'build', 'kernels.wasm');
const KERNELS_FMA = path.join(ROOT, 'lib', 'assembly', 'build', 'kernels-fma.wasm');
const bytesOf = (file: string) => new Uint8Array(fs.readFileSync(file));
let trainSet: Dataset;

before(async () => {
  await initBackend();
  trainSet = splitDataset(await loadNames({ file: NAMES_FILE }), 3, 42).train;
});
// The other tests of this process read the file again.
after(() => useKernelModule(bytesOf(KERNELS), bytesOf(KERNELS_FMA)));

test("the defaults are the lecture's deep network; 5/3 is the same number as in lib/nn/models.ts", () => {
  const read = readSettings(DEFAULTS);
  assert.ok('settings' in read);
  assert.deepEqual(read.settings, {
    gain: 5 / 3,
    batchNorm: true,
    tanh: true,
    learningRate: 0.1,
    hiddenLayers: 5,
    hiddenWidth: 100,
    steps: 1001,
    seed: 2147483647n,
  });
  assert.equal(parseNumber(' 1e-3 '), 0.001);
  assert.equal(parseNumber('.5'), 0.5);
  for (const text of ['', '5/', '/3', '1/2/3', 'five', '0x10', '1,5', 'Infinity'])
    assert.ok(Number.isNaN(parseNumber(text)), text);
});

test('bad settings: one message per wrong field, nothing else', () => {
  const read = readSettings({ ...DEFAULTS, learningRate: '0', steps: '1000000000', hiddenWidth: '0', seed: '-1' });
  assert.ok('errors' in read);
  assert.deepEqual(read.errors, [
    'Learning rate: "0" is not a number above 0 and at most 10 (at 0 the weights never change).',
    'Hidden width: "0" is not a whole number from 1 to 1,000.',
    'Steps: "1000000000" is not a whole number from 1 to 5,000.',
    'Seed: "-1" is not a whole number from 0 to 2^64 - 1.',
  ]);
  const edges: [Partial<typeof DEFAULTS>, boolean][] = [
    [{ steps: '5000' }, true],
    [{ steps: '5001' }, false],
    [{ steps: '2.5' }, false],
    [{ hiddenLayers: '0' }, false],
    [{ hiddenLayers: '10' }, true],
    [{ gain: '0' }, false],
    [{ gain: '1/0' }, false],
    [{ learningRate: '-0.1' }, false],
    [{ seed: '18446744073709551615' }, true],
    [{ seed: '18446744073709551616' }, false],
    [{ seed: '1.5' }, false],
  ];
  for (const [change, ok] of edges)
    assert.equal('settings' in readSettings({ ...DEFAULTS, ...change }), ok, JSON.stringify(change));
});

/** The losses of 30 steps of the deep network from the lecture's seed, compiled. */
async function losses(): Promise<number[]> {
  const g = new Generator(2147483647);
  const net = new DeepNetwork({ generator: g });
  try {
    const run = await train({
      parameters: net.parameters(),
      loss: net.loss,
      data: trainSet,
      generator: g,
      steps: 30,
      learningRate: () => 0.1,
      printEvery: 0,
      progress: false,
    });
    assert.ok(run.compiled);
    return run.lossi;
  } finally {
    net.dispose();
  }
}

test('useKernelModule: the kernels given as bytes train as the file does, and are the ones used', async () => {
  const fromFile = await losses();
  // Both builds, as the page gives them: the same choice as from the files, so the same losses.
  useKernelModule(bytesOf(KERNELS), bytesOf(KERNELS_FMA));
  assert.deepEqual(await losses(), fromFile);
  // Bytes that are not a module: the next plan fails to build, so they were used.
  useKernelModule(new Uint8Array([0, 97, 115, 109, 99, 99, 99, 99]));
  await assert.rejects(losses(), /WebAssembly|wasm|magic|version/i);
});
