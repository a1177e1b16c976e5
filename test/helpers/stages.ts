/**
 * The lecture's MLP of the stage table (embedding 10, hidden 200), written in the lecture's order
 * of draws, for tests. The notebooks write the same network out in their cells.
 */
import * as tf from '@tensorflow/tfjs';
import { Generator } from '../../lib/random';
import { crossEntropy, embed, parameter, randn, std } from '../../lib/ops';

export type Stage = 'original' | 'fix_softmax' | 'fix_tanh' | 'kaiming' | 'batchnorm';

export function stageNetwork(stage: Stage, g: Generator) {
  const nEmbd = 10, nHidden = 200, V = 27, fanIn = 30;
  const C = parameter(randn(g, [V, nEmbd]), 'C');
  const w1Scale = { original: 1, fix_softmax: 1, fix_tanh: 0.2, kaiming: 5 / 3 / Math.sqrt(fanIn), batchnorm: 5 / 3 / Math.sqrt(fanIn) }[stage];
  const W1 = parameter(tf.tidy(() => randn(g, [fanIn, nHidden]).mul(w1Scale)), 'W1');
  // The batch-norm stage draws no b1 (the lecture comments it out): its W2, b2 and minibatches follow on.
  const b1 = stage === 'batchnorm' ? null : parameter(tf.tidy(() => randn(g, [nHidden]).mul(stage === 'original' || stage === 'fix_softmax' ? 1 : 0.01)), 'b1');
  const W2 = parameter(tf.tidy(() => randn(g, [nHidden, V]).mul(stage === 'original' ? 1 : 0.01)), 'W2');
  const b2 = parameter(tf.tidy(() => randn(g, [V]).mul(stage === 'original' ? 1 : 0)), 'b2');
  const bngain = parameter(tf.ones([1, nHidden]), 'bngain');
  const bnbias = parameter(tf.zeros([1, nHidden]), 'bnbias');
  const bnmeanRunning = tf.variable(tf.zeros([1, nHidden]), false);
  const bnstdRunning = tf.variable(tf.ones([1, nHidden]), false);
  const bn = stage === 'batchnorm';
  const parameters = bn ? [C, W1, W2, b2, bngain, bnbias] : [C, W1, b1!, W2, b2];

  function loss(X: tf.Tensor2D, Y: tf.Tensor1D, training: boolean): tf.Scalar {
    const emb = embed(C, X);
    let hpreact = emb.matMul(W1);
    if (b1) hpreact = hpreact.add(b1);
    if (bn) {
      let mean: tf.Tensor = bnmeanRunning, sd: tf.Tensor = bnstdRunning;
      if (training) {
        mean = hpreact.mean(0, true);
        sd = std(hpreact, 0, true);
        bnmeanRunning.assign(bnmeanRunning.mul(0.999).add(mean.mul(0.001)));
        bnstdRunning.assign(bnstdRunning.mul(0.999).add(sd.mul(0.001)));
      }
      hpreact = bngain.mul(hpreact.sub(mean).div(sd)).add(bnbias);
    }
    const h = hpreact.tanh();
    const logits = h.matMul(W2).add(b2);
    return crossEntropy(logits, Y);
  }
  const named = { C, W1, W2, b2, bngain, bnbias, ...(b1 ? { b1 } : {}) } as Record<string, tf.Variable>;
  return { parameters, named, loss, bnmeanRunning, bnstdRunning, dispose: () => [...parameters, bngain, bnbias, bnmeanRunning, bnstdRunning].forEach((t) => t.isDisposed || t.dispose()) };
}
