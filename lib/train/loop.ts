/**
 * Training as in the lecture: minibatch SGD with a step learning-rate decay, the loss logged per
 * step (log10), the update:data ratio of every parameter when asked, and evaluation. Its progress
 * display is ./progress.ts, sampling names ./sample.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { Dataset } from '../data/dataset';
import { inNotebook } from '../viz/display';
import { Progress, formatStep } from './progress';
import { CompiledStep, LossFn, cachedStep, compiledStep, compiling } from '../compile/step';
import { watchInterrupt } from './interrupt';
import { item } from '../tensor/ops';
import { stdOf } from '../tensor/stats';
import { Generator } from '../tensor/random';
import { ArgumentError, checkFinite, checkFunction, checkGenerator, checkInteger, checkOptions, fail } from '../check';
import { checkBatchFits, checkDataset, indexRange, snapshotVariables, withData } from './guard';
import { noteTraining, noteFirstLoss } from '../nn/fingerprint';

/** The loss of a batch: the network's forward pass. `training` false means evaluation mode. */
export type { LossFn };

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
  /** Time each kind of kernel of the compiled step (slower; for the benchmark). */
  profileKernels?: boolean;
}

export interface TrainResult {
  /** log10 of the minibatch loss at every step (the lecture's `lossi`). */
  lossi: number[];
  /** Per step, per parameter: log10 update:data ratio (the lecture's `ud`); empty unless tracked. */
  ud: number[][];
  /** Wall time of the loop, in seconds. */
  seconds: number;
  /** True when the steps ran compiled (lib/compile), false when eagerly on TensorFlow.js (`MAKEMORE_COMPILE=0`). */
  compiled: boolean;
  /** With `profileKernels`: milliseconds per step spent in each kind of kernel of the compiled step. */
  kernelTimes?: Record<string, number>;
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

/**
 * Let the event loop run: the kernel sends what was printed or displayed (its message socket
 * takes one send at a time and fails if a loop never yields), and an interrupt can arrive.
 * (A browser has no setImmediate: there a zero timeout does the same.)
 */
const yieldToEventLoop = () =>
  new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

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
  const state = step === undefined ? 'before this step' : step === 0 ? 'before training' : `after step ${step - 1}`;
  throw new Error(
    `The loss is ${loss}${at} (learning rate ${lr}): training stopped before this step's update. ` +
      `Every parameter and buffer (running statistics included) holds its value from ${state}. ` +
      'Lower the learning rate or check the initialisation.',
  );
}

/**
 * The arguments `train` and `sgdStep` share, checked before anything is allocated (`where` names the
 * function): parameters, loss, data, generator, and a batch size that fits in the backend's memory.
 */
function checkTrainingArguments(
  where: string,
  o: { parameters: tf.Variable[]; loss: LossFn; data: Dataset; generator: Generator },
  batchSize: number,
): void {
  checkOptions(where, o);
  if (
    !Array.isArray(o.parameters) ||
    o.parameters.length === 0 ||
    !o.parameters.every((p) => p instanceof tf.Variable)
  ) {
    fail(where, 'parameters', o.parameters, 'a non-empty array of tf.Variable (mm.parameter, or net.parameters())');
  }
  const gone = o.parameters.findIndex((p) => p.isDisposed);
  if (gone >= 0) {
    throw new ArgumentError(
      `${where}: parameters[${gone}] (${o.parameters[gone].name}) was disposed: ` +
        'train the parameters of a network that is still there (build it again after dispose()).',
    );
  }
  checkFunction(where, 'loss', o.loss, 'a function (X, Y, training) => the scalar loss');
  checkDataset(where, 'data', o.data);
  checkGenerator(where, 'generator', o.generator);
  checkInteger(where, 'batchSize', batchSize, 1);
  checkBatchFits(where, 'batchSize', batchSize, o.loss, o.data, o.parameters, compiling());
}

/**
 * One step of the lecture's loop: ix = randint(0, n, (B,)); loss = forward(X[ix], Y[ix]); backward;
 * p -= lr * p.grad. A NaN or infinite loss is an error, raised before the update. Compiled (see
 * lib/compile/step.ts) unless `MAKEMORE_COMPILE=0`; either way the variables hold the step's result
 * when it returns.
 */
