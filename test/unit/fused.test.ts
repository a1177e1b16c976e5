// The fused training step (lib/fused.ts, lib/assembly/kernels.ts): its kernels against float64
// references, and whole training runs against the TensorFlow.js path, which the other tests check
// against PyTorch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { loadNames } from '../../lib/names';
import { splitDataset, Split } from '../../lib/data';
import { Generator } from '../../lib/random';
import { evaluate, train, TrainResult } from '../../lib/train';
import { DeepNetwork, DeepNetworkOptions, stageNetwork, Stage } from '../../lib/models';
import { retainGrad } from '../../lib/layers';
import { describeNetwork } from '../../lib/fused';
import { kernelHost } from '../../lib/wasm';
import * as diag from '../../lib/diagnostics';
import { NAMES_FILE } from '../helpers/paths';

let split: Split;
before(async () => {
  await initBackend();
  split = splitDataset(await loadNames({ file: NAMES_FILE }), 3, 42);
});
after(() => { delete process.env.MAKEMORE_FUSED; });

const SEED = 2147483647;

/** Float32 data in the kernels' memory, freed after `f`. */
function withBuffers<T>(arrays: (Float32Array | Int32Array)[], f: (addresses: number[], heap: () => Float32Array) => T): T {
  const shared = kernelHost();
  const addresses = arrays.map((a) => shared.malloc(a.length * 4 + 32));
  try {
    addresses.forEach((address, k) => {
      const a = arrays[k];
      const view = a instanceof Int32Array ? new Int32Array(shared.memory.buffer) : new Float32Array(shared.memory.buffer);
      view.set(a, address >> 2);
    });
    return f(addresses, () => new Float32Array(shared.memory.buffer));
  } finally {
    addresses.forEach((a) => shared.free(a));
  }
}

const randomArray = (g: Generator, n: number) => Float32Array.from(g.randn(n));

test('matmul kernel: x @ w + b equals the float64 product, for shapes that are not multiples of the SIMD blocks', () => {
  const k = kernelHost().kernels;
  const g = new Generator(1);
  for (const [M, K, N] of [[1, 1, 1], [3, 5, 7], [5, 30, 27], [32, 200, 27], [7, 9, 13], [33, 17, 9], [4, 8, 8]]) {
    for (const withBias of [false, true]) {
      const x = randomArray(g, M * K), w = randomArray(g, K * N), b = randomArray(g, N);
      const y = withBuffers([x, w, b, new Float32Array(M * N)], ([px, pw, pb, py], heap) => {
        k.matmul(px, pw, withBias ? pb : 0, py, M, K, N);
        return heap().slice(py >> 2, (py >> 2) + M * N);
      });
      let worst = 0;
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = withBias ? b[j] : 0, scale = Math.abs(s);
          for (let q = 0; q < K; q++) { s += x[i * K + q] * w[q * N + j]; scale += Math.abs(x[i * K + q] * w[q * N + j]); }
          // float32 sums of K terms: error at most about K ulps of the sum of magnitudes
          worst = Math.max(worst, Math.abs(y[i * N + j] - s) / (scale * (K + 1) * 2 ** -24));
        }
      }
      assert.ok(worst <= 1, `[${M}, ${K}] @ [${K}, ${N}]${withBias ? ' + b' : ''}: error ${worst} of the bound`);
    }
  }
});

test('matmulTN kernel: x^T @ w for x stored [K, M] equals the float64 product', () => {
  const k = kernelHost().kernels;
  const g = new Generator(3);
  for (const [M, K, N] of [[1, 1, 1], [30, 32, 200], [200, 32, 27], [7, 5, 13]]) {
    const x = randomArray(g, K * M), w = randomArray(g, K * N);
    const y = withBuffers([x, w, new Float32Array(M * N)], ([px, pw, py], heap) => {
      k.matmulTN(px, pw, py, M, K, N);
      return heap().slice(py >> 2, (py >> 2) + M * N);
    });
    let worst = 0;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0, scale = 0;
        for (let q = 0; q < K; q++) { s += x[q * M + i] * w[q * N + j]; scale += Math.abs(x[q * M + i] * w[q * N + j]); }
        worst = Math.max(worst, Math.abs(y[i * N + j] - s) / (scale * (K + 1) * 2 ** -24));
      }
    }
    assert.ok(worst <= 1, `[${K}, ${M}]^T @ [${K}, ${N}]: error ${worst} of the bound`);
  }
});

