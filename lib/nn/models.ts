/**
 * The lecture's deep network ("PyTorch-ifying the code"): an embedding table, then hidden blocks of
 * Linear -> BatchNorm1d -> Tanh, then Linear -> BatchNorm1d to the 27 logits.
 *
 *   C = randn(27, nEmbd)
 *   layers = [Linear(nEmbd * blockSize, nHidden, bias=False), BatchNorm1d(nHidden), Tanh(),
 *             ... (5 hidden blocks in all) ..., Linear(nHidden, 27, bias=False), BatchNorm1d(27)]
 *   with no_grad: layers[-1].gamma *= 0.1          # a less confident last layer
 *                 every other Linear weight *= gain # 5/3 for tanh
 *
 * Without batch norm the Linear layers have biases and the last layer's weight is scaled by 0.1.
 */
import * as tf from '@tensorflow/tfjs';
import { BatchNorm1d, Embedding, Layer, Linear, Tanh, parametersOf } from './layers';
import { crossEntropy } from '../tensor/ops';
import { BatchNormMLP, BatchNormMLPScales, initMLP, MLPScales, mlpLoss, PlainMLP } from './mlp';
import type { LossFn } from '../compile/step';
import { Generator } from '../tensor/random';
import { ArgumentError, checkFinite, checkGenerator, checkInteger, checkOptions, fail } from '../check';

export interface DeepNetworkOptions {
  generator: Generator;
  vocabSize?: number;
  blockSize?: number;
  nEmbd?: number;
  nHidden?: number;
  /** Number of hidden blocks (the lecture: 5). */
  hiddenLayers?: number;
  /** The gain of the Linear weights (the lecture: 5/3, tanh's gain). */
  gain?: number;
  batchNorm?: boolean;
  /** Put Tanh after each hidden Linear (false: the fully linear network of the lecture's experiment). */
  tanh?: boolean;
}

export class DeepNetwork {
  readonly C: Embedding;
  readonly layers: Layer[];

  private disposed = false;

  constructor(options: DeepNetworkOptions) {
    const where = 'new DeepNetwork';
    checkOptions(where, options);
    const { generator } = options;
    checkGenerator(where, 'options.generator', generator);
    const V = checkInteger(where, 'options.vocabSize', options.vocabSize ?? 27, 1);
    const T = checkInteger(where, 'options.blockSize', options.blockSize ?? 3, 1);
    const nEmbd = checkInteger(where, 'options.nEmbd', options.nEmbd ?? 10, 1);
    const nHidden = checkInteger(where, 'options.nHidden', options.nHidden ?? 100, 1);
    const blocks = checkInteger(where, 'options.hiddenLayers', options.hiddenLayers ?? 5, 0);
    const gain = checkFinite(where, 'options.gain', options.gain ?? 5 / 3);
    const bn = options.batchNorm ?? true;
    const useTanh = options.tanh ?? true;

    this.C = new Embedding(V, nEmbd, { generator });
    const layers: Layer[] = [];
    let fanIn = nEmbd * T;
    for (let b = 0; b < blocks; b++) {
      layers.push(new Linear(fanIn, nHidden, { bias: !bn, generator }));
      if (bn) layers.push(new BatchNorm1d(nHidden));
      if (useTanh) layers.push(new Tanh());
      fanIn = nHidden;
    }
    const last = new Linear(fanIn, V, { bias: !bn, generator });
    layers.push(last);
    if (bn) layers.push(new BatchNorm1d(V));
    this.layers = layers;

    tf.tidy(() => {
      const out = layers[layers.length - 1];
      if (out instanceof BatchNorm1d) out.gamma.assign(out.gamma.mul(0.1));
      else last.weight.assign(last.weight.mul(0.1));
      for (const layer of layers.slice(0, -1)) {
        if (layer instanceof Linear) layer.weight.assign(layer.weight.mul(gain));
      }
    });
  }

  /** C first, then every layer's parameters (the lecture's `parameters` list). */
  parameters(): tf.Variable[] {
    this.checkNotDisposed();
    return [...this.C.parameters(), ...parametersOf(this.layers)];
  }

  private checkNotDisposed(): void {
    if (this.disposed) {
      throw new ArgumentError(
        'this DeepNetwork was disposed (dispose() freed its tensors): build a new one with ' +
          'new mm.DeepNetwork(...), or call dispose() only once you are done with it.',
      );
    }
  }

  /** Names like PyTorch's state_dict: C, layer0.weight, layer1.gamma, ... */
  parameterNames(): string[] {
    const names = ['C'];
    this.layers.forEach((layer, i) => {
      if (layer instanceof Linear) names.push(`layer${i}.weight`, ...(layer.bias ? [`layer${i}.bias`] : []));
      if (layer instanceof BatchNorm1d) names.push(`layer${i}.gamma`, `layer${i}.beta`);
    });
    return names;
  }

