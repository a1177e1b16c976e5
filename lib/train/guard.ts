/**
 * Guards of training and evaluation, checked before anything is allocated: the data set itself, its
 * character indices against the network (through `withData`, read by `embed` and `crossEntropy`),
 * whether a batch fits in what the backend can allocate, and snapshots of the variables a step may
 * assign (so that a failed step leaves them as they were).
 */
import * as tf from '@tensorflow/tfjs';
import { totalMemory } from '../env/host';
import { ArgumentError, checkInteger, describe, fail } from '../check';
import type { Dataset } from '../data/dataset';
import type { LossFn } from '../compile/step';

// ---------------------------------------------------------------------------------------------
// The data set
// ---------------------------------------------------------------------------------------------

export interface IndexRange {
  /** The largest character index of the contexts (X) and of the targets (Y); -1 when there are none. */
  maxX: number;
  maxY: number;
  /** The smallest of either (a negative index is always wrong). */
  min: number;
}

const ranges = new WeakMap<Int32Array, IndexRange>();

/** The range of the character indices of a data set (computed once per array). */
export function indexRange(data: Dataset): IndexRange {
  let r = ranges.get(data.X);
  if (r && ranges.get(data.Y) === r) return r;
  let maxX = -1,
    maxY = -1,
    min = 0;
  for (let i = 0; i < data.X.length; i++) {
    const v = data.X[i];
    if (v > maxX) maxX = v;
    if (v < min) min = v;
  }
  for (let i = 0; i < data.Y.length; i++) {
    const v = data.Y[i];
    if (v > maxY) maxY = v;
    if (v < min) min = v;
  }
  r = { maxX, maxY, min };
  ranges.set(data.X, r);
  ranges.set(data.Y, r);
  return r;
}

/**
 * A data set as `buildDataset` makes it: X of size * blockSize int32 indices, Y of size, and at least
 * one example (`what` names it: `data`, `the split`).
 */
export function checkDataset(where: string, what: string, data: Dataset): Dataset {
  if (typeof data !== 'object' || data === null || !(data.X instanceof Int32Array) || !(data.Y instanceof Int32Array)) {
    fail(where, what, data, 'a data set made by mm.buildDataset or mm.splitDataset ({ X, Y, size, blockSize })');
  }
  checkInteger(where, `${what}.blockSize`, data.blockSize, 1);
  if (data.size === 0) {
    throw new ArgumentError(
      `${where}: ${what} is empty (0 examples): nothing to train on or evaluate. ` +
        'Check the names it was built from (an empty list, or a split of too few names).',
    );
  }
  if (data.size !== data.Y.length || data.X.length !== data.size * data.blockSize) {
    throw new ArgumentError(
      `${where}: ${what} is inconsistent: size ${data.size}, blockSize ${data.blockSize}, ` +
        `but X holds ${data.X.length} indices and Y ${data.Y.length} (X must hold size * blockSize, Y size).`,
    );
  }
  const r = indexRange(data);
  if (r.min < 0) throw new ArgumentError(`${where}: ${what} holds the character index ${r.min}: indices must be >= 0.`);
  return data;
}

/** The data set a step runs on, while its loss runs: `embed` and `crossEntropy` check their indices against it. */
let current: IndexRange | undefined;

/** Run `f` (a step's loss) with `data`'s index range visible to the network's layers. */
export function withData<T>(data: Dataset, f: () => T): T {
  const before = current;
  current = indexRange(data);
  try {
    return f();
  } finally {
    current = before;
  }
}

/** The largest index a table of `rows` rows sees: the whole data set's while a step runs, else the batch's. */
export function largestIndex(indices: tf.Tensor, which: 'maxX' | 'maxY'): number {
  if (current) return current[which];
  const v = indices.dataSync();
  let m = -1;
  for (let i = 0; i < v.length; i++) if (v[i] > m) m = v[i];
  return m;
}

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

/** The WebAssembly backend's memory, and a compiled step's own, are 32-bit WebAssembly memories: 4 GiB at most. */
const WASM_LIMIT = 4 * 2 ** 30;
/** Room left for fragmentation and what else the process holds. */
const MARGIN = 1.25;
/** A compiled step keeps every value of its traced step (JavaScript) and its plan's buffers: measured 2.1 to 2.7 times the eager peak. */
const COMPILED_EXTRA = 3;
/**
 * A first bound, without running anything: bytes per example of a step, 4 bytes times the one-hot
 * contexts and the outputs of every 2-D parameter, times this (the lecture's networks measure 4 to 17).
 * Below a quarter of the limit the batch surely fits; above, one small step is measured.
 */
const BOUND_FACTOR = 24;

const GiB = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;

/**
 * Bytes the backend can hold for tensors, and what the process can hold in all: the WebAssembly
 * backend's 4 GiB memory, and 80% of the machine's memory.
 */
function limits(): { backend: number; total: number; backendName: string } {
  const backendName = tf.getBackend();
  const total = 0.8 * totalMemory();
  return { backend: backendName === 'wasm' ? Math.min(WASM_LIMIT, total) : total, total, backendName };
}

/**
 * The peak bytes of tensors while `f` runs, read after every kernel (allocations happen in kernels),
 * through TensorFlow.js's public kernel registry, as lib/compile/record.ts does.
 */