test('std kernel: the unbiased standard deviation in float64, as diagnostics.std', () => {
  const k = kernelHost().kernels;
  const g = new Generator(4);
  for (const n of [2, 3, 5, 27, 3000, 20001]) {
    const x = Float32Array.from(g.randn(n), (v) => 0.01 * v + 0.5);
    const got = withBuffers([x], ([px]) => k.std(px, n));
    const want = diag.std(x);
    assert.ok(Math.abs(got - want) <= 1e-12 * want, `n = ${n}: ${got} vs ${want}`);
  }
});

test('tanh kernel: within 2 float32 ulps of tanh, with the right sign, 0 and 1 at the ends', () => {
  const k = kernelHost().kernels;
  const xs: number[] = [0, -0, 1e-30, -1e-30, 0.625, -0.625, Math.fround(0.625 - 1e-7), 9, 20, -20, 100, -1e4];
  for (let i = 0; i <= 200000; i++) xs.push(-12 + (24 * i) / 200000);
  const x = Float32Array.from(xs);
  const y = withBuffers([x, new Float32Array(x.length)], ([px, py], heap) => {
    k.tanhForward(px, py, x.length);
    return heap().slice(py >> 2, (py >> 2) + x.length);
  });
  let worst = 0;
  x.forEach((v, i) => {
    const exact = Math.tanh(v);
    const ulp = Math.max(2 ** -149, 2 ** (Math.floor(Math.log2(Math.abs(Math.fround(exact)) || 2 ** -126)) - 23));
    worst = Math.max(worst, Math.abs(y[i] - exact) / ulp);
  });
  assert.ok(worst <= 2, `worst error ${worst} ulps`);
  assert.equal(y[xs.indexOf(20)], 1);
  assert.equal(y[xs.indexOf(-1e4)], -1);
  assert.equal(y[0], 0);
});

test('cross-entropy kernel: loss and gradient of float64 softmax, logits in the thousands included', () => {
  const k = kernelHost().kernels;
  const g = new Generator(2);
  for (const scale of [0.01, 1, 30, 3000]) {
    const B = 5, V = 27;
    const logits = Float32Array.from(g.randn(B * V), (v) => v * scale);
    const Y = Int32Array.from({ length: B }, (_, b) => (b * 7) % V);
    const [loss, grad] = withBuffers([logits, Y, new Float32Array(B * V)], ([pl, py, pd], heap) =>
      [k.crossEntropy(pl, py, pd, B, V), heap().slice(pd >> 2, (pd >> 2) + B * V)] as const);
    let expected = 0;
    for (let b = 0; b < B; b++) {
      const row = Array.from(logits.subarray(b * V, b * V + V));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      expected += (lse - row[Y[b]]) / B;
      row.forEach((v, j) => {
        const want = (Math.exp(v - lse) - (j === Y[b] ? 1 : 0)) / B;
        assert.ok(Math.abs(grad[b * V + j] - want) <= 1e-7 * Math.max(1e-3, Math.abs(want)) + 1e-12, `scale ${scale} grad ${grad[b * V + j]} vs ${want}`);
      });
    }
    assert.ok(Math.abs(loss - expected) <= 1e-12 * Math.max(1, expected), `scale ${scale}: ${loss} vs ${expected}`);
  }
});

/** Train a fresh network on one path; returns the run, the parameters after it and the network. */
async function run(make: (g: Generator) => { parameters: tf.Variable[]; loss: object; dispose(): void },
  fused: boolean, steps: number, extra: Partial<Parameters<typeof train>[0]> = {}) {
  process.env.MAKEMORE_FUSED = fused ? '1' : '0';
  const g = new Generator(SEED);
  const net = make(g);
  const result: TrainResult = await train({ parameters: net.parameters, loss: net.loss as never, data: split.train, steps,
    generator: g, learningRate: (i) => (i < steps / 2 ? 0.1 : 0.01), printEvery: 0, progress: false, trackUpdateRatios: true, ...extra });
  const params = net.parameters.map((p) => p.dataSync().slice());
  delete process.env.MAKEMORE_FUSED;
  return { result, params, net };
}

