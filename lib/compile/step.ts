/**
 * Compiled training steps, with the semantics of `tf.function`:
 *   - The first time a loss function meets a minibatch shape, a training flag and a list of trained
 *     parameters, its step is run once with TensorFlow.js while every kernel is recorded
 *     (`record.ts`), forward and gradient. JavaScript values read while tracing are constants of the
 *     plan; variables (`tf.Variable`, e.g. `mm.parameter`, `mm.buffer`) are read at every step.
 *   - The record becomes a plan (`plan.ts`): calls of the SIMD kernels on buffers allocated once. Each
 *     later step runs the plan: the minibatch and the learning rate are its inputs; the SGD update,
 *     the assignments the loss makes (running statistics) and the update:data ratios are its last calls.
 *   - New shapes, flag or parameters make a new plan (cached per loss function).
 *   - The first step of every plan is checked against the eager one it was traced from: each kernel on
 *     the recorded inputs, then the loss and every gradient of the whole plan. A difference is an
 *     error that names the first kernel whose output differs, never a silent wrong result.
 * The plan keeps its own memory; `publish` copies parameters and running statistics back into the
 * `tf.Variable`s (and refreshes tensors kept with `refreshAfterStep`, such as a layer's `.out`).
 * `MAKEMORE_COMPILE=0` turns compiling off: training runs eagerly on TensorFlow.js.
 */
import * as tf from '@tensorflow/tfjs';
import { Plan, PlanOp } from './plan';
import { record, Recording } from './record';
import { SETTINGS, envChoice } from '../check';

export type LossFn = (X: tf.Tensor2D, Y: tf.Tensor1D, training: boolean) => tf.Scalar;

/** Whether training and evaluation compile (`MAKEMORE_COMPILE`, default on). */
export function compiling(): boolean {
  return envChoice('MAKEMORE_COMPILE', SETTINGS.MAKEMORE_COMPILE, 'the same as 1') !== '0';
}

/** Whether compiled steps fuse neighbouring elementwise kernels (`MAKEMORE_FUSE`, default on). */
export function fusing(): boolean {
  return envChoice('MAKEMORE_FUSE', SETTINGS.MAKEMORE_FUSE, 'the same as 1') !== '0';
}

/** Tolerances of the first-step check (float32 arithmetic in another order, other polynomial approximations). */
const KERNEL_RTOL = 1e-4;
const STEP_RTOL = 1e-3;
const REDUCTIONS = { Sum: 1, Mean: 1, Prod: 1 };

/** The largest |x|. */
function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]);
    if (a > m && Number.isFinite(a)) m = a;
  }
  return m;
}

/** The first index where `got` differs from `want` by more than `tol(i)`, or -1 (NaN matches NaN). */
function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number): number {
  for (let i = 0; i < want.length; i++) {
    const a = got[i],
      b = want[i];
    if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
    if (!(Math.abs(a - b) <= tol(i))) return i;
  }
  return -1;
}

/** A check of a compiled step that failed: names the kernel, or the loss or gradient. */
export class CompileCheckError extends Error {}

let nextId = 1;
const variableIds = new WeakMap<tf.Variable, number>();
const idOfVariable = (v: tf.Variable) => {
  let id = variableIds.get(v);
  if (id === undefined) variableIds.set(v, (id = nextId++));
  return id;
};

/** Test hook: replace the work of one kernel in plans built from now on (to check that the first-step check catches it). */
export const testing = {
  sabotage: undefined as undefined | { kernel: string; wrap: (run: () => void, plan: Plan, op: PlanOp) => () => void },
};

