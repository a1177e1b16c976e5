/**
 * Layers with the names and semantics of torch.nn, as the lecture builds them by hand in
 * "PyTorch-ifying the code": Linear, BatchNorm1d, Tanh, and the Embedding table.
 *
 * Each layer keeps its last output in `.out` (like the lecture's `self.out`). With
 * `retainGrad(layers)`, the gradient of the loss with respect to `.out` is kept in `.outGrad`
 * after the backward pass (PyTorch's `layer.out.retain_grad()` and `layer.out.grad`).
 */
import * as tf from '@tensorflow/tfjs';
import { Generator } from '../tensor/random';
import { buffer, embed, parameter, randn } from '../tensor/ops';
import { refreshAfterStep } from '../compile/record';
import { ArgumentError, checkFinite, checkGenerator, checkInteger, checkOptions, fail } from '../check';

/** The generator option of a layer that draws its initial weights. */
function generatorOption(where: string, options: { generator?: Generator } | undefined): Generator {
  checkOptions(where, options);
  return checkGenerator(where, 'options.generator', options!.generator!);
}

/**
 * A tensor a layer keeps (`.out`, `.outGrad`): set by its forward or backward pass, or, after a compiled
 * step, made from the step's value when first read (most steps nobody reads it).
 */
class Kept {
  private value?: tf.Tensor;
  private make?: () => tf.Tensor;
  get(): tf.Tensor | undefined {
    if (this.make) {
      const make = this.make;
      this.make = undefined;
      this.value?.dispose();
      this.value = make();
    }
    return this.value;
  }
  set(t: tf.Tensor | undefined): void {
    this.make = undefined;
    if (t !== this.value) this.value?.dispose();
    this.value = t;
  }
  later(make: () => tf.Tensor): void {
    this.make = make;
  }
}

export abstract class Layer {
  /** Training mode (batch statistics) or evaluation mode (running statistics). */
  training = true;
  /** Keep the gradient of `.out` (PyTorch's `retain_grad()`). */
  keepGrad = false;
  private readonly kept = { out: new Kept(), outGrad: new Kept() };

  /** The last output, kept until the next forward pass. */
  get out(): tf.Tensor | undefined {
    return this.kept.out.get();
  }
  set out(t: tf.Tensor | undefined) {
    this.kept.out.set(t);
  }
  /** d loss / d out after a backward pass, when `retainGrad` is on. */
  get outGrad(): tf.Tensor | undefined {
    return this.kept.outGrad.get();
  }
  set outGrad(t: tf.Tensor | undefined) {
    this.kept.outGrad.set(t);
  }
  /** After a compiled step: `.out` or `.outGrad` is that step's, made when read (lib/compile). */
  keepLater(which: 'out' | 'outGrad', make: () => tf.Tensor): void {
    this.kept[which].later(make);
  }

  /** Set by `dispose()`: the layer's tensors are gone. */
  private disposedAt = false;

  abstract forward(x: tf.Tensor): tf.Tensor;
  parameters(): tf.Variable[] {
    return [];
  }
  get name(): string {
    return this.constructor.name;
  }
  /** The layer as the messages name it, with its sizes: `Linear(30, 200)`. */
  toString(): string {
    return `${this.name}()`;
  }
  get isDisposed(): boolean {
    return this.disposedAt;
  }

  /**
   * The checks of every forward pass: not disposed, a tensor as input, of the shape `expected` describes
   * (`[batch, 30]`) when `ok` says it is wrong.
   */
  protected checkInput(x: tf.Tensor, expected: string, ok: (x: tf.Tensor) => boolean): void {
    if (this.disposedAt) {
      throw new ArgumentError(
        `${this} was disposed (dispose() freed its tensors): build a new one, ` +
          'or call dispose() only once you are done with it.',
      );
    }
    if (!(x instanceof tf.Tensor)) fail(`${this}`, 'its input', x, `a tensor of shape ${expected}`);
    if (x.isDisposed)
      throw new ArgumentError(`${this}: its input (a tensor of shape [${x.shape.join(', ')}]) was disposed`);
    if (!ok(x)) throw new ArgumentError(`${this} expects input of shape ${expected}, got [${x.shape.join(', ')}]`);
  }

  /** `layer(x)`: the forward pass, remembering the output (and, if asked, its gradient). */
  call(x: tf.Tensor): tf.Tensor {
    let out = this.forward(x);
    if (this.keepGrad) out = captureGrad(out, this);
    this.out = tf.keep(out.clone());
    // A compiled step (lib/compile) gives `.out` the value of each step it runs.
    refreshAfterStep(this.out, (make) => this.keepLater('out', make));
    return out;
  }