function compareRuns(label: string, a: Awaited<ReturnType<typeof run>>, b: Awaited<ReturnType<typeof run>>, tol: { loss: number; param: number; ud: number }) {
  assert.equal(a.result.fused, false, `${label}: reference path`);
  assert.equal(b.result.fused, true, `${label}: fused path`);
  a.result.lossi.forEach((l, i) => {
    const la = 10 ** l, lb = 10 ** b.result.lossi[i];
    assert.ok(Math.abs(la - lb) <= tol.loss * Math.max(1, la), `${label}, step ${i}: loss ${lb} vs ${la}`);
  });
  a.params.forEach((pa, j) => pa.forEach((v, i) =>
    assert.ok(Math.abs(v - b.params[j][i]) <= tol.param, `${label}: parameter ${j}[${i}] ${b.params[j][i]} vs ${v}`)));
  a.result.ud.forEach((row, i) => row.forEach((v, j) =>
    assert.ok(Math.abs(v - b.result.ud[i][j]) <= tol.ud, `${label}, step ${i}: update ratio ${j} ${b.result.ud[i][j]} vs ${v}`)));
}

// Both paths compute in float32 and sum in different orders: a few ulps per step, which 200 steps of
// SGD carry along without growing (observed: 1e-6 on losses and parameters). The original stage is
// the exception: its saturated tanh layer amplifies last-bit differences (one flipped saturation
// changes a step), so it is compared over its first 10 steps only.
const TOL = { loss: 2e-5, param: 2e-5, ud: 2e-4 };

for (const stage of ['original', 'fix_softmax', 'fix_tanh', 'kaiming', 'batchnorm'] as Stage[]) {
  test(`stage "${stage}": the fused step trains as the TensorFlow.js path does`, async () => {
    const make = (g: Generator) => stageNetwork(stage, g);
    const steps = stage === 'original' ? 10 : 200;
    const a = await run(make, false, steps);
    const b = await run(make, true, steps);
    compareRuns(stage, a, b, TOL);
    a.net.dispose();
    b.net.dispose();
  });
}

const deepVariants: [string, Partial<DeepNetworkOptions>][] = [
  ['batch norm, gain 5/3', {}],
  ['no batch norm', { batchNorm: false }],
  ['no tanh (fully linear), gain 1', { tanh: false, batchNorm: false, gain: 1 }],
  ['batch norm, gain 0.2, 2 hidden layers of 64', { gain: 0.2, hiddenLayers: 2, nHidden: 64 }],
];
for (const [label, options] of deepVariants) {
  test(`deep network (${label}): the fused step trains as the TensorFlow.js path, .out and .outGrad included`, async () => {
    const make = (g: Generator) => {
      const net = new DeepNetwork({ generator: g, ...options });
      retainGrad(net.layers);
      return { parameters: net.parameters(), loss: net.loss, dispose: () => net.dispose(), layers: net.layers };
    };
    const a = await run(make, false, 100);
    const b = await run(make, true, 100);
    compareRuns(label, a, b, TOL);
    const la = (a.net as ReturnType<typeof make>).layers, lb = (b.net as ReturnType<typeof make>).layers;
    la.forEach((layer, i) => {
      for (const key of ['out', 'outGrad'] as const) {
        const x = layer[key]!.dataSync(), y = lb[i][key]!.dataSync();
        assert.deepEqual(lb[i][key]!.shape, layer[key]!.shape);
        const scale = Math.max(...Array.from(x, Math.abs));
        x.forEach((v, j) => assert.ok(Math.abs(v - y[j]) <= 1e-4 * scale, `layer ${i} ${key}[${j}]: ${y[j]} vs ${v}`));
      }
    });
    a.net.dispose();
    b.net.dispose();
  });
}