function peakBytes(f: () => void): number {
  const backendName = tf.getBackend();
  const originals = tf.getKernelsForBackend(backendName);
  let peak = tf.memory().numBytes;
  const register = (configs: tf.KernelConfig[]) => {
    for (const c of configs) {
      tf.unregisterKernel(c.kernelName, backendName);
      tf.registerKernel(c);
    }
  };
  register(
    originals.map((c) => ({
      ...c,
      kernelFunc: (args: Parameters<tf.KernelFunc>[0]) => {
        const out = c.kernelFunc(args);
        peak = Math.max(
          peak,
          tf.memory().numBytes + [out].flat().reduce((n, t) => n + 4 * t.shape.reduce((a, b) => a * b, 1), 0),
        );
        return out;
      },
    })),
  );
  try {
    f();
  } finally {
    register(originals);
  }
  return peak;
}

/**
 * A snapshot of the buffers (variables not trained: running statistics), which a step's loss may assign
 * on the side; with `all`, of every variable but `parameters`. `restore` puts back those that changed,
 * for a step that failed; `release` forgets the snapshot. Call one of them.
 */
export function snapshotVariables(
  parameters: tf.Variable[] = [],
  all = false,
): { restore: () => void; release: () => void } {
  const trained = new Set(parameters);
  // Clones share the variables' data: no copy; the old values just stay alive until released.
  const saved = Object.values(tf.engine().registeredVariables)
    .filter((v) => !trained.has(v) && !v.isDisposed && (all || !v.trainable))
    .map((v) => ({ v, old: tf.clone(v) }));
  const release = () => saved.forEach(({ old }) => old.dispose());
  return {
    restore: () => {
      for (const { v, old } of saved) if (!v.isDisposed && v.dataId !== old.dataId) v.assign(old);
      release();
    },
    release,
  };
}

/**
 * Check that a step on `rows` examples fits in what the backend can allocate, before allocating it: a
 * batch too large for the WebAssembly backend's 4 GiB aborts it for the rest of the process. First a
 * bound from the parameters' shapes; when that is not clearly below the limit, the bytes of one step on
 * 64 and on 128 examples are measured (the loss's assignments undone) and extrapolated.
 */
export function checkBatchFits(
  where: string,
  what: string,
  rows: number,
  loss: LossFn,
  data: Dataset,
  parameters: tf.Variable[] | undefined,
  compiled: boolean,
): void {
  const { backend, total, backendName } = limits();
  const r = indexRange(data);
  // Without the trained parameters (evaluation), every variable there is: a larger bound, never a smaller one.
  const widths = (parameters ?? Object.values(tf.engine().registeredVariables)).filter((p) => !p.isDisposed);
  const width =
    data.blockSize * (Math.max(r.maxX, r.maxY) + 1) +
    widths.reduce((n, p) => n + (p.rank === 2 ? p.shape[1]! : p.size), 0);
  const bound = 4 * width * BOUND_FACTOR;
  const have = tf.memory().numBytes;
  if ((have + rows * bound) * 4 < backend && rows * bound * (1 + COMPILED_EXTRA) * 4 < total) return;

  const measure = (n: number) => {
    const ix = Int32Array.from({ length: n }, (_, i) => i % data.size);
    const T = data.blockSize;
    const X = tf.tensor2d(
      Int32Array.from(Array.from(ix).flatMap((row) => Array.from(data.X.subarray(row * T, row * T + T)))),
      [n, T],
      'int32',
    );
    const Y = tf.tensor1d(
      Int32Array.from(ix, (row) => data.Y[row]),
      'int32',
    );
    const side = snapshotVariables(parameters, true);
    try {
      return peakBytes(() =>
        tf.tidy(() => {
          withData(data, () => {
            if (parameters) {
              const { value, grads } = tf.variableGrads(() => loss(X, Y, true), parameters);
              tf.dispose([value, grads]);
            } else {
              loss(X, Y, false).dispose();
            }
          });
        }),
      );
    } finally {
      side.restore();
      tf.dispose([X, Y]);
    }
  };
  const small = measure(64);
  const perRow = Math.max(0, (measure(128) - small) / 64);
  const needBackend = (small + (rows - 64) * perRow) * MARGIN;
  const needTotal = needBackend + (compiled ? COMPILED_EXTRA * rows * perRow : 0);
  const fits = (n: number) =>
    (small + (n - 64) * perRow) * MARGIN <= backend &&
    (small + (n - 64) * perRow) * MARGIN + (compiled ? COMPILED_EXTRA * n * perRow : 0) <= total;
  if (fits(rows)) return;
  let most = 64;
  for (let step = 2 ** 24; step >= 1; step /= 2) if (fits(most + step)) most += step;
  const which =
    needBackend > backend
      ? `the ${backendName} backend can hold ${GiB(backend)}`
      : `this machine has ${GiB(total / 0.8)} of memory`;
  throw new ArgumentError(
    `${where}: ${what} must be at most ${most.toLocaleString('en')} for this network, got ${describe(rows)}: ` +
      `a step on ${rows.toLocaleString('en')} examples needs about ${GiB(Math.max(needBackend, needTotal))} ` +
      `(${Math.round(perRow / 1024)} KB per example, measured on a step of 128), and ${which}. Nothing was allocated.`,
  );
}
