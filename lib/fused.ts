/**
 * The whole training step of an MLP (embedding, then Linear, BatchNorm1d and Tanh layers, then
 * cross-entropy) in a few WebAssembly kernels (`lib/assembly/kernels.ts`), on the tensors' own
 * memory: the same maths as `layers.ts` and `ops.ts`, written out forward and backward, without
 * TensorFlow.js's cost per operation (which is most of a step on matrices this small).
 *
 *   forward:   x0 = C[X].view(B, -1);  x(i+1) = layer_i(x(i));  loss = cross_entropy(xL, Y)
 *   backward:  dxL = (softmax(xL) - one_hot(Y)) / B;  dx(i) = layer_i'(dx(i+1)), parameter gradients
 *              on the way;  dC = one_hot(X)^T @ dx0
 *   update:    p -= lr * grad, in place in each tf.Variable
 *
 * `train` uses it when the loss comes from a network that describes itself (`describeNetwork`) and
 * the backend is 'wasm'; otherwise it records the forward pass with TensorFlow.js and asks for the
 * gradients (the reference path; `MAKEMORE_FUSED=0` forces it). Tests check both paths against
 * PyTorch and against each other.
 */
import * as tf from '@tensorflow/tfjs';
import type { Layer } from './layers';
import { KernelHost, kernelHost } from './wasm';

/** One layer of a network, as the fused step sees it. `layer` gets `.out` (and `.outGrad`) written back. */
export type FusedLayer =
  | { kind: 'linear'; weight: tf.Variable; bias: tf.Variable | null; layer?: Layer }
  | { kind: 'batchnorm'; gamma: tf.Variable; beta: tf.Variable; runningMean: tf.Variable; runningStat: tf.Variable;
      /** sd = sqrt(var + eps); the running statistic is the variance, or sd itself when `trackStd`. */
      eps: number; momentum: number; trackStd: boolean; layer?: Layer }
  | { kind: 'tanh'; layer?: Layer };

/** A network: the embedding table C [V, D], then the layers; the last layer's output is the logits. */
export interface FusedNetwork {
  embedding: tf.Variable;
  embeddingLayer?: Layer;
  layers: FusedLayer[];
}

let warned = false;
const descriptions = new WeakMap<object, () => FusedNetwork>();

/** Say what network a loss function computes, so that `train` can run its fused step. */
export function describeNetwork(loss: object, describe: () => FusedNetwork): void {
  descriptions.set(loss, describe);
}

/**
 * The lecture's MLP as layers, for `describeNetwork`:
 *   emb = C[X].view(B, -1);  hpreact = emb @ W1 (+ b1);  [batch norm];  h = tanh(hpreact);  logits = h @ W2 + b2
 * with the batch norm of the lecture's stage 4: bngain * (hpreact - mean) / std + bnbias, the batch's
 * mean and unbiased std (no epsilon), running estimates 0.999 * running + 0.001 * batch.
 */
export function fusedMLP(p: {
  C: tf.Variable; W1: tf.Variable; b1?: tf.Variable | null; W2: tf.Variable; b2: tf.Variable;
  batchNorm?: { gain: tf.Variable; bias: tf.Variable; meanRunning: tf.Variable; stdRunning: tf.Variable };
}): FusedNetwork {
  const bn = p.batchNorm;
  return {
    embedding: p.C,
    layers: [
      { kind: 'linear', weight: p.W1, bias: p.b1 ?? null },
      ...(bn ? [{ kind: 'batchnorm', gamma: bn.gain, beta: bn.bias, runningMean: bn.meanRunning, runningStat: bn.stdRunning,
        eps: 0, momentum: 0.001, trackStd: true } as FusedLayer] : []),
      { kind: 'tanh' },
      { kind: 'linear', weight: p.W2, bias: p.b2 },
    ],
  };
}

/** The trainable parameters of a network: C, then each layer's. */
function parametersOf(net: FusedNetwork): tf.Variable[] {
  return [net.embedding, ...net.layers.flatMap((l) =>
    l.kind === 'linear' ? (l.bias ? [l.weight, l.bias] : [l.weight]) : l.kind === 'batchnorm' ? [l.gamma, l.beta] : [])];
}