  dispose(): void {
    this.out = this.outGrad = undefined;
    for (const p of this.parameters()) p.dispose();
    this.disposedAt = true;
  }
}

/** An identity whose gradient is also stored in `layer.outGrad`. */
function captureGrad(out: tf.Tensor, layer: Layer): tf.Tensor {
  const identity = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: (inputs[0] as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => {
      layer.outGrad = tf.keep(dy.clone());
      refreshAfterStep(layer.outGrad, (make) => layer.keepLater('outGrad', make));
      return dy;
    },
  }));
  return identity(out) as tf.Tensor;
}

/** Turn on `.outGrad` for these layers (the lecture's `layer.out.retain_grad()`). */
export function retainGrad(layers: Layer[], on = true): void {
  for (const layer of layers) layer.keepGrad = on;
}

/**
 * `Linear(fanIn, fanOut, bias)`: y = x @ W + b, with W of shape [fanIn, fanOut] drawn as
 * randn / sqrt(fanIn) (the lecture's "Kaiming-like" scale, before any gain), b zeros.
 */
export class Linear extends Layer {
  weight: tf.Variable;
  bias: tf.Variable | null;

  readonly fanIn: number;
  readonly fanOut: number;

  constructor(fanIn: number, fanOut: number, options: { bias?: boolean; generator: Generator }) {
    super();
    this.fanIn = checkInteger('Linear', 'fanIn', fanIn, 1);
    this.fanOut = checkInteger('Linear', 'fanOut', fanOut, 1);
    generatorOption('Linear', options);
    this.weight = parameter(
      tf.tidy(() => randn(options.generator, [fanIn, fanOut]).div(Math.sqrt(fanIn))),
      'weight',
    );
    this.bias = options.bias === false ? null : parameter(tf.zeros([fanOut]), 'bias');
  }

  toString(): string {
    return `Linear(${this.fanIn}, ${this.fanOut})`;
  }

  /** y = x @ W + b; the gradient written out: dx = dy @ W^T, dW = x^T @ dy, db = sum(dy). */
  forward(x: tf.Tensor): tf.Tensor {
    this.checkInput(x, `[batch, ${this.fanIn}]`, (t) => t.rank === 2 && t.shape[1] === this.fanIn);
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, W, b] = args as tf.Tensor2D[];
      const save = args[args.length - 1] as tf.GradSaveFunc;
      save([input, W]);
      const y = input.matMul(W);
      return {
        value: this.bias ? y.add(b) : y,
        gradFunc: (dy: tf.Tensor, [xs, Ws]: tf.Tensor[]) => {
          const dx = (dy as tf.Tensor2D).matMul(Ws.transpose());
          const dW = xs.transpose().matMul(dy as tf.Tensor2D);
          return this.bias ? [dx, dW, dy.sum(0)] : [dx, dW];
        },
      };
    });
    return this.bias ? f(x, this.weight, this.bias) : f(x, this.weight);
  }

  parameters(): tf.Variable[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
}

/**
 * `BatchNorm1d(dim, eps = 1e-5, momentum = 0.1)`:
 *   training:   xhat = (x - mean_batch) / sqrt(var_batch + eps),  y = gamma * xhat + beta,
 *               running = (1 - momentum) * running + momentum * batch statistic;
 *   evaluation: the same with the running mean and variance.
 * The batch variance is the unbiased `x.var(0)` of the lecture (PyTorch's own layer normalises with
 * the biased one). A batch of one example has no variance: that is an error in training, as in PyTorch.
 */
export class BatchNorm1d extends Layer {
  readonly eps: number;
  readonly momentum: number;
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;

  constructor(
    readonly dim: number,
    options: { eps?: number; momentum?: number } = {},
  ) {
    super();
    checkInteger('BatchNorm1d', 'dim', dim, 1);
    checkOptions('BatchNorm1d', options);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    if (checkFinite('BatchNorm1d', 'options.eps', this.eps) < 0)
      fail('BatchNorm1d', 'options.eps', this.eps, 'a number >= 0');
    if (!(this.momentum >= 0 && this.momentum <= 1))
      fail('BatchNorm1d', 'options.momentum', this.momentum, 'a number from 0 to 1');
    this.gamma = parameter(tf.ones([dim]), 'gamma');
    this.beta = parameter(tf.zeros([dim]), 'beta');
    this.runningMean = buffer(tf.zeros([dim]));
    this.runningVar = buffer(tf.ones([dim]));
  }

  toString(): string {
    return `BatchNorm1d(${this.dim})`;
  }