test('a NaN or infinite loss stops the fused step where the TensorFlow.js path stops, before the update', async () => {
  const stops: { message: string; params: number[][]; last: number[][] }[] = [];
  for (const fused of [false, true]) {
    let last: number[][] = [];
    const make = (g: Generator) => {
      const net = new DeepNetwork({ generator: g, batchNorm: false, hiddenLayers: 2 });
      return { parameters: net.parameters(), loss: net.loss, dispose: () => net.dispose() };
    };
    process.env.MAKEMORE_FUSED = fused ? '1' : '0';
    const g = new Generator(SEED);
    const net = make(g);
    const error = await train({ parameters: net.parameters, loss: net.loss, data: split.train, steps: 50, generator: g,
      learningRate: () => 1e38, printEvery: 0, progress: false,
      afterStep: () => { last = net.parameters.map((p) => Array.from(p.dataSync())); } }).then(() => undefined, (e: Error) => e);
    delete process.env.MAKEMORE_FUSED;
    assert.ok(error, `${fused ? 'fused' : 'reference'}: training with lr 1e38 should stop`);
    stops.push({ message: error.message, params: net.parameters.map((p) => Array.from(p.dataSync())), last });
    net.dispose();
  }
  assert.match(stops[1].message, /^The loss is (NaN|Infinity) at step \d+ \(learning rate 1e\+38\): training stopped before this step's update/);
  // the same step; whether an overflowing loss comes out NaN or Infinity depends on the backend's arithmetic
  const stepOf = (m: string) => /at step (\d+)/.exec(m)?.[1];
  assert.match(stops[0].message, /^The loss is (NaN|Infinity) at step \d+/);
  assert.equal(stepOf(stops[1].message), stepOf(stops[0].message));
  // the parameters are those after the previous step
  stops.forEach((s) => s.params.forEach((p, j) => assert.deepEqual(p, s.last[j])));
});

test('a loss that is not the network described for it trains on the TensorFlow.js path, with a warning', async () => {
  const g = new Generator(SEED);
  const net = stageNetwork('kaiming', g);
  // twice the logits: a different loss from the network described for net.loss
  const sharper = (X: tf.Tensor2D, Y: tf.Tensor1D, training: boolean) => net.loss(X, Y, training).mul(2) as tf.Scalar;
  describeNetwork(sharper, () => ({ embedding: net.named.C, layers: [
    { kind: 'linear', weight: net.named.W1, bias: net.named.b1 }, { kind: 'tanh' }, { kind: 'linear', weight: net.named.W2, bias: net.named.b2 }] }));
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    const r = await train({ parameters: net.parameters, loss: sharper, data: split.train, steps: 3, generator: g,
      learningRate: () => 0.1, printEvery: 0, progress: false });
    assert.equal(r.fused, false);
    assert.ok(Math.abs(10 ** r.lossi[0] - 2 * 3.3179) < 1e-3, `step-0 loss ${10 ** r.lossi[0]} is twice the Kaiming stage's`);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /the network described for it is not this loss\. Training with TensorFlow\.js instead/);
  net.dispose();
});

test('the fused step writes in place only into its own parameters: a tensor sharing their data is left alone', async () => {
  const g = new Generator(SEED);
  const net = stageNetwork('batchnorm', g);
  const alias = tf.clone(net.named.W1);   // shares W1's data in TensorFlow.js
  const before = alias.dataSync().slice();
  const r = await train({ parameters: net.parameters, loss: net.loss, data: split.train, steps: 5, generator: g,
    learningRate: () => 0.1, printEvery: 0, progress: false });
  assert.equal(r.fused, true);
  assert.deepEqual(Array.from(alias.dataSync()), Array.from(before), 'the alias still holds the initial W1');
  assert.notDeepEqual(Array.from(net.named.W1.dataSync()), Array.from(before), 'W1 was trained');
  alias.dispose();
  net.dispose();
});

test('MAKEMORE_FUSED=0 turns the fused step off', async () => {
  const a = await run((g) => stageNetwork('batchnorm', g), false, 2);
  assert.equal(a.result.fused, false);
  a.net.dispose();
});

test('evaluate: the fused forward pass in evaluation mode gives the TensorFlow.js path\'s loss on a whole split', async () => {
  const makers: [string, (g: Generator) => { parameters: tf.Variable[]; loss: object; dispose(): void }][] = [
    ['kaiming stage', (g) => stageNetwork('kaiming', g)],
    ['batch-norm stage', (g) => stageNetwork('batchnorm', g)],
    ['deep network', (g) => { const net = new DeepNetwork({ generator: g }); return { parameters: net.parameters(), loss: net.loss, dispose: () => net.dispose() }; }],
  ];
  for (const [label, make] of makers) {
    // 300 steps, so that the running estimates of batch norm are not their initial values
    const { net } = await run(make, true, 300);
    const loss = net.loss as Parameters<typeof evaluate>[0];
    process.env.MAKEMORE_FUSED = '0';
    const reference = evaluate(loss, split.dev);
    delete process.env.MAKEMORE_FUSED;
    const before = tf.memory().numTensors;
    const fused = evaluate(loss, split.dev);
    assert.equal(tf.memory().numTensors, before, `${label}: no tensor left behind`);
    // a mean of 22,655 float32 losses, summed in float64 by one path and in float32 chunks by the other
    assert.ok(Math.abs(fused - reference) <= 1e-5 * reference, `${label}: ${fused} vs ${reference}`);
    net.dispose();
  }
});

