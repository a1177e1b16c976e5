// The compiler of training steps (lib/compile): each kernel against TensorFlow.js's on random shapes
// with broadcasting, forward and gradient; whole runs compiled against eager; the plan cache; the
// first-step check catching a wrong kernel; a NaN stop leaving every variable as after the last step;
// kernels the compiler lacks running through TensorFlow.js; evaluation against a float64 reference.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { loadNames } from '../../lib/data/names';
import { splitDataset, Split, Dataset } from '../../lib/data/dataset';
import { Generator } from '../../lib/tensor/random';
import { LossFn, evaluate, sgdStep, train } from '../../lib/train/loop';
import { crossEntropy, embed, parameter, randn } from '../../lib/tensor/ops';
import { DeepNetwork, stageNetwork, StageNetwork } from '../../lib/nn/models';
import { compiledStep, testing, CompileCheckError } from '../../lib/compile/step';
import { retainGrad } from '../../lib/nn/layers';
import { NAMES_FILE } from '../helpers/paths';
import { maxAbs, maxAbsDiff } from '../helpers/expected';

let split: Split;
before(async () => {
  await initBackend();
  split = splitDataset(await loadNames({ file: NAMES_FILE }), 3, 42);
});
after(() => {
  delete process.env.MAKEMORE_COMPILE;
});

const SEED = 2147483647;

/** Run `f` with compiling on or off. */
async function withCompile<T>(on: boolean, f: () => Promise<T> | T): Promise<T> {
  const before = process.env.MAKEMORE_COMPILE;
  process.env.MAKEMORE_COMPILE = on ? '1' : '0';
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env.MAKEMORE_COMPILE;
    else process.env.MAKEMORE_COMPILE = before;
  }
}

/** A minibatch of the training split (the compiled step's inputs, even when the loss ignores them). */
function minibatch(data: Dataset, rows: number) {
  const ix = Int32Array.from({ length: rows }, (_, i) => (i * 7919) % data.size);
  const T = data.blockSize;
  const X = tf.tensor2d(
    Int32Array.from(Array.from(ix).flatMap((r) => Array.from(data.X.subarray(r * T, r * T + T)))),
    [rows, T],
    'int32',
  );
  const Y = tf.tensor1d(
    Int32Array.from(ix, (r) => data.Y[r]),
    'int32',
  );
  return { X, Y, ix };
}

/**
 * Compile `loss` with gradients for `params`, run it once on the traced minibatch, and compare its loss
 * and gradients with TensorFlow.js's, computed eagerly here (independently of the compiler's own check).
 */
function compareWithEager(loss: LossFn, params: tf.Variable[], what: string) {
  const { X, Y, ix } = minibatch(split.train, 8);
  const eager = tf.variableGrads(() => loss(X, Y, true), params);
  const want = { loss: eager.value.dataSync()[0], grads: params.map((p) => eager.grads[p.name].dataSync().slice()) };
  tf.dispose([eager.value, ...Object.values(eager.grads)]);
  const { step } = compiledStep(loss, X, Y, true, params);
  step.reload();
  step.load(split.train.X, split.train.Y, ix);
  const got = step.forward(); // the first run: checked against the eager step
  const grads = step.grads();
  // Float32 arithmetic in another order and other polynomial approximations: 1e-4 relative to the
  // largest value (a wrong kernel is off by far more).
  assert.ok(
    Math.abs(got - want.loss) <= 1e-4 * Math.max(1, Math.abs(want.loss)),
    `${what}: loss ${got} vs ${want.loss}`,
  );
  params.forEach((p, k) => {
    const g = grads[p.name].dataSync();
    assert.ok(
      maxAbsDiff(g, want.grads[k]) <= 1e-4 * Math.max(1e-6, maxAbs(want.grads[k])),
      `${what}: gradient of ${p.name} differs by ${maxAbsDiff(g, want.grads[k])} (largest ${maxAbs(want.grads[k])})`,
    );
  });
  tf.dispose([X, Y, ...Object.values(grads)]);
  return step;
}