/** Float32 buffers allocated in the kernels' memory (with 32 bytes of room after each). */
class Buffers {
  private readonly addresses: number[] = [];
  constructor(private readonly host: KernelHost) {}
  alloc(floats: number): number {
    const address = this.host.malloc(floats * 4 + 32);
    if (!address) throw new Error(`out of memory for ${floats} floats`);
    this.addresses.push(address);
    return address;
  }
  free(): void {
    for (const a of this.addresses.splice(0)) this.host.free(a);
  }
}

interface Plan {
  layer: FusedLayer;
  inWidth: number;
  outWidth: number;
  /** output x(i+1) and its gradient dx(i+1) */
  out: number;
  dout: number;
  /** batch norm: xhat [B, N] and sd [N] kept for the backward pass */
  xhat?: number;
  sd?: number;
  grads: Map<tf.Variable, number>;
}

/**
 * A fused training step for one network, one batch size and one list of trained parameters.
 * `create` returns undefined, with the reason, when the step can't run fused.
 */
export class FusedStep {
  private readonly buffers: Buffers;
  private readonly plans: Plan[] = [];
  private readonly x0: number;
  private readonly dx0: number;
  private readonly dC: number;
  private readonly X: number;
  private readonly Y: number;
  private readonly scratch: number;
  private readonly gradOf = new Map<tf.Variable, number>();
  /** Without shared memory: where each variable's copy lives. */
  private readonly copies = new Map<tf.Variable, number>();
  private readonly B: number;
  private readonly D: number;
  private readonly V: number;

  static create(loss: object, parameters: tf.Variable[], batchSize: number, blockSize: number):
    { step?: FusedStep; why?: string } {
    if (process.env.MAKEMORE_FUSED === '0') return { why: 'MAKEMORE_FUSED=0' };
    const describe = descriptions.get(loss);
    if (!describe) return { why: 'the loss is not a network the fused step knows' };
    if (batchSize < 2) return { why: 'a batch of one' };   // batch norm's error comes from the reference path
    const net = describe();
    const own = new Set(parametersOf(net));
    if (!parameters.every((p) => own.has(p))) return { why: 'a parameter outside the network' };
    let host: KernelHost;
    try {
      host = kernelHost();
    } catch (e) {
      // Not silent: the step works without the kernels, only slower.
      if (!warned) console.warn(`Training without the fused kernels (slower): ${(e as Error).message}`);
      warned = true;
      return { why: (e as Error).message };
    }
    return { step: new FusedStep(host, net, parameters, batchSize, blockSize) };
  }

  private constructor(private readonly host: KernelHost, private readonly net: FusedNetwork,
    private readonly parameters: tf.Variable[], batchSize: number, private readonly T: number) {
    this.B = batchSize;
    const [V, D] = net.embedding.shape as [number, number];
    this.V = V;
    this.D = D;
    const buffers = (this.buffers = new Buffers(host));
    const B = batchSize;
    this.X = buffers.alloc(B * this.T);
    this.Y = buffers.alloc(B);
    this.x0 = buffers.alloc(B * this.T * D);
    this.dx0 = buffers.alloc(B * this.T * D);
    this.dC = buffers.alloc(V * D);
    this.gradOf.set(net.embedding, this.dC);
    let width = this.T * D;
    let biggest = width * B;
    for (const layer of net.layers) {
      const inWidth = width;
      const grads = new Map<tf.Variable, number>();
      const plan: Plan = { layer, inWidth, outWidth: width, out: 0, dout: 0, grads };
      if (layer.kind === 'linear') {
        const [K, N] = layer.weight.shape as [number, number];
        if (K !== inWidth) throw new Error(`Linear weight [${K}, ${N}] after a layer of width ${inWidth}`);
        plan.outWidth = N;
        grads.set(layer.weight, buffers.alloc(K * N));
        if (layer.bias) grads.set(layer.bias, buffers.alloc(N));
        biggest = Math.max(biggest, K * N);
      } else if (layer.kind === 'batchnorm') {
        if (layer.gamma.size !== inWidth) throw new Error(`BatchNorm of ${layer.gamma.size} after a layer of width ${inWidth}`);
        plan.xhat = buffers.alloc(B * inWidth);
        plan.sd = buffers.alloc(inWidth);
        grads.set(layer.gamma, buffers.alloc(inWidth));
        grads.set(layer.beta, buffers.alloc(inWidth));
      }
      plan.out = buffers.alloc(B * plan.outWidth);
      plan.dout = buffers.alloc(B * plan.outWidth);
      grads.forEach((address, p) => this.gradOf.set(p, address));
      width = plan.outWidth;
      this.plans.push(plan);
    }
    if (width !== V) throw new Error(`the network ends with width ${width}, not the ${V} logits`);
    this.scratch = buffers.alloc(biggest);
    if (!host.shared) {
      for (const v of this.variables()) this.copies.set(v, buffers.alloc(v.size));
      this.reload();
    }
  }