/** One compiled step of one loss function, for one shape of minibatch, one mode and one list of parameters. */
export class CompiledStep {
  private readonly plan: Plan;
  private readonly rec: Recording;
  private readonly xId: number;
  private readonly yId: number;
  private readonly rows: number;
  private readonly T: number;
  private readonly lossId: number;
  /** Trained parameters with their value's and their gradient's ids. */
  private readonly trained: { v: tf.Variable; id: number; grad: number }[];
  /** Every variable the step reads or assigns, with its buffer's id. */
  private readonly variables: { v: tf.Variable; id: number }[];
  /** The `dataId` each variable had when its buffer was last made equal to it. */
  private readonly synced = new Map<tf.Variable, object>();
  /** Kernels ran, and those through TensorFlow.js. */
  readonly kernelCount: number;
  readonly fallbacks: Map<string, number>;
  /** Per kernel name: milliseconds spent, when profiling. */
  profile?: Map<string, number>;

  /**
   * Trace `loss` on the minibatch (X, Y) and build its plan. With `parameters`, the step computes the
   * loss's gradient with respect to them (`tf.variableGrads`); without, only the loss.
   */
  constructor(loss: LossFn, X: tf.Tensor2D, Y: tf.Tensor1D, training: boolean, parameters?: tf.Variable[]) {
    [this.rows, this.T] = X.shape;
    const { result, recording, idOf } = record(() => {
      if (!parameters) {
        const value = tf.tidy(() => loss(X, Y, training));
        return { value, grads: {} as tf.NamedTensorMap };
      }
      return tf.variableGrads(() => loss(X, Y, training), parameters);
    }, [X, Y]);
    this.rec = recording;
    try {
      this.xId = idOf(X.dataId);
      this.yId = idOf(Y.dataId);
      if (!(result.value instanceof tf.Tensor) || result.value.size !== 1) {
        throw new Error(
          `the loss function must return a scalar tensor, got ${result.value instanceof tf.Tensor ? `shape [${result.value.shape}]` : typeof result.value}`,
        );
      }
      this.lossId = idOf(result.value.dataId);
      if (!recording.values.has(this.lossId))
        recording.values.set(this.lossId, Float32Array.from(result.value.dataSync()));
      this.trained = (parameters ?? []).map((v) => {
        const g = result.grads[v.name];
        const grad = idOf(g.dataId);
        if (!recording.values.has(grad)) recording.values.set(grad, Float32Array.from(g.dataSync()));
        let id = recording.variables.get(v);
        if (id === undefined) {
          id = idOf({});
          recording.values.set(id, Float32Array.from(v.dataSync()));
          recording.variables.set(v, id);
        }
        return { v, id, grad };
      });
      this.variables = [...recording.variables].map(([v, id]) => ({ v, id }));
      const keep = new Set<number>([
        this.lossId,
        ...this.trained.map((p) => p.grad),
        ...recording.assigned.values(),
        ...recording.refreshed.map((r) => r.id),
      ]);
      this.plan = new Plan(recording, keep, fusing());
      const sabotage = testing.sabotage;
      if (sabotage)
        this.plan.ops.forEach((op) => {
          if (op.kernels.includes(sabotage.kernel)) op.run = sabotage.wrap(op.run, this.plan, op);
        });
      this.kernelCount = this.plan.ops.length;
      this.fallbacks = this.plan.fallbacks();
      for (const { v } of this.variables) this.synced.set(v, v.dataId);
      this.checkKernels();
    } catch (e) {
      // The traced step moved the running statistics: put back their values from before it.
      this.restoreAssigned();
      throw e;
    } finally {
      result.value.dispose();
      Object.values(result.grads).forEach((g) => g.dispose());
    }
  }

  /** What the plan does not run itself, in one line (empty when it runs everything). */
  fallbackNote(): string {
    if (this.fallbacks.size === 0) return '';
    const n = [...this.fallbacks.values()].reduce((a, b) => a + b, 0);
    return `${n} of ${this.kernelCount} kernels ran on TensorFlow.js: ${[...this.fallbacks.keys()].join(', ')}`;
  }