/** Random shapes of rank 1 to 3 and a shape that broadcasts against it (some axes 1 or missing). */
function shapes(g: Generator, sameRank = false): [number[], number[]] {
  const r = () => Math.floor(g.random() * 1e9);
  const rank = 1 + (r() % 3);
  const full = Array.from({ length: rank }, () => [1, 3, 7, 33][r() % 4]);
  const other = full.map((d) => (r() % 3 === 0 ? 1 : d)).slice(sameRank ? 0 : r() % rank);
  return r() % 2 ? [full, other] : [other.length ? other : [1], full];
}

const unaryOps: [string, (x: tf.Tensor) => tf.Tensor, 'any' | 'positive'][] = [
  ['relu', (x) => tf.relu(x), 'any'],
  ['leakyRelu', (x) => tf.leakyRelu(x, 0.1), 'any'],
  ['elu', (x) => tf.elu(x), 'any'],
  ['sigmoid', (x) => tf.sigmoid(x), 'any'],
  ['softplus', (x) => tf.softplus(x), 'any'],
  ['exp', (x) => tf.exp(x), 'any'],
  ['log', (x) => tf.log(x), 'positive'],
  ['sqrt', (x) => tf.sqrt(x), 'positive'],
  ['rsqrt', (x) => tf.rsqrt(x), 'positive'],
  ['square', (x) => tf.square(x), 'any'],
  ['abs', (x) => tf.abs(x), 'any'],
  ['tanh', (x) => tf.tanh(x), 'any'],
  ['neg', (x) => tf.neg(x), 'any'],
  ['pow 3', (x) => tf.pow(x, 3), 'any'],
  ['pow 0.5', (x) => tf.pow(x, 0.5), 'positive'],
  ['softmax', (x) => tf.softmax(x), 'any'],
  ['logSoftmax', (x) => tf.logSoftmax(x), 'any'],
];

for (const [name, f, domain] of unaryOps) {
  test(`compiled ${name} and its gradient equal TensorFlow.js's on random shapes`, () => {
    const g = new Generator(SEED);
    for (let trial = 0; trial < 3; trial++) {
      const [shape] = shapes(g);
      const x = parameter(
        tf.tidy(() => {
          const r = randn(g, shape);
          return domain === 'positive' ? r.abs().add(0.1) : r.mul(2);
        }),
        'x',
      );
      const w = randn(g, shape); // a constant of the plan: the loss is sum(f(x) * w)
      const loss: LossFn = () => tf.sum(tf.mul(f(x), w)) as tf.Scalar;
      compareWithEager(loss, [x], `${name} on [${shape}]`);
      tf.dispose([x, w]);
    }
  });
}

const binaryOps: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
  ['add', tf.add],
  ['sub', tf.sub],
  ['mul', tf.mul],
  ['div', tf.div],
  ['maximum', tf.maximum],
  ['minimum', tf.minimum],
  ['squaredDifference', tf.squaredDifference],
  ['pow', (a, b) => tf.pow(tf.abs(a).add(0.5), b)],
];

for (const [name, f] of binaryOps) {
  test(`compiled ${name} with broadcasting and its gradients equal TensorFlow.js's`, () => {
    const g = new Generator(SEED + 1);
    for (let trial = 0; trial < 4; trial++) {
      // TensorFlow.js 4.22's own gradients of maximum, minimum and squaredDifference fail when the
      // inputs' ranks differ (a reshape is missing): the eager reference needs inputs of one rank there.
      const [sa, sb] = shapes(g, ['maximum', 'minimum', 'squaredDifference'].includes(name));
      const a = parameter(randn(g, sa), 'a');
      const b = parameter(
        tf.tidy(() => (name === 'div' ? randn(g, sb).abs().add(0.5) : randn(g, sb))),
        'b',
      );
      const loss: LossFn = () =>
        tf.tidy(() => {
          const y = f(a, b);
          return tf.sum(tf.mul(y, tf.range(0, y.size).reshape(y.shape).div(y.size))) as tf.Scalar;
        });
      compareWithEager(loss, [a, b], `${name} of [${sa}] and [${sb}]`);
      tf.dispose([a, b]);
    }
  });
}

