/**
 * The lecture's MLP, the one description of it in the library: an embedding table `C`, a tanh hidden
 * layer (`W1`, `b1`) and an output layer (`W2`, `b2`), drawn in this order from one generator, each
 * draw multiplied by its scale, so that every initialisation of the series is one line:
 * `mm.initMLP({ W1: 0.2, b1: 0.01, W2: 0.01, b2: 0 })`. With `batchNorm: true` it is the network of the
 * lecture's batch-norm section: no `b1`, and the pre-activation normalised by the batch's statistics
 * (`bngain`, `bnbias`, running estimates). Notebook 01 writes the plain network out in a cell; notebook 02
 * uses this one; `stageNetwork` (models.ts) draws the five stages of the lecture's loss log with it.
 */
import * as tf from '@tensorflow/tfjs';
import { Generator } from '../tensor/random';
import { buffer, crossEntropy, embed, noGrad, parameter, randn, std } from '../tensor/ops';
import type { LossFn } from '../compile/step';
import { checkGenerator, checkInteger, checkOptions, fail } from '../check';

/**
 * What a draw is multiplied by: a number, `randn(...) * s`, or a function of the draw for an expression
 * of several float32 operations, e.g. Kaiming's `(w) => w.mul(5 / 3).div(Math.sqrt(30))` (the lecture's
 * `* (5/3) / (30**0.5)`, two roundings, not one multiplication by their product).
 */
export type Scale = number | ((w: tf.Tensor) => tf.Tensor);

/** The scale of each draw: `W1 = randn(...) * scale.W1`, ... (`C` is drawn unscaled). */
export interface MLPScales {
  W1: Scale;
  b1: Scale;
  W2: Scale;
  b2: Scale;
}

/** The scales of the batch-norm network, which has no `b1` (batch norm subtracts any bias again). */
export type BatchNormMLPScales = Omit<MLPScales, 'b1'>;

/** The sizes of the network (defaults: the lecture's), and the generator: a new one from `seed`, or `generator`. */
export interface MLPSizes {
  vocabSize?: number;
  blockSize?: number;
  nEmbd?: number;
  nHidden?: number;
  seed?: number;
  /** Draw from this generator (which the training loop then goes on with) instead of a new one. */
  generator?: Generator;
  /** Batch norm on the pre-activation, without `b1`: takes `BatchNormMLPScales`. */
  batchNorm?: boolean;
}

interface MLPBase {
  /** The generator the parameters were drawn from; the training loop draws its minibatches from it. */
  g: Generator;
  C: tf.Variable;
  W1: tf.Variable;
  W2: tf.Variable;
  b2: tf.Variable;
  /** The lecture's `parameters` list, in its order. */
  parameters: tf.Variable[];
  /** The parameters by the lecture's names (C, W1, b1, ...). */
  named: Record<string, tf.Variable>;
  /** Frees the parameters and buffers. */
  dispose(): void;
}

/** The MLP of notebooks 01 and 02: `parameters = [C, W1, b1, W2, b2]`. */
export interface PlainMLP extends MLPBase {
  batchNorm: false;
  b1: tf.Variable;
}

/** The batch-norm MLP: `parameters = [C, W1, W2, b2, bngain, bnbias]`, and the running estimates (buffers). */
export interface BatchNormMLP extends MLPBase {
  batchNorm: true;
  bngain: tf.Variable;
  bnbias: tf.Variable;
  bnmeanRunning: tf.Variable;
  bnstdRunning: tf.Variable;
}

export type MLP = PlainMLP | BatchNormMLP;

