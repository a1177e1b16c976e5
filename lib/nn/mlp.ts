/**
 * The MLP of notebooks 01 and 02 (makemore part 2's network, before batch norm): an embedding table `C`,
 * a tanh hidden layer (`W1`, `b1`) and an output layer (`W2`, `b2`), drawn in this order from a fresh
 * generator with the lecture's seed, each draw multiplied by its scale, so that every initialisation of
 * the series is one line: `mm.initMLP({ W1: 0.2, b1: 0.01, W2: 0.01, b2: 0 })`. Notebook 01 writes the
 * same code out in a cell; notebook 02 uses this one.
 */
import * as tf from '@tensorflow/tfjs';
import { Generator } from '../tensor/random';
import { crossEntropy, embed, parameter, randn } from '../tensor/ops';
import type { LossFn } from '../compile/step';
import { checkFinite, checkInteger, checkOptions } from '../check';

/** The factor of each draw: `W1 = randn(...) * scale.W1`, ... (`C` is drawn unscaled). */
export interface MLPScales {
  W1: number;
  b1: number;
  W2: number;
  b2: number;
}

/** The sizes of the network (defaults: the lecture's) and the generator's seed. */
export interface MLPSizes {
  vocabSize?: number;
  blockSize?: number;
  nEmbd?: number;
  nHidden?: number;
  seed?: number;
}

export function initMLP(scale: MLPScales, sizes: MLPSizes = {}) {
  const where = 'initMLP';
  checkOptions(where, scale);
  for (const k of ['W1', 'b1', 'W2', 'b2'] as const) checkFinite(where, `scale.${k}`, scale[k]);
  checkOptions(where, sizes);
  const vocabSize = checkInteger(where, 'sizes.vocabSize', sizes.vocabSize ?? 27, 1);
  const blockSize = checkInteger(where, 'sizes.blockSize', sizes.blockSize ?? 3, 1);
  const nEmbd = checkInteger(where, 'sizes.nEmbd', sizes.nEmbd ?? 10, 1);
  const nHidden = checkInteger(where, 'sizes.nHidden', sizes.nHidden ?? 200, 1);
  const g = new Generator(sizes.seed ?? 2147483647);
  const draw = (shape: number[], s: number) => parameter(tf.tidy(() => randn(g, shape).mul(s)));
  const C = draw([vocabSize, nEmbd], 1);
  const W1 = draw([nEmbd * blockSize, nHidden], scale.W1);
  const b1 = draw([nHidden], scale.b1);
  const W2 = draw([nHidden, vocabSize], scale.W2);
  const b2 = draw([vocabSize], scale.b2);
  return { g, C, W1, b1, W2, b2, parameters: [C, W1, b1, W2, b2] };
}

export type MLP = ReturnType<typeof initMLP>;

/** The forward pass, with what the lecture looks at: `hpreact` (the tanh's input), `h` and the logits. */
export function mlpForward(net: MLP, X: tf.Tensor2D) {
  const emb = embed(net.C, X); // C[X].view(B, -1): the block's embeddings side by side
  const hpreact = emb.matMul(net.W1).add(net.b1); // hidden layer pre-activation
  const h = hpreact.tanh(); // hidden layer
  const logits = h.matMul(net.W2).add(net.b2); // output layer
  return { hpreact, h, logits };
}

/** The loss of a minibatch, for `mm.train` and `mm.evaluate` (which compile it on its first step). */
export function mlpLoss(net: MLP): LossFn {
  return (X, Y) => crossEntropy(mlpForward(net, X).logits, Y);
}