  private restoreAssigned(): void {
    for (const [v] of this.rec.assigned) {
      const id = this.rec.variables.get(v);
      const values = id === undefined ? undefined : this.rec.values.get(id);
      if (values && !v.isDisposed) tf.tidy(() => v.assign(tf.tensor(values, v.shape, v.dtype)));
    }
  }

  /**
   * Each kernel (or fused group of kernels) on the recorded inputs against the recorded outputs. Every
   * buffer starts with its recorded value and each output is set back to the eager one after the
   * comparison, so each is judged on its own.
   */
  private checkKernels(): void {
    const { plan, rec } = this;
    for (const [id, values] of rec.values) if (!rec.produced.has(id)) plan.write(id, values);
    const producer = new Map<number, number>();
    rec.calls.forEach((c, i) => c.outputs.forEach((o) => producer.set(o.id, i)));
    for (const op of plan.ops) {
      op.run();
      const inputMax = Math.max(
        0,
        ...op.calls.flatMap((c) => rec.calls[c].inputs.map(([, r]) => maxAbs(rec.values.get(r.id) ?? []))),
      );
      for (const id of op.writes) {
        if (!rec.produced.has(id)) continue;
        const want = rec.values.get(id)!;
        const got = plan.read(id);
        const c = producer.get(id)!;
        const call = rec.calls[c];
        // Products and reductions sum many terms per output, in another order than TensorFlow.js.
        const summed =
          call.kernel === 'BatchMatMul'
            ? call.attrs.transposeA
              ? call.inputs[0][1].shape.at(-2)!
              : call.inputs[0][1].shape.at(-1)!
            : call.kernel in REDUCTIONS
              ? Math.max(1, (rec.values.get(call.inputs[0][1].id)?.length ?? 0) / Math.max(1, want.length))
              : 1;
        const slack = KERNEL_RTOL * maxAbs(want) + (summed > 1 ? 1e-6 * summed * inputMax : 0);
        const at = firstDifference(got, want, (k) => KERNEL_RTOL * Math.abs(want[k]) + slack);
        if (at >= 0) {
          const which =
            op.calls.length === 1
              ? `kernel ${c + 1} of ${rec.calls.length} (${call.kernel}`
              : `kernel ${c + 1} of ${rec.calls.length} (${call.kernel}, in a fused loop of ${op.kernels.join(', ')}`;
          throw new CompileCheckError(
            `compiled step: ${which}, output [${call.outputs.find((o) => o.id === id)?.shape}]) ` +
              `gives ${got[at]} at element ${at} where TensorFlow.js gives ${want[at]}` +
              (op.fallback ? ' (run through TensorFlow.js)' : '') +
              '. This is a bug of the compiler: set MAKEMORE_COMPILE=0 to train eagerly meanwhile.',
          );
        }
        plan.write(id, want);
      }
    }
    // Start the real run from the recorded inputs again.
    for (const [id, values] of rec.values) if (!rec.produced.has(id)) plan.write(id, values);
  }

  /** After the first whole run (on the traced minibatch): the loss and every gradient against the eager step's. */
  private checkRun(): void {
    const compare = (what: string, id: number) => {
      const want = this.rec.values.get(id)!;
      const got = this.plan.read(id);
      const m = maxAbs(want);
      const at = firstDifference(got, want, (k) => STEP_RTOL * (Math.abs(want[k]) + m));
      if (at >= 0) {
        throw new CompileCheckError(
          `compiled step: ${what} is ${got[at]} at element ${at} where TensorFlow.js gives ` +
            `${want[at]}. This is a bug of the compiler: set MAKEMORE_COMPILE=0 to train eagerly meanwhile.`,
        );
      }
    };
    compare('the loss', this.lossId);
    this.trained.forEach(({ v, grad }) => compare(`the gradient of ${v.name}`, grad));
  }

  /** True when a variable of the step was disposed (the loss may now read new ones: trace again). */
  stale(): boolean {
    return this.variables.some(({ v }) => v.isDisposed);
  }

