/**
 * Training as in the lecture: minibatch SGD with a step learning-rate decay, the loss logged per
 * step (log10), the update:data ratio of every parameter when asked, and evaluation and sampling.
 */
import * as tf from '@tensorflow/tfjs';
import { Dataset } from './data';
import { LiveOutput, inNotebook } from './display';
import { FusedStep } from './fused';
import { watchInterrupt } from './interrupt';
import { item } from './ops';
import { std as stdOf } from './diagnostics';
import { Generator } from './random';

/** The loss of a batch: the network's forward pass. `training` false means evaluation mode. */
export type LossFn = (X: tf.Tensor2D, Y: tf.Tensor1D, training: boolean) => tf.Scalar;

export interface TrainOptions {
  parameters: tf.Variable[];
  loss: LossFn;
  data: Dataset;
  steps: number;
  /** lr(step): the lecture's is `step < 100000 ? 0.1 : 0.01`. */
  learningRate: (step: number) => number;
  /** Draws the minibatch indices, `torch.randint(0, n, (batchSize,), generator=g)`. */
  generator: Generator;
  batchSize?: number;
  /** Print `      0/ 200000: 3.3239` every this many steps (the lecture: 10000). */
  printEvery?: number;
  /** Record log10(std(lr * grad) / std(data)) of every parameter at every step. */
  trackUpdateRatios?: boolean;
  /** Show a progress line that updates in place (default true). */
  progress?: boolean;
  /** Called after every step (after the update), e.g. to read layer statistics. */
  afterStep?: (step: number, loss: number) => void;
}

export interface TrainResult {
  /** log10 of the minibatch loss at every step (the lecture's `lossi`). */
  lossi: number[];
  /** Per step, per parameter: log10 update:data ratio (the lecture's `ud`); empty unless tracked. */
  ud: number[][];
  /** Wall time of the loop, in seconds. */
  seconds: number;
  /** True when the steps ran as fused WebAssembly kernels (lib/fused.ts), false on the TensorFlow.js path. */
  fused: boolean;
}

/** The minibatch `X[ix], Y[ix]` as tensors. */
export function batch(data: Dataset, ix: Int32Array): { X: tf.Tensor2D; Y: tf.Tensor1D } {
  const T = data.blockSize;
  const X = new Int32Array(ix.length * T);
  const Y = new Int32Array(ix.length);
  ix.forEach((row, b) => {
    X.set(data.X.subarray(row * T, row * T + T), b * T);
    Y[b] = data.Y[row];
  });
  return { X: tf.tensor2d(X, [ix.length, T], 'int32'), Y: tf.tensor1d(Y, 'int32') };
}

/** The whole data set as tensors. */
export function allOf(data: Dataset): { X: tf.Tensor2D; Y: tf.Tensor1D } {
  return { X: tf.tensor2d(data.X, [data.size, data.blockSize], 'int32'), Y: tf.tensor1d(data.Y, 'int32') };
}

/** `f'{i:7d}/{max_steps:7d}: {loss:.4f}'`, the lecture's progress print. */
export function formatStep(step: number, steps: number, loss: number): string {
  return `${String(step).padStart(7)}/${String(steps).padStart(7)}: ${loss.toFixed(4)}`;
}

/** Shows how far training is: in place in a notebook, a bar on a terminal, nothing otherwise. */
class Progress {
  private readonly live = inNotebook() ? new LiveOutput() : undefined;
  private readonly tty = !this.live && process.stderr.isTTY;
  private readonly t0 = Date.now();
  private last = 0;

  constructor(private readonly steps: number, private readonly enabled: boolean) {}

  /** Show the step (at most twice a second, and always when forced); true if something was shown. */
  update(step: number, loss: number, force = false): boolean {
    if (!this.enabled || (!this.live && !this.tty)) return false;
    const now = Date.now();
    if (!force && now - this.last < 500) return false;
    this.last = now;
    const done = step + 1;
    const frac = done / this.steps;
    const msPerStep = (now - this.t0) / done;
    const eta = Math.round((msPerStep * (this.steps - done)) / 1000);
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
    const line = `step ${done.toLocaleString('en')}/${this.steps.toLocaleString('en')} [${bar}] ${(frac * 100).toFixed(0)}%  ` +
      `loss ${loss.toFixed(4)}  ${msPerStep.toFixed(2)} ms/step  ${done === this.steps ? 'done' : `${eta} s left`}`;
    if (this.live) this.live.update({ 'text/plain': line });
    else process.stderr.write(`\r${line}${done === this.steps ? '\n' : ''}`);
    return true;
  }
}

/**
 * Let the event loop run: the kernel sends what was printed or displayed (its message socket
 * takes one send at a time and fails if a loop never yields), and an interrupt can arrive.
 */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface StepResult {
  /** The minibatch loss of this step. */
  loss: number;
  /** log10(std(lr * grad) / std(p)) of every parameter after the update (a row of the lecture's `ud`), when asked. */
  ud?: number[];
  /** d loss / d p of every parameter, by `p.name`, when asked: the caller disposes them. */
  grads?: tf.NamedTensorMap;
}