  /**
   * Every parameter and buffer by PyTorch's state_dict name (the lecture's classes): C,
   * layer0.weight, layer1.gamma, layer1.beta, layer1.running_mean, layer1.running_var, ... For
   * `mm.save(file, net.stateDict())`.
   */
  stateDict(): Record<string, tf.Variable> {
    const dict: Record<string, tf.Variable> = { C: this.C.weight };
    this.layers.forEach((layer, i) => {
      if (layer instanceof Linear) {
        dict[`layer${i}.weight`] = layer.weight;
        if (layer.bias) dict[`layer${i}.bias`] = layer.bias;
      }
      if (layer instanceof BatchNorm1d) {
        Object.assign(dict, {
          [`layer${i}.gamma`]: layer.gamma,
          [`layer${i}.beta`]: layer.beta,
          [`layer${i}.running_mean`]: layer.runningMean,
          [`layer${i}.running_var`]: layer.runningVar,
        });
      }
    });
    return dict;
  }

  /**
   * Copy the values of `tensors` (e.g. `mm.load(file)`) into the network's parameters and buffers:
   * the same names and shapes as `stateDict()`, all of them. The tensors stay the caller's.
   */
  loadStateDict(tensors: Record<string, tf.Tensor>): void {
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in tensors));
    const unknown = Object.keys(tensors).filter((k) => !(k in own));
    if (missing.length || unknown.length) {
      throw new Error(
        `loadStateDict: the tensors do not fit this network: ${missing.length ? `missing ${missing.join(', ')}` : ''}` +
          `${missing.length && unknown.length ? '; ' : ''}${unknown.length ? `not in the network ${unknown.join(', ')}` : ''}.`,
      );
    }
    for (const [name, v] of Object.entries(own)) {
      const t = tensors[name];
      if (t.shape.join() !== v.shape.join() || t.dtype !== v.dtype) {
        throw new Error(`loadStateDict: ${name} is ${t.dtype} [${t.shape}], the network's is ${v.dtype} [${v.shape}].`);
      }
    }
    for (const [name, v] of Object.entries(own)) v.assign(tensors[name]);
  }

  /** Set training (batch statistics) or evaluation (running statistics) mode. */
  train(training = true): void {
    for (const layer of [this.C, ...this.layers]) layer.training = training;
  }

  /** The logits of contexts X [B, blockSize]: x = C[X].view(B, -1); for layer in layers: x = layer(x). */
  logits(X: tf.Tensor2D): tf.Tensor {
    this.checkNotDisposed();
    let x: tf.Tensor = this.C.call(X);
    for (const layer of this.layers) x = layer.call(x);
    return x;
  }

  /** The loss of a batch, for `train` and `evaluate`. */
  readonly loss = (X: tf.Tensor2D, Y: tf.Tensor1D, training: boolean): tf.Scalar => {
    this.train(training);
    return crossEntropy(this.logits(X), Y);
  };

  dispose(): void {
    for (const layer of [this.C, ...this.layers]) layer.dispose();
    this.disposed = true;
  }
}

export type Stage = 'original' | 'fix_softmax' | 'fix_tanh' | 'kaiming' | 'batchnorm';
/** The stages of the lecture's "loss log", in order. */
export const STAGES: readonly Stage[] = ['original', 'fix_softmax', 'fix_tanh', 'kaiming', 'batchnorm'];

/** Kaiming's scale of W1 for tanh, as the lecture writes it: `* (5/3) / (30**0.5)`, two float32 roundings. */
const kaiming = (w: tf.Tensor) => w.mul(5 / 3).div(Math.sqrt(30));

/** The scales each stage draws with (the batch-norm stage has no b1). */
const STAGE_SCALES = {
  original: { W1: 1, b1: 1, W2: 1, b2: 1 },
  fix_softmax: { W1: 1, b1: 1, W2: 0.01, b2: 0 },
  fix_tanh: { W1: 0.2, b1: 0.01, W2: 0.01, b2: 0 },
  kaiming: { W1: kaiming, b1: 0.01, W2: 0.01, b2: 0 },
  batchnorm: { W1: kaiming, W2: 0.01, b2: 0 },
} satisfies Record<Stage, MLPScales | BatchNormMLPScales>;

/** The network of a stage: the batch-norm MLP for 'batchnorm', the plain one before, with its loss. */
export type StageNetwork<S extends Stage = Stage> = (S extends 'batchnorm' ? BatchNormMLP : PlainMLP) & {
  loss: LossFn;
};

/**
 * The lecture's MLP of the stage table (`initMLP`, lib/nn/mlp.ts: embedding 10, hidden 200, 27
 * outputs), initialised as at each stage of the "loss log", drawing C, W1, b1, W2, b2 from `g` in the
 * lecture's order:
 *   original     all plain randn
 *   fix_softmax  W2 * 0.01, b2 * 0
 *   fix_tanh     also W1 * 0.2, b1 * 0.01
 *   kaiming      W1 * (5/3) / sqrt(30) instead of * 0.2
 *   batchnorm    as kaiming, with batch norm on the pre-activation and no b1 (not even drawn)
 * The notebooks write this network out cell by cell; the benchmark and the tests use this one.
 */
export function stageNetwork<S extends Stage>(stage: S, g: Generator): StageNetwork<S>;
export function stageNetwork(stage: Stage, g: Generator): StageNetwork {
  if (!STAGES.includes(stage)) fail('stageNetwork', 'stage', stage, `one of ${STAGES.join(', ')}`);
  checkGenerator('stageNetwork', 'g', g);
  const net =
    stage === 'batchnorm'
      ? initMLP(STAGE_SCALES.batchnorm, { generator: g, batchNorm: true })
      : initMLP(STAGE_SCALES[stage], { generator: g });
  return { ...net, loss: mlpLoss(net) };
}