  /** The values of the variables, where they changed since the plan last saw them (an `afterStep`, a cell). */
  reload(): void {
    for (const { v, id } of this.variables) {
      if (this.synced.get(v) === v.dataId) continue;
      if (v.isDisposed) throw new Error(`a variable this step reads (${v.name}) was disposed`);
      this.plan.write(id, v.dataSync());
      this.synced.set(v, v.dataId);
    }
  }

  /** Put the minibatch `X[ix], Y[ix]` (rows of the data set) into the plan's inputs. */
  load(dataX: Int32Array, dataY: Int32Array, ix: ArrayLike<number>): void {
    const heap = this.plan.mem.heap;
    const T = this.T;
    if (ix.length !== this.rows) throw new Error(`this step takes ${this.rows} rows, not ${ix.length}`);
    const x = this.plan.address(this.xId) >> 2,
      y = this.plan.address(this.yId) >> 2;
    for (let b = 0; b < ix.length; b++) {
      const row = ix[b];
      for (let t = 0; t < T; t++) heap[x + b * T + t] = dataX[row * T + t];
      heap[y + b] = dataY[row];
    }
  }

  /** Put consecutive rows `start ..` of the data set into the plan's inputs. */
  loadRange(dataX: Int32Array, dataY: Int32Array, start: number): void {
    const heap = this.plan.mem.heap;
    heap.set(dataX.subarray(start * this.T, (start + this.rows) * this.T), this.plan.address(this.xId) >> 2);
    heap.set(dataY.subarray(start, start + this.rows), this.plan.address(this.yId) >> 2);
  }

  /** False until the first run (on the traced minibatch) has been checked against the eager step. */
  private checked = false;
  /** Runs so far: a tensor made from the plan's buffers belongs to the run that published it. */
  private runs = 0;

  /**
   * The forward and backward pass; returns the loss. Variables are not changed yet. The first run of a
   * new step must be on the minibatch it was traced on: it is checked against the eager step.
   */
  forward(): number {
    this.runs++;
    const ops = this.plan.ops;
    if (this.profile) {
      for (const op of ops) {
        const t0 = performance.now();
        op.run();
        this.profile.set(op.kind, (this.profile.get(op.kind) ?? 0) + performance.now() - t0);
      }
    } else {
      for (let i = 0; i < ops.length; i++) ops[i].run();
    }
    if (!this.checked) {
      this.checked = true;
      this.checkRun();
    }
    return this.plan.read(this.lossId)[0];
  }

  /**
   * The end of a step: the loss's assignments (running statistics), then p -= lr * grad, and, when
   * asked, log10(std(lr * grad) / std(p)) of every parameter after its update (the lecture's `ud` row).
   */
  update(lr: number, ratios: boolean): number[] | undefined {
    const k = this.plan.mem.kernels;
    for (const [v, source] of this.rec.assigned) {
      const target = this.rec.variables.get(v)!;
      if (source !== target) this.plan.write(target, this.plan.read(source).slice());
    }
    for (const p of this.trained) k.sgd(this.plan.address(p.id), this.plan.address(p.grad), p.v.size, lr);
    if (!ratios) return undefined;
    return this.trained.map((p) =>
      Math.log10(
        (Math.abs(lr) * k.std(this.plan.address(p.grad), p.v.size)) / k.std(this.plan.address(p.id), p.v.size),
      ),
    );
  }

  /** The gradients of the last step, as new tensors by parameter name (the caller disposes them). */
  grads(): tf.NamedTensorMap {
    return Object.fromEntries(
      this.trained.map((p) => [p.v.name, tf.tensor(this.plan.read(p.grad).slice(), p.v.shape)]),
    );
  }