test("compiled reductions (sum, mean, max, moments) over either axis, with keepDims, equal TensorFlow.js's", () => {
  const g = new Generator(SEED + 2);
  const x = parameter(randn(g, [7, 33]), 'x');
  for (const axis of [0, 1, [0, 1]] as (number | number[])[]) {
    for (const keep of [false, true]) {
      const loss: LossFn = () =>
        tf.tidy(() => {
          const { mean, variance } = tf.moments(x, axis, keep);
          return tf
            .sum(x.sum(axis, keep).mul(0.3))
            .add(tf.sum(x.max(axis, keep)))
            .add(tf.sum(mean.mul(variance)))
            .add(tf.sum(x.mean(axis, keep).square())) as tf.Scalar;
        });
      compareWithEager(loss, [x], `reductions over ${axis} (keepDims ${keep})`);
    }
  }
  x.dispose();
});

test("compiled concat, slice, the embedding, one-hot and transpose equal TensorFlow.js's", () => {
  const g = new Generator(SEED + 3);
  const a = parameter(randn(g, [8, 5]), 'a');
  const b = parameter(randn(g, [8, 3]), 'b');
  const C = parameter(randn(g, [27, 4]), 'C');
  const loss: LossFn = (X, Y) =>
    tf.tidy(() => {
      const ab = tf.concat([a, b], 1); // [8, 8]
      const s = tf.slice(ab, [1, 2], [6, 5]); // [6, 5]
      const e = embed(C, X); // [8, 12], C[X].view(8, -1)
      const oh = tf.oneHot(Y, 27).toFloat();
      return tf
        .sum(s.transpose().square())
        .add(tf.sum(e.mul(e)))
        .add(tf.sum(oh.mul(tf.tanh(ab.sum(1, true))))) as tf.Scalar;
    });
  compareWithEager(loss, [a, b, C], 'concat/slice/embed/oneHot/transpose');
  tf.dispose([a, b, C]);
});

test("compiled matrix products equal TensorFlow.js's for shapes off the 4x8 blocks, either operand transposed, and batched", () => {
  const g = new Generator(SEED + 5);
  // Rows not a multiple of 4, columns not of 8, depths not of 4 (the packing's tail), and a batch of 2.
  for (const [M, K, N] of [
    [1, 1, 1],
    [3, 5, 7],
    [5, 9, 13],
    [33, 31, 27],
    [4, 8, 16],
  ]) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const a = parameter(randn(g, ta ? [K, M] : [M, K]), 'a');
      const b = parameter(randn(g, tb ? [N, K] : [K, N]), 'b');
      const loss: LossFn = () => tf.tidy(() => tf.sum(tf.tanh(tf.matMul(a, b, ta, tb))) as tf.Scalar);
      compareWithEager(loss, [a, b], `matMul [${M}, ${K}] @ [${K}, ${N}] (transposeA ${ta}, transposeB ${tb})`);
      tf.dispose([a, b]);
    }
  }
  const a = parameter(randn(g, [2, 5, 6]), 'a');
  const b = parameter(randn(g, [2, 6, 9]), 'b');
  compareWithEager(
    () => tf.tidy(() => tf.sum(tf.tanh(tf.matMul(a, b))) as tf.Scalar),
    [a, b],
    'batched matMul [2, 5, 6] @ [2, 6, 9]',
  );
  tf.dispose([a, b]);
});

test("compiled gather (C[X] as a learner writes it) and its gradient equal TensorFlow.js's", () => {
  const g = new Generator(SEED + 4);
  const C = parameter(randn(g, [27, 4]), 'C');
  const W = parameter(randn(g, [12, 5]), 'W');
  const loss: LossFn = (X) =>
    tf.tidy(() => {
      const emb = tf.gather(C, X.reshape([-1])).reshape([X.shape[0], 12]); // C[X].view(B, -1)
      return tf.sum(tf.tanh(emb.matMul(W))) as tf.Scalar;
    });
  const step = compareWithEager(loss, [C, W], 'gather');
  assert.ok(
    !step.fallbacks.has('GatherV2') && !step.fallbacks.has('UnsortedSegmentSum'),
    'gather and its gradient run on the SIMD kernels',
  );
  tf.dispose([C, W]);
});

