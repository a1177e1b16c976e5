// The torch.nn-style layers: the deep network of the lecture against PyTorch (parameter count,
// forward statistics, retained output gradients, parameter gradients), gradients against finite
// differences, and the errors of BatchNorm1d.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { loadNames } from '../../lib/data/names';
import { splitDataset, Split } from '../../lib/data/dataset';
import { Generator } from '../../lib/tensor/random';
import { BatchNorm1d, Linear, Tanh, countParameters, retainGrad } from '../../lib/nn/layers';
import { DeepNetwork } from '../../lib/nn/models';
import { batch, train } from '../../lib/train/loop';
import { NAMES_FILE } from '../helpers/paths';
import { EXPECTED } from '../helpers/expected';

let split: Split;
before(async () => {
  await initBackend();
  split = splitDataset(await loadNames({ file: NAMES_FILE }), 3, 42);
});

const SEED = 2147483647;
const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};
const std = (a: ArrayLike<number>) => {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return Math.sqrt(s / (a.length - 1));
};
const close = (ours: number, theirs: number, rel: number, abs = 0) =>
  assert.ok(Math.abs(ours - theirs) <= rel * Math.abs(theirs) + abs, `${ours} vs torch ${theirs}`);

test('parameter counts: 47,024 with batch norm, as the lecture', () => {
  const net = new DeepNetwork({ generator: new Generator(SEED) });
  assert.equal(countParameters(net.parameters()), EXPECTED.deep_network.n_parameters);
  assert.equal(countParameters(net.parameters()), 47024);
  assert.deepEqual(net.parameterNames(), EXPECTED.deep_network.parameter_names);
  assert.deepEqual(
    net.parameters().map((p) => p.shape),
    EXPECTED.deep_network.parameter_shapes,
  );
  net.dispose();
});

test("one step of the deep network: loss, activations, retained gradients and parameter gradients equal PyTorch's", () => {
  const ref = EXPECTED.deep_network.step0;
  const g = new Generator(SEED);
  const net = new DeepNetwork({ generator: g });
  retainGrad(net.layers);
  const ix = g.randint(0, split.train.size, [32]);
  assert.deepEqual(Array.from(ix), EXPECTED.deep_network.step0_ix);
  const params = net.parameters();
  const { value, grads } = tf.tidy(() => {
    const { X, Y } = batch(split.train, ix);
    return tf.variableGrads(() => net.loss(X, Y, true), params);
  });
  // float32 sums in another order: 1e-5 relative on the loss, 1e-3 on statistics of 3,200 values.
  close(value.dataSync()[0], ref.loss, 1e-5);
  ref.forward.forEach((r: { index: number; type: string; mean: number; std: number }) => {
    const out = net.layers[r.index].out!.dataSync();
    assert.equal(net.layers[r.index].name, r.type);
    close(std(out), r.std, 1e-3);
    close(mean(out), r.mean, 1e-3, 1e-4);
  });
  ref.backward_tanh_grads.forEach((r: { index: number; std: number }) => {
    const grad = net.layers[r.index].outGrad!.dataSync();
    // Tanh output gradients are ~1e-3; their std agrees to 1e-3 relative.
    close(std(grad), r.std, 1e-3);
  });
  ref.parameters.forEach((r: { name: string; grad_std: number; grad_mean: number }, k: number) => {
    const grad = grads[params[k].name].dataSync();
    close(std(grad), r.grad_std, 2e-3);
  });
  tf.dispose([value, grads]);
  net.dispose();
});