export function sgdStep(options: {
  parameters: tf.Variable[];
  loss: LossFn;
  data: Dataset;
  generator: Generator;
  lr: number;
  batchSize?: number;
  step?: number;
  updateRatios?: boolean;
  keepGrads?: boolean;
  /** The minibatch's rows, when already drawn. */
  ix?: Int32Array;
}): StepResult {
  const where = 'sgdStep';
  checkOptions(where, options);
  checkFinite(where, 'lr', options.lr);
  if (options.step !== undefined) checkInteger(where, 'step', options.step, 0);
  checkDataset(where, 'data', options.data);
  const { ix } = options;
  if (ix !== undefined) {
    if (!(ix instanceof Int32Array) || ix.length === 0)
      fail(where, 'ix', ix, 'an Int32Array of at least one row index');
    const bad = ix.findIndex((r) => r < 0 || r >= options.data.size);
    if (bad >= 0) fail(where, `ix[${bad}]`, ix[bad], `a row of the data set, from 0 to ${options.data.size - 1}`);
  }
  checkTrainingArguments(where, options, ix?.length ?? options.batchSize ?? 32);
  return stepOnce(options);
}

export interface StepWithGrads extends StepResult {
  grads: tf.NamedTensorMap;
  ud: number[];
}

/**
 * One step of the lecture's loop, as `train` runs it, that keeps its gradients (dispose them when
 * done) and its row of update:data ratios: what the lecture's cells see after `if i >= 1000: break`.
 */
export function sgdStepKeepingGrads(options: {
  parameters: tf.Variable[];
  loss: LossFn;
  data: Dataset;
  generator: Generator;
  lr: number;
  batchSize?: number;
}): StepWithGrads {
  return sgdStep({ ...options, updateRatios: true, keepGrads: true }) as StepWithGrads;
}

/** `sgdStep` without its checks (done once by `train` for the whole loop). */
function stepOnce(options: Parameters<typeof sgdStep>[0]): StepResult {
  const { parameters, loss, data, generator, lr } = options;
  const ix = options.ix ?? generator.randint(0, data.size, [options.batchSize ?? 32]);
  if (compiling()) {
    const step = stepFor(loss, data, ix, parameters);
    try {
      const v = runStep(step, data, ix, lr, options.step);
      const ud = step.update(lr, options.updateRatios ?? false);
      return { loss: v, ud, grads: options.keepGrads ? step.grads() : undefined };
    } finally {
      step.publish();
    }
  }
  const result: StepResult = { loss: NaN };
  // The loss assigns the running statistics during the forward pass, before a NaN can be seen: a step
  // that fails puts them back (the compiled step assigns them only with its update).
  const buffers = snapshotVariables(parameters);
  try {
    stepEagerly(options, ix, result);
  } catch (e) {
    buffers.restore();
    throw e;
  }
  buffers.release();
  return result;
}

function stepEagerly(options: Parameters<typeof sgdStep>[0], ix: Int32Array, result: StepResult): void {
  const { parameters, loss, data, lr } = options;
  tf.tidy(() => {
    const { X, Y } = batch(data, ix);
    const { value: lossValue, grads } = withData(data, () => tf.variableGrads(() => loss(X, Y, true), parameters));
    const v = item(lossValue);
    stopOnNonFinite(v, lr, options.step);
    for (const p of parameters) p.assign(p.sub(grads[p.name].mul(lr)));
    result.loss = v;
    if (options.updateRatios) {
      // Computed here from the values: a copy out of the backend is cheaper than a dozen small tensor
      // operations per parameter.
      result.ud = parameters.map((p) =>
        Math.log10((Math.abs(lr) * stdOf(grads[p.name].dataSync())) / stdOf(p.dataSync())),
      );
    }
    if (options.keepGrads) {
      Object.values(grads).forEach((g) => tf.keep(g));
      result.grads = grads;
    }
  });
}

/** The compiled step of `loss` for minibatches like `ix` (traced on it when new). */
function stepFor(
  loss: LossFn,
  data: Dataset,
  ix: Int32Array,
  parameters?: tf.Variable[],
  training = true,
): CompiledStep {
  // Traced anew for data with other indices: the trace is where embed and crossEntropy check them.
  const r = indexRange(data);
  const extraKey = `${r.maxX},${r.maxY}`;
  const cached = cachedStep(loss, [ix.length, data.blockSize], training, parameters, extraKey);
  if (cached) return cached;
  const { X, Y } = batch(data, ix);
  try {
    const { step, isNew } = withData(data, () => compiledStep(loss, X, Y, training, parameters, extraKey));
    if (isNew) {
      const note = step.fallbackNote();
      if (note) console.log(note);
    }
    return step;
  } finally {
    X.dispose();
    Y.dispose();
  }
}