/** The lecture's MLP edited as a learner would: ReLU, a second hidden layer, a layer norm (tf.moments over axis 1). */
function editedMLP(g: Generator) {
  const C = parameter(randn(g, [27, 10]), 'C');
  const W1 = parameter(
    tf.tidy(() => randn(g, [30, 64]).div(Math.sqrt(30))),
    'W1',
  );
  const b1 = parameter(tf.zeros([64]), 'b1');
  const W2 = parameter(
    tf.tidy(() => randn(g, [64, 64]).div(8)),
    'W2',
  );
  const b2 = parameter(tf.zeros([64]), 'b2');
  const gain = parameter(tf.ones([1, 64]), 'gain');
  const bias = parameter(tf.zeros([1, 64]), 'bias');
  const W3 = parameter(
    tf.tidy(() => randn(g, [64, 27]).div(8)),
    'W3',
  );
  const b3 = parameter(tf.zeros([27]), 'b3');
  const parameters = [C, W1, b1, W2, b2, gain, bias, W3, b3];
  const loss: LossFn = (X, Y) => {
    const h1 = tf.relu(embed(C, X).matMul(W1).add(b1));
    const h2 = h1.matMul(W2).add(b2);
    const { mean, variance } = tf.moments(h2, 1, true);
    const hn = tf.relu(h2.sub(mean).div(variance.add(1e-5).sqrt()).mul(gain).add(bias));
    return crossEntropy(hn.matMul(W3).add(b3), Y);
  };
  return { parameters, loss, dispose: () => tf.dispose(parameters) };
}

async function run(
  net: { parameters: tf.Variable[]; loss: LossFn },
  g: Generator,
  steps: number,
  lr = 0.1,
  extra = {},
) {
  return train({
    parameters: net.parameters,
    loss: net.loss,
    data: split.train,
    steps,
    learningRate: () => lr,
    generator: g,
    printEvery: 0,
    progress: false,
    ...extra,
  });
}

for (const kind of ['batch-norm MLP', 'edited MLP (ReLU, layer norm)', 'deep network'] as const) {
  test(`50 compiled steps of the ${kind} follow the eager steps`, async () => {
    const make = (g: Generator) => {
      if (kind === 'batch-norm MLP') return stageNetwork('batchnorm', g);
      if (kind === 'deep network') {
        const d = new DeepNetwork({ generator: g });
        return { parameters: d.parameters(), loss: d.loss, dispose: () => d.dispose() };
      }
      return editedMLP(g);
    };
    const results = [];
    for (const on of [true, false]) {
      const g = new Generator(SEED);
      const net = make(g);
      const res = await withCompile(on, () => run(net, g, 50, 0.1, { trackUpdateRatios: true }));
      assert.equal(res.compiled, on);
      results.push({ lossi: res.lossi, ud: res.ud, params: net.parameters.map((p) => p.dataSync().slice()) });
      net.dispose();
    }
    const [compiled, eager] = results;
    // float32 sums in another order drift apart over steps; 1e-3 in log10(loss) after 50 steps is far
    // below what a wrong kernel gives (the first step alone moves the loss by more).
    assert.ok(
      maxAbsDiff(compiled.lossi, eager.lossi) < 1e-3,
      `log10 losses differ by ${maxAbsDiff(compiled.lossi, eager.lossi)}`,
    );
    assert.ok(maxAbsDiff(compiled.ud.flat(), eager.ud.flat()) < 2e-2, 'update:data ratios');
    compiled.params.forEach((p, k) =>
      assert.ok(maxAbsDiff(p, eager.params[k]) < 1e-3 * Math.max(1, maxAbs(eager.params[k])), `parameter ${k}`),
    );
  });
}

test('a plan is traced once per loss, shape, mode and parameters, and reused', async () => {
  const g = new Generator(SEED);
  const net = stageNetwork('batchnorm', g);
  let traces = 0;
  const loss: LossFn = (X, Y, training) => {
    traces++;
    return net.loss(X, Y, training);
  };
  await run({ parameters: net.parameters, loss }, g, 20);
  assert.equal(traces, 1, '20 steps: one trace');
  await run({ parameters: net.parameters, loss }, g, 5);
  assert.equal(traces, 1, 'a second run of the same step: no new trace');
  await train({
    parameters: net.parameters,
    loss,
    data: split.train,
    steps: 3,
    learningRate: () => 0.1,
    generator: g,
    printEvery: 0,
    progress: false,
    batchSize: 16,
  });
  assert.equal(traces, 2, 'another batch size: a new plan');
  evaluate(loss, split.dev);
  const afterEval = traces;
  assert.ok(afterEval === 3 || afterEval === 4, 'evaluation mode: new plans (full chunks and the last one)');
  evaluate(loss, split.dev);
  assert.equal(traces, afterEval, 'evaluating again: no new trace');
  net.dispose();
});

