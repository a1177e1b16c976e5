/** lib/nn/mlp.ts: notebook 02's network draws what the lecture's stages draw, and its step-0 loss is PyTorch's; the batch-norm variant. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { initMLP, mlpForward, mlpLoss } from '../../lib/nn/mlp';
import { stageNetwork } from '../../lib/nn/models';
import { Generator } from '../../lib/tensor/random';
import { loadData } from '../../lib/data/names';
import { batch } from '../../lib/train/loop';
import { lecture } from '../../lib/lecture';
import { ArgumentError } from '../../lib/check';

test('initMLP draws the stage networks of the lecture; the first minibatch gives its step-0 loss', async () => {
  await initBackend();
  const { train } = await loadData();
  const scales = {
    original: { W1: 1, b1: 1, W2: 1, b2: 1 },
    fix_softmax: { W1: 1, b1: 1, W2: 0.01, b2: 0 },
    fix_tanh: { W1: 0.2, b1: 0.01, W2: 0.01, b2: 0 },
  } as const;
  for (const [stage, scale] of Object.entries(scales) as [
    keyof typeof scales,
    (typeof scales)[keyof typeof scales],
  ][]) {
    const net = initMLP(scale);
    const reference = stageNetwork(stage, new Generator(2147483647));
    net.parameters.forEach((p, k) =>
      assert.deepEqual(p.dataSync(), reference.parameters[k].dataSync(), `${stage} ${k}`),
    );
    const ix = net.g.randint(0, train.size, [32]);
    const { X, Y } = batch(train, ix);
    const loss = tf.tidy(() => mlpLoss(net)(X, Y, true).dataSync()[0]);
    assert.equal(loss.toFixed(4), lecture.torch.stageStep0Losses[stage].toFixed(4), stage);
    tf.dispose([X, Y, ...net.parameters]);
    reference.dispose();
  }
});

test("initMLP with batchNorm: no b1 drawn, the lecture's parameter list; the running estimates move in training only", async () => {
  await initBackend();
  const net = initMLP({ W1: (w) => w.mul(5 / 3).div(Math.sqrt(30)), W2: 0.01, b2: 0 }, { batchNorm: true });
  assert.deepEqual(Object.keys(net.named), ['C', 'W1', 'W2', 'b2', 'bngain', 'bnbias']);
  assert.deepEqual(net.parameters, Object.values(net.named));
  assert.deepEqual(
    net.parameters.map((p) => p.shape),
    [[27, 10], [30, 200], [200, 27], [27], [1, 200], [1, 200]],
  );
  // W2 is the next draw after W1: what the plain network draws as b1 (200 numbers) is W2's first row here.
  const plain = initMLP({ W1: 1, b1: 1, W2: 1, b2: 1 });
  assert.deepEqual(
    net.W2.dataSync().slice(0, 27),
    plain.b1
      .dataSync()
      .slice(0, 27)
      .map((v) => Math.fround(v * Math.fround(0.01))),
  );
  plain.dispose();
  const X = tf.tensor2d(
    [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ],
    [3, 3],
    'int32',
  );
  const before = net.bnmeanRunning.dataSync().slice();
  tf.tidy(() => mlpForward(net, X, false));
  assert.deepEqual(net.bnmeanRunning.dataSync(), before, 'evaluation leaves the running mean alone');
  const { hpreact } = tf.tidy(() => ({ hpreact: tf.keep(mlpForward(net, X, true).hpreact) }));
  // bngain 1, bnbias 0: the tanh's input is standardised (mean 0, unbiased std 1) over the batch.
  const col = Array.from(hpreact.dataSync()).filter((_, i) => i % 200 === 0);
  assert.ok(Math.abs(col.reduce((a, b) => a + b) / 3) < 1e-6, `mean ${col}`);
  assert.notDeepEqual(net.bnmeanRunning.dataSync(), before, 'training moves the running mean');
  tf.dispose([X, hpreact]);
  net.dispose();
  assert.ok(net.parameters.every((p) => p.isDisposed) && net.bnstdRunning.isDisposed);
});

test('initMLP checks its arguments', () => {
  assert.throws(() => initMLP({ W1: NaN, b1: 1, W2: 1, b2: 1 }), ArgumentError);
  assert.throws(() => initMLP({ W1: 1, b1: 1, W2: 1, b2: 1 }, { nHidden: 0 }), ArgumentError);
  assert.throws(
    () => initMLP({ W1: 1, b1: 'x' as unknown as number, W2: 1, b2: 1 }),
    /^ArgumentError: initMLP: scale\.b1 must be a finite number or a function of the draw, e\.g\. \(w\) => w\.mul\(0\.2\), got "x"$/,
  );
  assert.throws(
    () => initMLP({ W1: 1, b1: 1, W2: 1, b2: 1 } as never, { batchNorm: true }),
    /^ArgumentError: initMLP: scale must be W1, W2 and b2 alone with batchNorm: true \(that network has no b1\), got /,
  );
  assert.throws(
    () => initMLP({ W1: 1, b1: 1, W2: 1, b2: 1 }, { seed: 1, generator: new Generator(1) }),
    /initMLP: sizes must be either a seed or a generator, not both/,
  );
});