test('on another backend (cpu) the fused step works on its own memory: same training, callbacks see and change the parameters', async () => {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    assert.equal(kernelHost().shared, false);
    const runs: { r: Awaited<ReturnType<typeof run>>; seen: number[] }[] = [];
    for (const fused of [false, true]) {
      const seen: number[] = [];
      let gamma: tf.Variable | undefined;   // the last batch norm's gamma
      const make = (g: Generator) => {
        const net = new DeepNetwork({ generator: g, hiddenLayers: 2, nHidden: 32 });
        const params = net.parameters();
        gamma = params[params.length - 2];
        return { parameters: params, loss: net.loss, dispose: () => net.dispose() };
      };
      const r = await run(make, fused, 20, {
        afterStep: (i) => {
          seen.push(gamma!.dataSync()[0]);
          if (i === 10) gamma!.assign(tf.onesLike(gamma!));   // a change made by a callback is trained on
        },
      });
      runs.push({ r, seen });
      r.net.dispose();
    }
    assert.equal(runs[1].r.result.fused, true);
    compareRuns('cpu backend', runs[0].r, runs[1].r, TOL);
    assert.equal(runs[1].seen.length, 20);
    runs[0].seen.forEach((v, i) => assert.ok(Math.abs(v - runs[1].seen[i]) <= 1e-5, `step ${i}: callback saw ${runs[1].seen[i]} vs ${v}`));
    assert.ok(runs[1].seen[9] < 0.2 && runs[1].seen[11] > 0.9, `gamma was reset to 1 at step 10: ${runs[1].seen}`);
  } finally {
    await tf.setBackend(previous);
  }
});

test('after fused training, TensorFlow.js operations see the trained weights (no stale packed copy in the matrix product)', async () => {
  // The wasm backend's matMul keeps a packed copy of every weight matrix it has used, keyed by the
  // tensor: train() checks the fused step against TensorFlow.js on the first minibatch (so W1 and W2
  // get packed), then updates them in place; the tensors must be new afterwards.
  const g = new Generator(SEED);
  const net = stageNetwork('kaiming', g);
  const r = await train({ parameters: net.parameters, loss: net.loss, data: split.train, steps: 500, generator: g,
    learningRate: () => 0.1, printEvery: 0, progress: false });
  assert.equal(r.fused, true);
  const rows = Int32Array.from({ length: 32 }, (_, i) => i);
  const T = split.dev.blockSize;
  const X = tf.tensor2d(split.dev.X.subarray(0, 32 * T), [32, T], 'int32');
  const Y = tf.tensor1d(split.dev.Y.subarray(0, 32), 'int32');
  const viaVariables = tf.tidy(() => net.loss(X, Y, false).dataSync()[0]);
  // the same forward pass on fresh tensors holding the variables' values
  const fresh = Object.fromEntries(Object.entries(net.named).map(([k, v]) => [k, tf.tensor(v.dataSync(), v.shape)]));
  const viaCopies = tf.tidy(() => {
    const h = (tf.oneHot(X.reshape([32 * T]) as tf.Tensor1D, 27).toFloat().matMul(fresh.C).reshape([32, T * 10]) as tf.Tensor2D)
      .matMul(fresh.W1).add(fresh.b1).tanh();
    const logits = h.matMul(fresh.W2).add(fresh.b2);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(Y, 27).toFloat(), logits).dataSync()[0];
  });
  assert.ok(rows.length === 32 && Math.abs(viaVariables - viaCopies) < 1e-5, `${viaVariables} vs ${viaCopies}`);
  [X, Y, ...Object.values(fresh)].forEach((t) => t.dispose());
  net.dispose();
});