/** The forward and backward pass of a compiled step on the rows `ix`; the loss, checked to be finite. */
function runStep(step: CompiledStep, data: Dataset, ix: Int32Array, lr: number, i?: number): number {
  step.reload();
  step.load(data.X, data.Y, ix);
  const value = step.forward();
  stopOnNonFinite(value, lr, i);
  return value;
}

/**
 * The lecture's training loop:
 *   for i in range(steps): ix = randint(0, n, (B,)); loss = forward(X[ix], Y[ix]); backward;
 *                          p -= lr(i) * p.grad; lossi.append(log10(loss))
 * Stops with an error on a NaN or infinite loss, before the update of that step, and on a kernel
 * interrupt (Kernel > Interrupt), after a whole step; either way the variables hold the parameters
 * (and running statistics) of the last completed step. Asynchronous: `await mm.train(...)`; it
 * yields to the event loop whenever it prints or shows progress, about twice a second.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const where = 'train';
  checkOptions(where, options);
  const { parameters, loss, data, steps, learningRate, generator } = options;
  const batchSize = options.batchSize ?? 32;
  checkInteger(where, 'steps', steps, 0);
  checkFunction(where, 'learningRate', learningRate, 'a function of the step, e.g. (i) => (i < 100000 ? 0.1 : 0.01)');
  const printEvery = checkInteger(where, 'printEvery', options.printEvery ?? 10000, 0);
  if (options.afterStep !== undefined)
    checkFunction(where, 'afterStep', options.afterStep, 'a function (step, loss) => void');
  checkTrainingArguments(where, options, batchSize);
  noteTraining(parameters);
  const progress = new Progress(steps, options.progress ?? true);
  const lossi: number[] = [];
  const ud: number[][] = [];
  const t0 = Date.now();
  // In a notebook, Kernel > Interrupt (SIGINT) stops the loop at the next yield; elsewhere Ctrl+C
  // keeps its default meaning. Not process.on here: see lib/train/interrupt.ts (it killed the kernel).
  const interrupt = inNotebook() ? watchInterrupt() : undefined;
  const compiled = compiling();
  let step: CompiledStep | undefined;
  try {
    for (let i = 0; i < steps; i++) {
      const lr = learningRate(i);
      if (!Number.isFinite(lr))
        fail(where, `learningRate(${i})`, lr, 'a finite number (the learning rate of that step)');
      const ix = generator.randint(0, data.size, [batchSize]);
      let value: number, ratios: number[] | undefined;
      if (compiled) {
        if (!step) {
          step = stepFor(loss, data, ix, parameters);
          if (!options.afterStep) step.keepPublished();
          if (options.profileKernels) step.profile = new Map();
        }
        value = runStep(step, data, ix, lr, i);
        ratios = step.update(lr, options.trackUpdateRatios ?? false);
        if (options.afterStep) step.publish();
      } else {
        ({ loss: value, ud: ratios } = stepOnce({
          parameters,
          loss,
          data,
          generator,
          lr,
          batchSize,
          step: i,
          updateRatios: options.trackUpdateRatios,
          ix,
        }));
      }
      if (ratios) ud.push(ratios);
      if (i === 0) noteFirstLoss(parameters, value);
      lossi.push(Math.log10(value));
      const printed = printEvery > 0 && i % printEvery === 0;
      if (printed) console.log(formatStep(i, steps, value));
      const shown = progress.update(i, value, i === steps - 1);
      options.afterStep?.(i, value);
      if (printed || shown) await yieldToEventLoop();
      if (interrupt?.requested())
        throw new Error(`Interrupted after step ${i}: the parameters are those after that step.`);
    }
  } finally {
    interrupt?.stop();
    step?.publish();
  }
  let kernelTimes: Record<string, number> | undefined;
  if (step?.profile) {
    kernelTimes = Object.fromEntries([...step.profile].map(([k, ms]) => [k, ms / steps]));
    step.profile = undefined;
  }
  return { lossi, ud, seconds: (Date.now() - t0) / 1000, compiled, kernelTimes };
}

/**
 * Rows per call in `evaluate` and `meanStdOver`: small enough that float32 means of chunks stay within
 * 1e-7 or so, and that a compiled step's buffers stay in the second-level cache (512 rows evaluate the
 * training split in about 0.7 of the time 1,024 take).
 */
const EVAL_ROWS = 512;

/**
 * The loss on a whole split in evaluation mode, no gradients (`@torch.no_grad()`), in chunks of
 * `chunk` rows so that memory stays small; the chunks' means are summed in float64, weighted by size.
 */