  /** Every tensor of the network the kernels read: parameters and running estimates. */
  private variables(): tf.Variable[] {
    return [...parametersOf(this.net), ...this.runningBuffers()];
  }

  /**
   * The address of a variable's data for the kernels: in place on the wasm backend (looked up every
   * time: a callback may have assigned a new tensor), else our copy.
   */
  private at(v: tf.Variable): number {
    return this.host.shared ? this.host.addressOf(v, true) : this.copies.get(v)!;
  }

  /** Without shared memory: copy the variables' values in (at the start, and after a callback may have changed them). */
  reload(): void {
    if (this.host.shared) return;
    const heap = this.heapF32();
    this.copies.forEach((address, v) => heap.set(v.dataSync() as Float32Array, address >> 2));
  }

  /**
   * Give the trained parameters and the running estimates their new values as new tensors. Needed
   * on the wasm backend too, where they were updated in place: its matrix product (XNNPACK) keeps a
   * packed copy of each weight matrix it has seen, keyed by the tensor, which a tensor of its own
   * replaces.
   */
  private syncOut(): void {
    const heap = this.heapF32();
    const changed = new Set<tf.Variable>([...this.parameters, ...this.runningBuffers()]);
    const values = [...changed].map((v) => heap.slice(this.at(v) >> 2, (this.at(v) >> 2) + v.size));
    tf.tidy(() => [...changed].forEach((v, k) => v.assign(tf.tensor(values[k], v.shape))));
  }

  /** Make the tensors current: parameters, running estimates, and the layers' `.out` and `.outGrad`. */
  publish(): void {
    this.syncOut();
    this.writeOutputs();
  }

  /** Free the buffers. The parameters stay where they are. */
  dispose(): void {
    this.buffers.free();
  }

  private heapF32(): Float32Array {
    return new Float32Array(this.host.memory.buffer);
  }

  /** The running estimates of the batch-norm layers (which a forward pass in training moves). */
  runningBuffers(): tf.Variable[] {
    return this.net.layers.flatMap((l) => (l.kind === 'batchnorm' ? [l.runningMean, l.runningStat] : []));
  }

