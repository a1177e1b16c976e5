/** lib/nn/mlp.ts: notebook 02's network draws what the lecture's stages draw, and its step-0 loss is PyTorch's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { initMLP, mlpLoss } from '../../lib/nn/mlp';
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

test('initMLP checks its arguments', () => {
  assert.throws(() => initMLP({ W1: NaN, b1: 1, W2: 1, b2: 1 }), ArgumentError);
  assert.throws(() => initMLP({ W1: 1, b1: 1, W2: 1, b2: 1 }, { nHidden: 0 }), ArgumentError);
});