/** A NaN or infinite loss is an error, raised before that step's update. */
function stopOnNonFinite(loss: number, lr: number, step?: number): void {
  if (Number.isFinite(loss)) return;
  const at = step === undefined ? '' : ` at step ${step}`;
  throw new Error(`The loss is ${loss}${at} (learning rate ${lr}): training stopped before this step's update. ` +
    'Lower the learning rate or check the initialisation; the parameters are those after the previous step.');
}

/** The fused kernels and the loss function agree on a loss: equal but for float32 rounding. */
const agree = (reference: number, fused: number) =>
  Math.abs(reference - fused) <= 1e-4 * Math.max(1, Math.abs(reference)) || (Number.isNaN(reference) && Number.isNaN(fused));

/**
 * One step of the lecture's loop: ix = randint(0, n, (B,)); loss = forward(X[ix], Y[ix]); backward;
 * p -= lr * p.grad. A NaN or infinite loss is an error, raised before the update.
 */
export function sgdStep(options: {
  parameters: tf.Variable[]; loss: LossFn; data: Dataset; generator: Generator; lr: number;
  batchSize?: number; step?: number; updateRatios?: boolean; keepGrads?: boolean;
  /** The minibatch's rows, when already drawn. */
  ix?: Int32Array;
}): StepResult {
  const { parameters, loss, data, generator, lr } = options;
  const ix = options.ix ?? generator.randint(0, data.size, [options.batchSize ?? 32]);
  const result: StepResult = { loss: NaN };
  tf.tidy(() => {
    const { X, Y } = batch(data, ix);
    const { value: lossValue, grads } = tf.variableGrads(() => loss(X, Y, true), parameters);
    const v = item(lossValue);
    stopOnNonFinite(v, lr, options.step);
    for (const p of parameters) p.assign(p.sub(grads[p.name].mul(lr)));
    result.loss = v;
    if (options.updateRatios) {
      // Computed here from the values: a copy out of the backend is cheaper than a dozen small tensor
      // operations per parameter.
      result.ud = parameters.map((p) => Math.log10((Math.abs(lr) * stdOf(grads[p.name].dataSync())) / stdOf(p.dataSync())));
    }
    if (options.keepGrads) {
      Object.values(grads).forEach((g) => tf.keep(g));
      result.grads = grads;
    }
  });
  return result;
}

/**
 * Does the fused step compute `loss`? Both forward passes on the minibatch `ix` must give the same
 * loss (float32 rounding apart); the running estimates of batch norm are put back after each.
 */
function sameLoss(fused: FusedStep, loss: LossFn, data: Dataset, ix: Int32Array) {
  const running = fused.runningBuffers();
  const saved = running.map((v) => v.dataSync().slice());
  const restore = () => running.forEach((v, k) => tf.tidy(() => v.assign(tf.tensor(saved[k], v.shape))));
  const reference = tf.tidy(() => {
    const { X, Y } = batch(data, ix);
    return item(loss(X, Y, true));
  });
  restore();
  fused.reload();
  const fusedLoss = fused.forward(data.X, data.Y, ix);
  restore();
  fused.reload();
  return { same: agree(reference, fusedLoss), reference, fused: fusedLoss };
}