test('a linear + batch-norm + tanh stack has the gradients of finite differences', () => {
  // float32 finite differences: central, eps 1e-2, on a small net in double-checked float32;
  // the truncation error is O(eps^2) and rounding O(1e-7 / eps), so 2% relative is the honest bound.
  const g = new Generator(SEED);
  const lin = new Linear(4, 3, { generator: g, bias: true });
  const bn = new BatchNorm1d(3);
  const th = new Tanh();
  const x = tf.tensor2d(g.randn(5, 4), [5, 4]);
  const target = tf.tensor2d(g.randn(5, 3), [5, 3]);
  const f = () => {
    bn.training = true;
    return th
      .call(bn.call(lin.call(x)))
      .sub(target)
      .square()
      .sum() as tf.Scalar;
  };
  const params = [lin.weight, lin.bias!, bn.gamma, bn.beta];
  const { grads } = tf.variableGrads(f, params);
  const eps = 1e-2;
  for (const p of params) {
    const analytic = grads[p.name].dataSync();
    const values = p.dataSync().slice();
    for (let i = 0; i < values.length; i++) {
      const at = (v: number) => {
        const w = values.slice();
        w[i] = v;
        p.assign(tf.tensor(w, p.shape));
        return tf.tidy(() => f().dataSync()[0]);
      };
      const numeric = (at(values[i] + eps) - at(values[i] - eps)) / (2 * eps);
      p.assign(tf.tensor(values, p.shape));
      assert.ok(
        Math.abs(numeric - analytic[i]) <= 0.02 * Math.abs(numeric) + 2e-3,
        `${p.name}[${i}]: analytic ${analytic[i]} vs numeric ${numeric}`,
      );
    }
  }
});

test('BatchNorm1d: a batch of one in training is an error that says what to do; evaluation accepts it', () => {
  const bnorm = new BatchNorm1d(3);
  assert.throws(
    () => bnorm.call(tf.ones([1, 3])),
    /expected more than 1 value per channel when training.*batch of 2 or more.*training = false/,
  );
  assert.throws(
    () => bnorm.call(tf.ones([4, 5])),
    /BatchNorm1d\(3\) expects input of shape \[batch, 3\], got \[4, 5\]/,
  );
  bnorm.training = false;
  assert.deepEqual(
    Array.from(bnorm.call(tf.ones([1, 3])).dataSync()).map((v) => +v.toFixed(4)),
    [1, 1, 1],
  );
});

test('BatchNorm1d running statistics follow momentum 0.1 with the unbiased variance', () => {
  const bnorm = new BatchNorm1d(2);
  const x = tf.tensor2d([
    [1, 10],
    [3, 14],
    [5, 18],
  ]);
  bnorm.call(x);
  assert.deepEqual(
    Array.from(bnorm.runningMean.dataSync()).map((v) => +v.toFixed(5)),
    [0.3, 1.4],
  );
  // var: [4, 16] unbiased -> 0.9 * 1 + 0.1 * var
  assert.deepEqual(
    Array.from(bnorm.runningVar.dataSync()).map((v) => +v.toFixed(5)),
    [1.3, 2.5],
  );
});

test("the deep network after 1,000 steps: loss, layer statistics and update:data ratios as PyTorch's", async () => {
  const ref = EXPECTED.deep_network;
  const g = new Generator(SEED);
  const net = new DeepNetwork({ generator: g });
  retainGrad(net.layers);
  const losses: number[] = [];
  const run = await train({
    parameters: net.parameters(),
    loss: net.loss,
    data: split.train,
    steps: 1000,
    learningRate: () => 0.1,
    generator: g,
    printEvery: 0,
    progress: false,
    trackUpdateRatios: true,
    afterStep: (_, l) => losses.push(l),
  });
  // log10 update:data ratios of every parameter at every step; float32 drift over 1,000 steps stays
  // far below the 1e-3 allowed here (a ratio printed to 3 decimals).
  const torchUd = ref.ud_log10.per_step as number[][];
  let worst = 0;
  run.ud.forEach((row, i) =>
    row.forEach((v, k) => {
      worst = Math.max(worst, Math.abs(v - torchUd[i][k]));
    }),
  );
  assert.ok(worst < 1e-3, `update:data ratios differ from torch by up to ${worst}`);
  // 1,000 float32 steps apart from PyTorch's: rounding differences grow, yet stay small.
  close(losses[999], ref.loss_step999, 2e-3);
  ref.after_1000_steps.forward
    .filter((r: { type: string }) => r.type === 'Tanh')
    .forEach((r: { index: number; std: number; saturated_percent: number }) => {
      close(std(net.layers[r.index].out!.dataSync()), r.std, 1e-2);
    });
  net.dispose();
});

test('a network and its layers leave no tensor behind when disposed', () => {
  const before = tf.memory().numTensors;
  const net = new DeepNetwork({ generator: new Generator(SEED) });
  net.dispose();
  assert.equal(tf.memory().numTensors, before);
});
