/**
 * A label of the network that produced a result, so that a result of an edited network does not pass
 * for the lecture's stage (notebook 04's table). `train` makes it when it first trains a list of
 * parameters: their shapes, a sketch of their initial values, and the loss of the first step, which
 * changes with the forward pass too. The sketch (sum of squares and three random projections per
 * parameter) is compared with a tolerance: float32 rounding in another order (one multiplication
 * instead of two) passes, another scale, seed or order of draws does not.
 */
import * as tf from '@tensorflow/tfjs';

export interface NetworkLabel {
  shapes: number[][];
  /** Per parameter: sum of squares and three random +-1 projections of its values before training. */
  sketch: number[][];
  /** The minibatch loss of the first training step. */
  firstLoss?: number;
}

/** +-1 for element i of projection k: bits of an integer hash (murmur3's finaliser). */
function sign(i: number, k: number): number {
  let h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(k + 1, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 1 ? 1 : -1;
}

export function sketchOf(values: ArrayLike<number>): number[] {
  const s = [0, 0, 0, 0];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    s[0] += v * v;
    for (let k = 1; k < 4; k++) s[k] += sign(i, k) * v;
  }
  return s;
}

const labels = new WeakMap<tf.Variable, NetworkLabel>();

/** The label of these parameters as they are now (before training). */
export function labelNow(parameters: tf.Variable[]): NetworkLabel {
  return { shapes: parameters.map((p) => p.shape.slice()), sketch: parameters.map((p) => sketchOf(p.dataSync())) };
}

/** Called by `train` before its first step: parameters trained for the first time (as a list) get a label. */
export function noteTraining(parameters: tf.Variable[]): void {
  const first = labels.get(parameters[0]);
  if (first && parameters.every((p) => labels.get(p) === first) && first.shapes.length === parameters.length) return;
  const label = labelNow(parameters);
  for (const p of parameters) labels.set(p, label);
}

/** Called by `train` after its first step. */
export function noteFirstLoss(parameters: tf.Variable[], loss: number): void {
  const label = labels.get(parameters[0]);
  if (label && label.firstLoss === undefined) label.firstLoss = loss;
}

/** The label of a trained list of parameters, or undefined if `train` has not trained them together. */
export function labelOf(parameters: tf.Variable[]): NetworkLabel | undefined {
  const label = labels.get(parameters[0]);
  return label && label.shapes.length === parameters.length && parameters.every((p) => labels.get(p) === label)
    ? label
    : undefined;
}

/** How `ours` differs from `theirs`, in a few words, or undefined when they are the same network. */
export function networkDifference(ours: NetworkLabel, theirs: NetworkLabel): string | undefined {
  if (ours.shapes.length !== theirs.shapes.length)
    return `${ours.shapes.length} parameter tensors, the lecture's ${theirs.shapes.length}`;
  for (let k = 0; k < ours.shapes.length; k++) {
    const [a, b] = [ours.shapes[k], theirs.shapes[k]];
    if (a.join(',') !== b.join(','))
      return `parameter ${k} has shape [${a.join(', ')}], the lecture's [${b.join(', ')}]`;
  }
  for (let k = 0; k < ours.sketch.length; k++) {
    const [a, b] = [ours.sketch[k], theirs.sketch[k]];
    // Rounding differences of float32 are ~1e-7 relative per value; any real change is far above 1e-5.
    const ss = Math.max(a[0], b[0]);
    const tol = 1e-5 * Math.sqrt(ss) + 1e-6;
    if (Math.abs(a[0] - b[0]) > 1e-5 * ss + 1e-9 || a.slice(1).some((v, j) => Math.abs(v - b[j + 1]) > tol)) {
      return `parameter ${k} [${ours.shapes[k].join(', ')}] starts from other values`;
    }
  }
  if (
    ours.firstLoss !== undefined &&
    theirs.firstLoss !== undefined &&
    Math.abs(ours.firstLoss - theirs.firstLoss) > 1e-4
  ) {
    return `its first step's loss is ${ours.firstLoss.toFixed(4)}, the lecture's network's ${theirs.firstLoss.toFixed(4)} (another forward pass)`;
  }
  return undefined;
}
