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
import { crossEntropy } from './ops';
import { Generator } from './random';

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

  constructor(options: DeepNetworkOptions) {
    const { generator } = options;
    const V = options.vocabSize ?? 27;
    const T = options.blockSize ?? 3;
    const nEmbd = options.nEmbd ?? 10;
    const nHidden = options.nHidden ?? 100;
    const blocks = options.hiddenLayers ?? 5;
    const gain = options.gain ?? 5 / 3;
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
    return [...this.C.parameters(), ...parametersOf(this.layers)];
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

  /** Set training (batch statistics) or evaluation (running statistics) mode. */
  train(training = true): void {
    for (const layer of [this.C, ...this.layers]) layer.training = training;
  }

  /** The logits of contexts X [B, blockSize]: x = C[X].view(B, -1); for layer in layers: x = layer(x). */
  logits(X: tf.Tensor2D): tf.Tensor {
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
  }
}