  forward(x: tf.Tensor): tf.Tensor {
    this.checkInput(x, `[batch, ${this.dim}]`, (t) => t.rank === 2 && t.shape[1] === this.dim);
    if (this.training && x.shape[0] === 1) {
      throw new Error(
        `BatchNorm1d: expected more than 1 value per channel when training, got input of shape [1, ${this.dim}]. ` +
          'Use a batch of 2 or more examples, or switch to evaluation (layer.training = false) to use the running statistics.',
      );
    }
    if (!this.training) {
      return tf.tidy(() =>
        this.gamma.mul(x.sub(this.runningMean).div(this.runningVar.add(this.eps).sqrt())).add(this.beta),
      );
    }
    const n = x.shape[0] as number;
    const m = this.momentum;
    // Training: the forward pass and its gradient written out (one recorded operation instead of a
    // dozen). With xhat = (x - mean) / sd, sd = sqrt(var + eps), var unbiased (divided by n - 1):
    //   dgamma = sum(dy * xhat),  dbeta = sum(dy),
    //   dx = gamma / (n * sd) * (n * dy - sum(dy) - n / (n - 1) * xhat * sum(dy * xhat))
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, gamma, beta] = args as tf.Tensor[];
      const save = args[3] as tf.GradSaveFunc;
      const mean = input.mean(0);
      const xc = input.sub(mean);
      const vari = xc
        .square()
        .sum(0)
        .div(n - 1);
      const sd = vari.add(this.eps).sqrt();
      const xhat = xc.div(sd);
      // torch.no_grad(): the running buffers are not part of the graph.
      this.runningMean.assign(this.runningMean.mul(1 - m).add(mean.mul(m)));
      this.runningVar.assign(this.runningVar.mul(1 - m).add(vari.mul(m)));
      save([xhat, sd, gamma]);
      return {
        value: gamma.mul(xhat).add(beta),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xh, sdev, g] = saved;
          const dbeta = dy.sum(0);
          const dgamma = dy.mul(xh).sum(0);
          const dx = g.div(sdev.mul(n)).mul(
            dy
              .mul(n)
              .sub(dbeta)
              .sub(xh.mul(dgamma.mul(n / (n - 1)))),
          );
          return [dx, dgamma, dbeta];
        },
      };
    });
    return f(x, this.gamma, this.beta);
  }

  parameters(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  dispose(): void {
    super.dispose();
    this.runningMean.dispose();
    this.runningVar.dispose();
  }
}

/** `Tanh()`: y = tanh(x), elementwise; its gradient is dy * (1 - y^2) (micrograd's `(1 - t**2) * out.grad`). */
export class Tanh extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    this.checkInput(x, '[batch, features] (float32)', (t) => t.rank >= 1 && t.dtype === 'float32');
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const y = tf.tanh(args[0] as tf.Tensor);
      (args[1] as tf.GradSaveFunc)([y]);
      return { value: y, gradFunc: (dy: tf.Tensor, [t]: tf.Tensor[]) => dy.mul(tf.scalar(1).sub(t.square())) };
    });
    return f(x);
  }
}

/**
 * The embedding table C of shape [vocabSize, dim], drawn with randn: `call(X)` maps a batch of
 * contexts [B, blockSize] to the concatenated embeddings [B, blockSize * dim] (`C[X].view(B, -1)`).
 */
export class Embedding extends Layer {
  weight: tf.Variable;

  readonly vocabSize: number;
  readonly dim: number;

  constructor(vocabSize: number, dim: number, options: { generator: Generator }) {
    super();
    this.vocabSize = checkInteger('Embedding', 'vocabSize', vocabSize, 1);
    this.dim = checkInteger('Embedding', 'dim', dim, 1);
    this.weight = parameter(randn(generatorOption('Embedding', options), [vocabSize, dim]), 'C');
  }

  toString(): string {
    return `Embedding(${this.vocabSize}, ${this.dim})`;
  }

  forward(X: tf.Tensor): tf.Tensor {
    this.checkInput(X, '[batch, blockSize] (int32 character indices)', (t) => t.rank === 2 && t.dtype === 'int32');
    try {
      return embed(this.weight, X);
    } catch (e) {
      // Name the layer rather than the function it calls.
      if (e instanceof Error && e.name === 'ArgumentError')
        throw new ArgumentError(e.message.replace(/^embed:/, `${this}:`));
      throw e;
    }
  }

  parameters(): tf.Variable[] {
    return [this.weight];
  }
}

/** Every parameter of these layers, in order. */
export function parametersOf(layers: Layer[]): tf.Variable[] {
  return layers.flatMap((l) => l.parameters());
}

/** The number of scalars in these parameters (`sum(p.nelement() for p in parameters)`). */
export function countParameters(params: tf.Variable[]): number {
  return params.reduce((n, p) => n + p.size, 0);
}