/**
 * The lecture's training loop:
 *   for i in range(steps): ix = randint(0, n, (B,)); loss = forward(X[ix], Y[ix]); backward;
 *                          p -= lr(i) * p.grad; lossi.append(log10(loss))
 * Stops with an error on a NaN or infinite loss, before the update of that step, and on a kernel
 * interrupt (Kernel > Interrupt), after a whole step. Asynchronous: `await mm.train(...)`; it
 * yields to the event loop whenever it prints or shows progress, about twice a second.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { parameters, loss, data, steps, learningRate, generator } = options;
  const batchSize = options.batchSize;
  const printEvery = options.printEvery ?? 10000;
  const progress = new Progress(steps, options.progress ?? true);
  const lossi: number[] = [];
  const ud: number[][] = [];
  const t0 = Date.now();
  // In a notebook, Kernel > Interrupt (SIGINT) stops the loop at the next yield; elsewhere Ctrl+C
  // keeps its default meaning. Not process.on here: see lib/interrupt.ts (it killed the kernel).
  const interrupt = inNotebook() ? watchInterrupt() : undefined;
  // The fused step when the network allows it (same numbers, a fraction of the time), else TensorFlow.js.
  let fused = FusedStep.create(loss, parameters, batchSize ?? 32, data.blockSize).step;
  try {
    for (let i = 0; i < steps; i++) {
      const lr = learningRate(i);
      let value: number, ratios: number[] | undefined;
      let ix: Int32Array | undefined;
      if (fused && i === 0) {
        ix = generator.randint(0, data.size, [batchSize ?? 32]);
        const check = sameLoss(fused, loss, data, ix);
        if (!check.same) {
          console.warn(`mm.train: the fused step gives ${check.fused} on the first minibatch and the loss function ` +
            `${check.reference}: the network described for it is not this loss. Training with TensorFlow.js instead.`);
          fused.dispose();
          fused = undefined;
        }
      }
      if (fused) {
        ix ??= generator.randint(0, data.size, [batchSize ?? 32]);
        value = fused.forward(data.X, data.Y, ix);
        stopOnNonFinite(value, lr, i);
        ratios = fused.learn(lr, options.trackUpdateRatios ?? false);
        if (options.afterStep) fused.publish();
      } else {
        ({ loss: value, ud: ratios } = sgdStep({ parameters, loss, data, generator, lr, batchSize, step: i,
          updateRatios: options.trackUpdateRatios, ix }));
      }
      if (ratios) ud.push(ratios);
      lossi.push(Math.log10(value));
      const printed = printEvery > 0 && i % printEvery === 0;
      if (printed) console.log(formatStep(i, steps, value));
      const shown = progress.update(i, value, i === steps - 1);
      if (options.afterStep) {
        options.afterStep(i, value);
        fused?.reload();
      }
      if (printed || shown) await yieldToEventLoop();
      if (interrupt?.requested()) throw new Error(`Interrupted after step ${i}: the parameters are those after that step.`);
    }
  } finally {
    interrupt?.stop();
    if (fused) {
      fused.publish();
      fused.dispose();
    }
  }
  return { lossi, ud, seconds: (Date.now() - t0) / 1000, fused: fused !== undefined };
}

/** Rows per call of the fused forward pass in `evaluate`. */
const FUSED_EVAL_ROWS = 1024;

/**
 * The loss on a whole split in evaluation mode, no gradients (`@torch.no_grad()`), in chunks so
 * that memory stays small; the mean is weighted by chunk size. A network that describes itself
 * (`describeNetwork`) is evaluated with the fused kernels, after checking them on the first chunk.
 */
export function evaluate(loss: LossFn, data: Dataset, chunk = 32768): number {
  const fused = FusedStep.create(loss, [], FUSED_EVAL_ROWS, data.blockSize).step;
  if (fused) {
    try {
      const rows = (start: number, n: number) => Int32Array.from({ length: n }, (_, i) => start + i);
      const first = rows(0, Math.min(FUSED_EVAL_ROWS, data.size));
      const reference = tf.tidy(() => {
        const { X, Y } = batch(data, first);
        return item(loss(X, Y, false));
      });
      const mine = fused.forward(data.X, data.Y, first, false);
      if (agree(reference, mine)) {
        let total = 0;
        for (let start = 0; start < data.size; start += FUSED_EVAL_ROWS) {
          const n = Math.min(FUSED_EVAL_ROWS, data.size - start);
          total += fused.forward(data.X, data.Y, rows(start, n), false) * n;
        }
        return total / data.size;
      }
      console.warn(`mm.evaluate: the fused forward pass gives ${mine} on the first rows and the loss function ` +
        `${reference}: the network described for it is not this loss. Evaluating with TensorFlow.js instead.`);
    } finally {
      fused.dispose();
    }
  }
  let total = 0;
  for (let start = 0; start < data.size; start += chunk) {
    const n = Math.min(chunk, data.size - start);
    total += tf.tidy(() => {
      const T = data.blockSize;
      const X = tf.tensor2d(data.X.subarray(start * T, (start + n) * T), [n, T], 'int32');
      const Y = tf.tensor1d(data.Y.subarray(start, start + n), 'int32');
      return item(loss(X, Y, false)) * n;
    });
  }
  return total / data.size;
}

/**
 * Sample names as the lecture does: start from '...' and draw the next character from
 * softmax(logits) with `torch.multinomial(probs, 1, generator=g)` until '.' comes out.
 * `logits(X)` maps contexts [1, blockSize] to logits [1, vocabSize] in evaluation mode.
 */
export function sampleNames(logits: (X: tf.Tensor2D) => tf.Tensor, options: {
  generator: Generator; itos: string[]; blockSize: number; count?: number; maxLength?: number;
  /** Draw as PyTorch 2.x does for one sample (argmax of p / Exponential(1)); default: torch 1.13's path. */
  exponentialForSingleSample?: boolean;
}): string[] {
  const names: string[] = [];
  for (let n = 0; n < (options.count ?? 20); n++) {
    const context = new Array(options.blockSize).fill(0);
    const out: string[] = [];
    for (let len = 0; len < (options.maxLength ?? 100); len++) {
      const probs = tf.tidy(() => tf.softmax(logits(tf.tensor2d([context], [1, options.blockSize], 'int32'))).dataSync());
      const ix = options.generator.multinomial(probs, 1, true, { exponentialForSingleSample: options.exponentialForSingleSample })[0];
      context.shift();
      context.push(ix);
      out.push(options.itos[ix]);
      if (ix === 0) break;
    }
    names.push(out.join(''));
  }
  return names;
}