test('the first-step check names a deliberately wrong kernel and leaves the variables as they were', async () => {
  const g = new Generator(SEED);
  const net = stageNetwork('batchnorm', g);
  const before = [...net.parameters, net.bnmeanRunning, net.bnstdRunning].map((p) => p.dataSync().slice());
  testing.sabotage = {
    kernel: 'Tanh',
    wrap: (run, plan, op) => () => {
      run();
      plan.read(op.writes[0])[3] += 0.01; // one element of what it writes off by 0.01
    },
  };
  try {
    await assert.rejects(run(net, g, 5), (e: Error) => e instanceof CompileCheckError && /Tanh/.test(e.message));
  } finally {
    testing.sabotage = undefined;
  }
  [...net.parameters, net.bnmeanRunning, net.bnstdRunning].forEach((p, k) =>
    assert.deepEqual(p.dataSync(), before[k], 'every variable (running statistics too) as before the step'),
  );
  net.dispose();
});

test('a NaN loss stops training with every parameter and running statistic as after the last completed step', async () => {
  const g = new Generator(SEED);
  const net = stageNetwork('batchnorm', g);
  const variables = [...net.parameters, net.bnmeanRunning, net.bnstdRunning];
  let last: Float32Array[] = [];
  let completed = -1;
  // A learning rate of 1e38 from step 5 on: the parameters overflow, and a later loss is not finite.
  await assert.rejects(
    train({
      parameters: net.parameters,
      loss: net.loss,
      data: split.train,
      steps: 200,
      generator: g,
      learningRate: (i) => (i < 5 ? 0.1 : 1e38),
      printEvery: 0,
      progress: false,
      afterStep: (i: number) => {
        completed = i;
        last = variables.map((v) => v.dataSync().slice() as Float32Array);
      },
    }),
    /The loss is (NaN|Infinity) at step (\d+).*Every parameter and buffer \(running statistics included\) holds its value from after step \d+\./s,
  );
  assert.ok(completed >= 0, 'some steps completed');
  variables.forEach((v, k) => assert.deepEqual(v.dataSync(), last[k], `variable ${k} as after step ${completed}`));
  net.dispose();
});

test('a kernel the compiler lacks runs through TensorFlow.js inside the plan, and train says so in one line', async () => {
  const g = new Generator(SEED);
  const x = parameter(randn(g, [8, 6]), 'x');
  // atan has no SIMD kernel here: its forward (Atan) and the ops of its gradient run on TensorFlow.js.
  const loss: LossFn = () => tf.sum(tf.atan(x).mul(x)) as tf.Scalar;
  const step = compareWithEager(loss, [x], 'atan');
  assert.ok(step.fallbacks.has('Atan'), 'Atan ran through TensorFlow.js');
  assert.match(step.fallbackNote(), /^\d+ of \d+ kernels ran on TensorFlow\.js: .*Atan/);
  x.dispose();
});

test("one step keeping its gradients (the experiments' probe) equals the eager step", async () => {
  const steps = [];
  for (const on of [true, false]) {
    const g = new Generator(SEED);
    const net = new DeepNetwork({ generator: g });
    retainGrad(net.layers);
    const parameters = net.parameters();
    const s = await withCompile(on, () =>
      sgdStep({
        parameters,
        loss: net.loss,
        data: split.train,
        generator: g,
        lr: 0.1,
        updateRatios: true,
        keepGrads: true,
      }),
    );
    steps.push({
      loss: s.loss,
      grads: parameters.map((p) => s.grads![p.name].dataSync().slice()),
      outGrad: net.layers[2].outGrad!.dataSync().slice(),
      out: net.layers[2].out!.dataSync().slice(),
      ud: s.ud!,
    });
    tf.dispose(Object.values(s.grads!));
    net.dispose();
  }
  const [c, e] = steps;
  assert.ok(Math.abs(c.loss - e.loss) < 1e-5);
  c.grads.forEach((gr, k) =>
    assert.ok(maxAbsDiff(gr, e.grads[k]) <= 1e-4 * Math.max(1e-6, maxAbs(e.grads[k])), `gradient ${k}`),
  );
  assert.ok(maxAbsDiff(c.out, e.out) < 1e-5, 'layer.out after the step');
  assert.ok(maxAbsDiff(c.outGrad, e.outGrad) <= 1e-4 * maxAbs(e.outGrad), 'layer.outGrad after the step');
  assert.ok(maxAbsDiff(c.ud, e.ud) < 1e-3, 'update:data row');
});