  /**
   * Give the variables the plan changed (parameters, running statistics) their values, and tensors kept
   * with `refreshAfterStep` (a layer's `.out` and `.outGrad`) theirs. New tensors, not writes in place:
   * TensorFlow.js backends may keep derived copies of a tensor (packed weights) keyed by its data.
   */
  publish(): void {
    const changed = new Map<tf.Variable, number>();
    for (const p of this.trained) changed.set(p.v, p.id);
    for (const [v] of this.rec.assigned) changed.set(v, this.rec.variables.get(v)!);
    tf.tidy(() => {
      for (const [v, id] of changed) {
        if (v.isDisposed) continue;
        v.assign(tf.tensor(this.plan.read(id).slice(), v.shape, v.dtype));
        this.synced.set(v, v.dataId);
      }
    });
    // The tensors are made when read, from the plan's buffer: most steps nobody reads them, so most
    // steps copy nothing. The buffer holds this step's value until the plan runs again; a run that is
    // not followed by a publish at once (a training loop's) first copies what is still unread
    // (`keepPublished`). A read of a value a run overwrote would be a bug here: it fails loudly.
    const run = this.runs;
    this.unread.clear();
    for (const r of this.rec.refreshed) {
      if (this.plan.size(r.id) === 0) continue;
      this.unread.add(r);
      r.later(() => {
        if (this.runs !== run)
          throw new Error('a compiled step ran without publishing its values (a bug of lib/compile)');
        this.unread.delete(r);
        return tf.tensor(this.plan.read(r.id).slice(), r.shape);
      });
    }
  }

  /** The refreshed tensors published but not read yet (made from the plan's buffers when read). */
  private readonly unread = new Set<Recording['refreshed'][number]>();

  /**
   * Before runs without a publish after each (a training loop publishes at its end): copy the values of
   * the last publish that are still unread, as those runs overwrite the buffers they would be made from.
   */
  keepPublished(): void {
    for (const r of this.unread) {
      const values = this.plan.read(r.id).slice();
      r.later(() => tf.tensor(values, r.shape));
    }
    this.unread.clear();
  }
}

const cache = new WeakMap<object, Map<string, CompiledStep>>();

/**
 * The compiled step of `loss` for minibatches of this shape, this mode and these trained parameters
 * (none: evaluation), from the cache, or new: traced on (X, Y), built and checked kernel by kernel.
 * `isNew` says whether it was just traced (then its first run must be on the same minibatch).
 */
export function compiledStep(
  loss: LossFn,
  X: tf.Tensor2D,
  Y: tf.Tensor1D,
  training: boolean,
  parameters?: tf.Variable[],
  /** Anything else that must trace anew when it changes (the data's range of indices, checked while tracing). */
  extraKey = '',
): { step: CompiledStep; isNew: boolean } {
  const cached = cachedStep(loss, X.shape, training, parameters, extraKey);
  if (cached) return { step: cached, isNew: false };
  const step = new CompiledStep(loss, X, Y, training, parameters);
  cache.get(loss)!.set(keyOf(X.shape, training, parameters, extraKey), step);
  return { step, isNew: true };
}

const keyOf = (shape: number[], training: boolean, parameters: tf.Variable[] | undefined, extraKey: string) =>
  `${training}|${shape}|${parameters ? parameters.map(idOfVariable).join(',') : 'eval'}|${extraKey}`;

/** The cached step for minibatches X of this shape [rows, blockSize], if there is one (no tensor needed to ask). */
export function cachedStep(
  loss: LossFn,
  shape: number[],
  training: boolean,
  parameters?: tf.Variable[],
  extraKey = '',
): CompiledStep | undefined {
  let steps = cache.get(loss);
  if (!steps) cache.set(loss, (steps = new Map()));
  const cached = steps.get(keyOf(shape, training, parameters, extraKey));
  return cached && !cached.stale() ? cached : undefined;
}

/** Forget the compiled steps of a loss function (after an error, or when its variables are gone). */
export function forgetSteps(loss: LossFn): void {
  cache.delete(loss);
}