  /**
   * The forward pass on the rows `ix` of the data (at most the batch size): the loss, and the logits'
   * gradient for `backward`. In training mode batch norm uses the batch's statistics and moves its
   * running estimates; in evaluation mode it uses the running estimates.
   */
  forward(dataX: Int32Array, dataY: Int32Array, ix: Int32Array, training = true): number {
    const k = this.host.kernels;
    const { T, D, V } = this;
    const B = ix.length;
    if (B > this.B) throw new Error(`${B} rows for a step of ${this.B}`);
    const heapI32 = new Int32Array(this.host.memory.buffer);
    for (let b = 0; b < B; b++) {
      const row = ix[b];
      heapI32.set(dataX.subarray(row * T, row * T + T), (this.X >> 2) + b * T);
      heapI32[(this.Y >> 2) + b] = dataY[row];
    }
    const at = (p: tf.Variable) => this.at(p);
    k.embed(at(this.net.embedding), this.X, this.x0, B, T, D);
    let x = this.x0;
    for (const plan of this.plans) {
      const l = plan.layer;
      if (l.kind === 'linear') {
        k.matmul(x, at(l.weight), l.bias ? at(l.bias) : 0, plan.out, B, plan.inWidth, plan.outWidth);
      } else if (l.kind === 'batchnorm' && !training) {
        k.batchNormEval(x, at(l.gamma), at(l.beta), plan.out, at(l.runningMean), at(l.runningStat), B, plan.inWidth,
          l.eps, l.trackStd ? 1 : 0);
      } else if (l.kind === 'batchnorm') {
        k.batchNormForward(x, at(l.gamma), at(l.beta), plan.out, plan.xhat!, plan.sd!, at(l.runningMean), at(l.runningStat),
          B, plan.inWidth, l.eps, l.momentum, l.trackStd ? 1 : 0);
      } else {
        k.tanhForward(x, plan.out, B * plan.inWidth);
      }
      x = plan.out;
    }
    const last = this.plans[this.plans.length - 1];
    return Math.fround(k.crossEntropy(last.out, this.Y, last.dout, B, V));
  }

  /**
   * The rest of a training step after `forward`: the backward pass, p -= lr * grad, and (when
   * asked) log10(std(lr * grad) / std(p)) of every parameter, the lecture's `ud` row.
   */
  learn(lr: number, updateRatios: boolean): number[] | undefined {
    this.backward();
    const k = this.host.kernels;
    const at = (p: tf.Variable) => this.at(p);
    for (const p of this.parameters) k.sgd(at(p), this.gradOf.get(p)!, p.size, lr);
    if (!updateRatios) return undefined;
    return this.parameters.map((p) =>
      Math.log10((Math.abs(lr) * k.std(this.gradOf.get(p)!, p.size)) / k.std(at(p), p.size)));
  }

  /** The backward pass of the last forward pass: every parameter's gradient. */
  private backward(): void {
    const k = this.host.kernels;
    const { B, T, D, V } = this;
    const at = (p: tf.Variable) => this.at(p);
    for (let i = this.plans.length - 1; i >= 0; i--) {
      const plan = this.plans[i];
      const l = plan.layer;
      const input = i > 0 ? this.plans[i - 1].out : this.x0;
      const dinput = i > 0 ? this.plans[i - 1].dout : this.dx0;
      const K = plan.inWidth, N = plan.outWidth;
      if (l.kind === 'linear') {
        // dW = x^T @ dy,  db = sum(dy),  dx = dy @ W^T
        k.matmulTN(input, plan.dout, plan.grads.get(l.weight)!, K, B, N);
        if (l.bias) k.sumRows(plan.dout, plan.grads.get(l.bias)!, B, N);
        k.transpose(at(l.weight), this.scratch, K, N);
        k.matmul(plan.dout, this.scratch, 0, dinput, B, N, K);
      } else if (l.kind === 'batchnorm') {
        k.batchNormBackward(plan.dout, plan.xhat!, plan.sd!, at(l.gamma), dinput, plan.grads.get(l.gamma)!,
          plan.grads.get(l.beta)!, B, K);
      } else {
        k.tanhBackward(plan.dout, plan.out, dinput, B * K);
      }
    }
    k.embedBackward(this.dx0, this.X, this.dC, B, T, D, V);
  }

  /** Give the layers their `.out` (and `.outGrad` when kept) of the last step, as tensors. */
  private writeOutputs(): void {
    const heap = this.heapF32();
    const tensor = (address: number, width: number) =>
      tf.tensor2d(heap.slice(address >> 2, (address >> 2) + this.B * width), [this.B, width]);
    const set = (layer: Layer | undefined, out: number, dout: number, width: number) => {
      if (!layer) return;
      layer.out?.dispose();
      layer.out = tensor(out, width);
      if (layer.keepGrad) {
        layer.outGrad?.dispose();
        layer.outGrad = tensor(dout, width);
      }
    };
    set(this.net.embeddingLayer, this.x0, this.dx0, this.T * this.D);
    for (const plan of this.plans) set(plan.layer.layer, plan.out, plan.dout, plan.outWidth);
  }
}