test("a layer's .out follows the compiled steps: each step's values when read after it, unread ones kept through a training loop", async () => {
  const seen = [];
  for (const on of [true, false]) {
    const g = new Generator(SEED);
    const net = new DeepNetwork({ generator: g });
    retainGrad(net.layers);
    const parameters = net.parameters();
    const layer = net.layers[2];
    const one = () => sgdStep({ parameters, loss: net.loss, data: split.train, generator: g, lr: 0.1 });
    const values = await withCompile(on, async () => {
      one();
      one(); // the first step's values are never read: the second's are
      const second = layer.out!.dataSync().slice();
      one(); // unread when the loop starts
      const beforeLoop = on ? new Float32Array() : layer.out!.dataSync().slice();
      const inLoop: Float32Array[] = [];
      await train({
        parameters,
        loss: net.loss,
        data: split.train,
        steps: 3,
        generator: g,
        printEvery: 0,
        progress: false,
        // Read from the second step on: after the loop's first run overwrote the plan's buffers.
        learningRate: (i) => {
          if (i > 0) inLoop.push(layer.out!.dataSync().slice() as Float32Array);
          return 0.1;
        },
      });
      return {
        second,
        beforeLoop,
        inLoop,
        last: layer.out!.dataSync().slice(),
        lastGrad: layer.outGrad!.dataSync().slice(),
      };
    });
    seen.push(values);
    net.dispose();
  }
  const [c, e] = seen;
  assert.ok(maxAbsDiff(c.second, e.second) < 1e-5, '.out after the second of two steps');
  // Eagerly, the loop's loss replaces .out at every step; compiled, a loop publishes at its end, so .out
  // holds the values of the step before the loop until then (read eagerly there, never in the compiled run).
  assert.equal(c.inLoop.length, 2);
  c.inLoop.forEach((v) =>
    assert.ok(maxAbsDiff(v, e.beforeLoop) < 1e-5, '.out during the loop: the last step before it'),
  );
  assert.ok(maxAbsDiff(c.last, e.last) < 1e-4, '.out after the loop');
  assert.ok(maxAbsDiff(c.lastGrad, e.lastGrad) <= 1e-4 * maxAbs(e.lastGrad), '.outGrad after the loop');
});

/** The batch-norm stage network's mean loss on a split, in float64 from its float32 parameters. */
function float64Loss(net: StageNetwork<'batchnorm'>, data: Dataset): number {
  const [C, W1, W2, b2, gain, bias] = net.parameters.map((p) => Float64Array.from(p.dataSync()));
  const mean = Float64Array.from(net.bnmeanRunning.dataSync()),
    sd = Float64Array.from(net.bnstdRunning.dataSync());
  const H = 200,
    V = 27,
    D = 10,
    T = data.blockSize;
  let total = 0;
  const h = new Float64Array(H),
    logits = new Float64Array(V);
  for (let r = 0; r < data.size; r++) {
    for (let j = 0; j < H; j++) {
      let s = 0;
      for (let t = 0; t < T; t++)
        for (let d = 0; d < D; d++) s += C[data.X[r * T + t] * D + d] * W1[(t * D + d) * H + j];
      h[j] = Math.tanh((gain[j] * (s - mean[j])) / sd[j] + bias[j]);
    }
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let s = b2[v];
      for (let j = 0; j < H; j++) s += h[j] * W2[j * V + v];
      logits[v] = s;
      max = Math.max(max, s);
    }
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[v] - max);
    total += Math.log(z) + max - logits[data.Y[r]];
  }
  return total / data.size;
}

test('evaluation agrees with a float64 sum within 1e-6, compiled and eager', async () => {
  const g = new Generator(SEED);
  const net = stageNetwork('batchnorm', g);
  await run(net, g, 300);
  const reference = float64Loss(net, split.dev);
  for (const on of [true, false]) {
    const value = await withCompile(on, () => evaluate(net.loss, split.dev));
    assert.ok(Math.abs(value - reference) < 1e-6, `${on ? 'compiled' : 'eager'}: ${value} vs float64 ${reference}`);
  }
  net.dispose();
});