export function initMLP(scale: MLPScales, sizes?: MLPSizes & { batchNorm?: false }): PlainMLP;
export function initMLP(scale: BatchNormMLPScales, sizes: MLPSizes & { batchNorm: true }): BatchNormMLP;
export function initMLP(scale: MLPScales | BatchNormMLPScales, sizes: MLPSizes = {}): MLP {
  const where = 'initMLP';
  checkOptions(where, scale);
  checkOptions(where, sizes);
  const bn = sizes.batchNorm ?? false;
  if (bn && 'b1' in scale) {
    fail(where, 'scale', scale, 'W1, W2 and b2 alone with batchNorm: true (that network has no b1)');
  }
  for (const k of bn ? (['W1', 'W2', 'b2'] as const) : (['W1', 'b1', 'W2', 'b2'] as const)) {
    const s: unknown = (scale as MLPScales)[k];
    if (typeof s !== 'function' && (typeof s !== 'number' || !Number.isFinite(s))) {
      fail(where, `scale.${k}`, s, 'a finite number or a function of the draw, e.g. (w) => w.mul(0.2)');
    }
  }
  const vocabSize = checkInteger(where, 'sizes.vocabSize', sizes.vocabSize ?? 27, 1);
  const blockSize = checkInteger(where, 'sizes.blockSize', sizes.blockSize ?? 3, 1);
  const nEmbd = checkInteger(where, 'sizes.nEmbd', sizes.nEmbd ?? 10, 1);
  const nHidden = checkInteger(where, 'sizes.nHidden', sizes.nHidden ?? 200, 1);
  if (sizes.generator !== undefined && sizes.seed !== undefined) {
    fail(where, 'sizes', sizes, 'either a seed or a generator, not both');
  }
  const g =
    sizes.generator === undefined
      ? new Generator(sizes.seed ?? 2147483647)
      : checkGenerator(where, 'sizes.generator', sizes.generator);

  // Each draw takes the next numbers of `g`: the order of these lines is the lecture's, and so are its numbers.
  const draw = (name: string, shape: number[], s?: Scale) =>
    parameter(
      tf.tidy(() => {
        const w = randn(g, shape);
        return s === undefined ? w : typeof s === 'number' ? w.mul(s) : s(w);
      }),
      name,
    );
  const C = draw('C', [vocabSize, nEmbd]);
  const W1 = draw('W1', [nEmbd * blockSize, nHidden], scale.W1);
  // The batch-norm network draws no b1 (the lecture comments it out): its W2, b2 and minibatches follow on.
  const b1 = bn ? undefined : draw('b1', [nHidden], (scale as MLPScales).b1);
  const W2 = draw('W2', [nHidden, vocabSize], scale.W2);
  const b2 = draw('b2', [vocabSize], scale.b2);
  if (b1) {
    const named = { C, W1, b1, W2, b2 };
    const parameters = Object.values(named);
    return { batchNorm: false, g, ...named, parameters, named, dispose: () => tf.dispose(parameters) };
  }
  const bngain = parameter(tf.ones([1, nHidden]), 'bngain');
  const bnbias = parameter(tf.zeros([1, nHidden]), 'bnbias');
  const bnmeanRunning = buffer(tf.zeros([1, nHidden]));
  const bnstdRunning = buffer(tf.ones([1, nHidden]));
  const named = { C, W1, W2, b2, bngain, bnbias };
  const parameters = Object.values(named);
  const dispose = () => tf.dispose([...parameters, bnmeanRunning, bnstdRunning]);
  return { batchNorm: true, g, ...named, bnmeanRunning, bnstdRunning, parameters, named, dispose };
}

/**
 * The forward pass, with what the lecture looks at: `hpreact` (the tanh's input), `h` and the logits.
 *   hpreact = C[X].view(B, -1) @ W1 + b1
 * or with batch norm, in training the batch's mean and unbiased std (no epsilon), else the running ones:
 *   hpreact = bngain * (hpreact - mean) / std + bnbias
 *   running = 0.999 * running + 0.001 * batch     (training only)
 * then h = tanh(hpreact), logits = h @ W2 + b2.
 */
export function mlpForward(net: MLP, X: tf.Tensor2D, training = true) {
  const emb = embed(net.C, X); // C[X].view(B, -1): the block's embeddings side by side
  let hpreact = emb.matMul(net.W1); // hidden layer pre-activation
  // `=== false`, not `!net.batchNorm`: tslab type-checks without strictNullChecks, where only === narrows.
  if (net.batchNorm === false) hpreact = hpreact.add(net.b1);
  else hpreact = batchNorm(net, hpreact, training);
  const h = hpreact.tanh(); // hidden layer
  const logits = h.matMul(net.W2).add(net.b2); // output layer
  return { hpreact, h, logits };
}

function batchNorm(net: BatchNormMLP, hpreact: tf.Tensor, training: boolean): tf.Tensor {
  let mean: tf.Tensor = net.bnmeanRunning;
  let sd: tf.Tensor = net.bnstdRunning;
  if (training) {
    mean = hpreact.mean(0, true);
    sd = std(hpreact, 0, true);
    // The running estimates are no part of the loss (torch.no_grad()); the compiled step replays these assignments.
    noGrad(() => {
      net.bnmeanRunning.assign(net.bnmeanRunning.mul(0.999).add(mean.mul(0.001)));
      net.bnstdRunning.assign(net.bnstdRunning.mul(0.999).add(sd.mul(0.001)));
    });
  }
  return net.bngain.mul(hpreact.sub(mean).div(sd)).add(net.bnbias);
}

/** The loss of a minibatch, for `mm.train` and `mm.evaluate` (which compile it on its first step). */
export function mlpLoss(net: MLP): LossFn {
  return (X, Y, training) => crossEntropy(mlpForward(net, X, training).logits, Y);
}