export function evaluate(loss: LossFn, data: Dataset, chunk = EVAL_ROWS): number {
  checkFunction('evaluate', 'loss', loss, 'a function (X, Y, training) => the scalar loss');
  checkDataset('evaluate', 'data', data);
  checkInteger('evaluate', 'chunk', chunk, 1);
  checkBatchFits('evaluate', 'chunk', Math.min(chunk, data.size), loss, data, undefined, compiling());
  const rows = (start: number, n: number) => {
    const ix = new Int32Array(n);
    for (let i = 0; i < n; i++) ix[i] = start + i;
    return ix;
  };
  let total = 0;
  for (let start = 0; start < data.size; start += chunk) {
    const n = Math.min(chunk, data.size - start);
    if (compiling()) {
      const step = stepFor(loss, data, rows(start, n), undefined, false);
      step.reload();
      step.loadRange(data.X, data.Y, start);
      total += step.forward() * n;
    } else {
      total += tf.tidy(() => {
        const T = data.blockSize;
        const X = tf.tensor2d(data.X.subarray(start * T, (start + n) * T), [n, T], 'int32');
        const Y = tf.tensor1d(data.Y.subarray(start, start + n), 'int32');
        return item(withData(data, () => loss(X, Y, false))) * n;
      });
    }
  }
  return total / data.size;
}

/**
 * The mean and the (unbiased) std of each column of `f(X)` over a whole data set, as the lecture's
 * batch-norm calibration `hpreact.mean(0, keepdim=True)`, `hpreact.std(0, keepdim=True)` does, both
 * [1, columns]; no gradients. It runs in chunks of `chunk` rows: in one piece the training set's hpreact
 * alone is 182,625 x 200 floats (146 MB), its calculation takes 440 MB, and the WebAssembly backend
 * keeps the memory it grew to for the rest of the process. The chunks' means and sums of squared
 * deviations are combined in float64 (Chan et al.'s pairwise formula), so the result is as exact as in
 * one piece.
 */
export function meanStdOver(
  f: (X: tf.Tensor2D) => tf.Tensor,
  data: Dataset,
  chunk = EVAL_ROWS,
): { mean: tf.Tensor2D; std: tf.Tensor2D } {
  const where = 'meanStdOver';
  checkFunction(
    where,
    'f',
    f,
    'a function (X [rows, blockSize]) => a tensor [rows, columns], e.g. (X) => mm.embed(C, X).matMul(W1)',
  );
  checkDataset(where, 'data', data);
  checkInteger(where, 'chunk', chunk, 1);
  if (data.size < 2) throw new ArgumentError(`${where}: data has 1 example: an unbiased std needs at least 2.`);
  const T = data.blockSize;
  let count = 0;
  let mean: Float64Array | undefined;
  let m2: Float64Array | undefined; // the sum of squared deviations from the mean, per column
  for (let start = 0; start < data.size; start += chunk) {
    const n = Math.min(chunk, data.size - start);
    const [chunkMean, chunkM2] = tf.tidy(() => {
      const X = tf.tensor2d(data.X.subarray(start * T, (start + n) * T), [n, T], 'int32');
      const out = withData(data, () => f(X));
      if (!(out instanceof tf.Tensor) || out.rank !== 2 || out.shape[0] !== n) {
        fail(where, `f(X) for X of shape [${n}, ${T}]`, out, `a tensor [${n}, columns] (one row per example)`);
      }
      const { mean: mu, variance } = tf.moments(out, 0);
      return [mu.dataSync(), variance.mul(n).dataSync()];
    });
    if (!mean || !m2) {
      mean = Float64Array.from(chunkMean);
      m2 = Float64Array.from(chunkM2);
    } else {
      if (chunkMean.length !== mean.length) {
        throw new ArgumentError(
          `${where}: f(X) gave ${chunkMean.length} columns for rows ${start} to ${start + n - 1}, ` +
            `but ${mean.length} for the first rows: f must give the same columns for every row.`,
        );
      }
      for (let j = 0; j < mean.length; j++) {
        const delta = chunkMean[j] - mean[j];
        mean[j] += (delta * n) / (count + n);
        m2[j] += chunkM2[j] + (delta * delta * count * n) / (count + n);
      }
    }
    count += n;
  }
  const columns = mean!.length;
  return {
    mean: tf.tensor2d(Float32Array.from(mean!), [1, columns]),
    std: tf.tensor2d(
      Float32Array.from(m2!, (s) => Math.sqrt(s / (count - 1))),
      [1, columns],
    ),
  };
}
