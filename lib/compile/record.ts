/**
 * Recording what TensorFlow.js runs, the first step of compiling (as `tf.function` traces).
 *
 * While `record(f)` runs, every kernel of the active backend is re-registered through TensorFlow.js's
 * public kernel registry (`tf.getKernelsForBackend`, `tf.unregisterKernel`, `tf.registerKernel`) with a
 * wrapper that notes the kernel's name, inputs, attributes and outputs, and reads their values
 * (the backend's `readSync`, public). The engine looks a kernel up by name at every call, so the wrappers
 * see every call, forward and gradient alike; the original kernels are registered again afterwards.
 *
 * A value is known by its `dataId`: an input that no recorded call produced is a variable (found in
 * `tf.engine().registeredVariables`), one of the step's inputs (the minibatch), or a constant of the
 * plan (a tensor made from JavaScript values while tracing, such as a scalar `n - 1`).
 */
import * as tf from '@tensorflow/tfjs';

/** A tensor as one call saw it: the value's number, its shape and dtype. */
export interface Ref {
  id: number;
  shape: number[];
  dtype: tf.DataType;
}

/** One kernel call. `inputs` keep the kernel's own names and order (`a`, `b`; `x`; `0`, `1` for Concat). */
export interface Call {
  kernel: string;
  inputs: [string, Ref][];
  attrs: Record<string, unknown>;
  outputs: Ref[];
}

export interface Recording {
  calls: Call[];
  /** The eager value of every value seen (inputs when first seen, outputs when produced), as float32. */
  values: Map<number, Float32Array>;
  /** Values produced by a recorded call. */
  produced: Set<number>;
  /** Ids of the dataIds seen (`idOf`). */
  ids: Map<object, number>;
  /** Variables read or assigned, with the id of their value when the recording started. */
  variables: Map<tf.Variable, number>;
  /** Variables whose value changed during the recording (`assign`), with the id of their new value. */
  assigned: Map<tf.Variable, number>;
  /** Tensors that outlive the step and should follow it (`refreshAfterStep`), with their value's id. */
  refreshed: { id: number; shape: number[]; later: (make: () => tf.Tensor) => void }[];
}

/** Values of any dtype as float32: every buffer of a plan is float32 (indices and booleans included). */
function asFloat32(v: tf.BackendValues): Float32Array {
  if (v instanceof Float32Array) return v.slice();
  if (v instanceof Int32Array || v instanceof Uint8Array) return Float32Array.from(v);
  throw new Error('the compiler handles numeric tensors only (not strings)');
}

let active: Recording | undefined;
let activeIdOf: ((dataId: object) => number) | undefined;

/**
 * Keep `t`, a tensor that outlives a compiled step (such as a layer's `.out`), up to date: after each
 * compiled step the plan calls `later` with a function that makes a tensor of that step's value (call
 * it when the value is read: most steps nobody reads it). Outside a recording it does nothing. (A
 * tensor kept without this keeps the value of the traced step, as in `tf.function`.)
 */
export function refreshAfterStep(t: tf.Tensor, later: (make: () => tf.Tensor) => void): void {
  if (!active || !activeIdOf) return;
  active.refreshed.push({ id: activeIdOf(t.dataId), shape: t.shape.slice(), later });
}

/** True while a step is being recorded. */
export const recording = () => active !== undefined;

/**
 * Run `f` eagerly, recording every kernel it runs. `inputs` are the step's inputs (the minibatch),
 * given the ids 0, 1, ... in order.
 */
export function record<T>(
  f: () => T,
  inputs: tf.Tensor[],
): { result: T; recording: Recording; idOf: (dataId: object) => number } {
  if (active) throw new Error('a step is already being recorded (nested compilation is not supported)');
  const rec: Recording = {
    calls: [],
    values: new Map(),
    produced: new Set(),
    ids: new Map(),
    variables: new Map(),
    assigned: new Map(),
    refreshed: [],
  };
  const idOf = (dataId: object) => {
    let id = rec.ids.get(dataId);
    if (id === undefined) rec.ids.set(dataId, (id = rec.ids.size));
    return id;
  };
  const variableOf = new Map<object, tf.Variable>();
  for (const v of Object.values(tf.engine().registeredVariables)) variableOf.set(v.dataId, v);
  const startIds = new Map<tf.Variable, object>([...variableOf].map(([d, v]) => [v, d]));
  for (const t of inputs) rec.values.set(idOf(t.dataId), asFloat32(t.dataSync()));

  const backendName = tf.getBackend();
  const originals = tf.getKernelsForBackend(backendName);
  let depth = 0;
  const wrap = (config: tf.KernelConfig): tf.KernelConfig => ({
    ...config,
    kernelFunc: (args) => {
      // A kernel that runs another through the registry is recorded once, as itself.
      if (depth > 0) return config.kernelFunc(args);
      const call: Call = { kernel: config.kernelName, inputs: [], attrs: { ...(args.attrs ?? {}) }, outputs: [] };
      for (const [name, info] of Object.entries(args.inputs)) {
        if (!info) continue;
        const known = rec.ids.has(info.dataId);
        const id = idOf(info.dataId);
        if (!known) {
          rec.values.set(id, asFloat32((args.backend as tf.KernelBackend).readSync(info.dataId)));
          const v = variableOf.get(info.dataId);
          if (v) rec.variables.set(v, id);
        }
        call.inputs.push([name, { id, shape: info.shape.slice(), dtype: info.dtype }]);
      }
      depth++;
      let out: tf.TensorInfo | tf.TensorInfo[];
      try {
        out = config.kernelFunc(args);
      } finally {
        depth--;
      }
      for (const info of Array.isArray(out) ? out : [out]) {
        const id = idOf(info.dataId);
        // An output that is an input (a reshape on some backends) is the same value.
        if (!call.inputs.some(([, r]) => r.id === id)) {
          rec.produced.add(id);
          rec.values.set(id, asFloat32((args.backend as tf.KernelBackend).readSync(info.dataId)));
        }
        call.outputs.push({ id, shape: info.shape.slice(), dtype: info.dtype });
      }
      rec.calls.push(call);
      return out;
    },
  });
  const register = (configs: tf.KernelConfig[]) => {
    for (const c of configs) {
      tf.unregisterKernel(c.kernelName, backendName);
      tf.registerKernel(c);
    }
  };
  register(originals.map(wrap));
  active = rec;
  activeIdOf = idOf;
  let result: T;
  try {
    result = f();
  } finally {
    active = undefined;
    activeIdOf = undefined;
    register(originals);
  }
  // Assignments: a variable now holding another value (`v.assign(t)` gives v the dataId of t).
  for (const [v, start] of startIds) {
    if (v.isDisposed || v.dataId === start) continue;
    const known = rec.ids.has(v.dataId);
    const id = idOf(v.dataId);
    if (!known) rec.values.set(id, asFloat32(v.dataSync()));
    rec.assigned.set(v, id);
    if (!rec.variables.has(v)) {
      // Assigned without being read: its old value is gone, the plan still needs a buffer for it.
      const old = idOf(start);
      rec.values.set(old, new Float32Array(v.size));
      rec.variables.set(v, old);
    }
  }
  return { result, recording: rec, idOf };
}
