/**
 * The numbers behind the lecture's diagnostic pictures: mean and std, density
 * histograms (`torch.histogram`), saturation of tanh, dead neurons, the
 * grad:data and update:data ratios (the lecture's printed lines are in
 * ../viz/format.ts).
 *
 * Pure functions over typed arrays that return data (no tfjs, no plotting;
 * the only import is the float32 fused multiply-add of ./random):
 * the plots live elsewhere. Inputs are flat row-major arrays, e.g. the
 * `dataSync()` of a tensor.
 *
 * Precision: `mean` and `std` accumulate in double (float64), so they are more
 * accurate than torch's float32 results. torch's `t.std()` of a float tensor is
 * itself computed in double and rounded to float32, so `Math.fround(stdOf(x))`
 * is nearly always torch's value exactly; `t.mean()` sums in float32 (cascade
 * sums), so for a mean near 0 (a gradient, a batch-normed layer) the two can
 * differ in every printed digit: torch's is then mostly rounding noise.
 * Where the lecture compares with a threshold (`t.abs() > 0.97`), the
 * threshold is rounded to float32 first, as torch does.
 */

import { fma32 } from './random';

const f32 = Math.fround;

// ---------------------------------------------------------------------------
// mean, std
// ---------------------------------------------------------------------------

/** meanOf(x) = (1/n) * sum_i x_i, summed in double. NaN for an empty x (as torch). */
export function meanOf(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/**
 * Standard deviation, like torch's `x.std()`:
 *
 *     stdOf(x) = sqrt( sum_i (x_i - mean)^2 / (n - 1) )   (unbiased = true, torch's default)
 *     stdOf(x) = sqrt( sum_i (x_i - mean)^2 / n )         (unbiased = false)
 *
 * Two passes in double (first the mean, then the squared deviations), the same
 * algorithm as torch's full reduction. NaN when n - 1 (or n) is 0.
 */
export function stdOf(x: ArrayLike<number>, unbiased = true): number {
  const n = x.length;
  const m = meanOf(x);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    ss += d * d;
  }
  const dof = unbiased ? n - 1 : n;
  return dof > 0 ? Math.sqrt(ss / dof) : NaN;
}

// ---------------------------------------------------------------------------
// histogram
// ---------------------------------------------------------------------------

/** What `histogram` returns: `hist, bin_edges = torch.histogram(...)`, plus the raw counts. */
export interface Histogram {
  /** bins values: the density (if density) or the counts */
  hist: Float32Array;
  /** bins + 1 edges (torch's bin_edges); bin i is [edges[i], edges[i+1]), the last one includes its right edge too */
  edges: Float32Array;
  /** bins counts (as float32, like torch's counts) */
  counts: Float32Array;
}

/**
 * `torch.linspace(start, end, steps)` in float32, as PyTorch's CPU kernel
 * computes it: step = fl32((end - start) / (steps - 1)), then the first half
 * counts up from start and the second half down from end:
 *
 *     x_i = start + step * i                 for i <  steps / 2
 *     x_i = end   - step * (steps - 1 - i)   for i >= steps / 2
 *
 * each with one float32 rounding (the x86 build fuses the multiply-add).
 * So x_0 = start and x_{steps-1} = end exactly.
 */
export function linspace(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  const a = f32(start);
  const b = f32(end);
  if (steps === 1) {
    out[0] = a;
    return out;
  }
  const step = f32(f32(b - a) / (steps - 1));
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < half ? fma32(step, i, a) : fma32(-step, steps - 1 - i, b);
  }
  return out;
}

/**
 * A histogram with `bins` equal bins between min(x) and max(x), equal to
 * `torch.histogram(x, bins=bins, density=density)` (x read as float32):
 *
 * - edges = linspace(min, max, bins + 1) in float32 (see `linspace`); if
 *   min = max the range is widened to [min - 0.5, max + 0.5];
 * - element x goes to bin i with edges[i] <= x < edges[i+1]; x = max goes to
 *   the last bin (the last edge is inclusive). PyTorch finds i by
 *   interpolation, i ~ (x - min) * bins / (max - min) in float32, then checks
 *   the neighbouring edges; done here the same way;
 * - density: hist_i = count_i / (sum_j count_j) / (edges[i+1] - edges[i]),
 *   so that sum_i hist_i * width_i = 1 (float32 steps, as torch).
 *
 * Throws if x holds NaN or infinities (torch: "range ... is not finite").
 * The lecture plots `hist` against `edges` without its last entry.
 */
export function histogram(x: ArrayLike<number>, bins = 100, density = true): Histogram {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bins must be a positive integer, got ${bins}`);
  const n = x.length;
  let lo = 0;
  let hi = 0;
  if (n > 0) {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = f32(x[i]);
      if (v !== v) {
        lo = hi = NaN;
        break;
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    throw new Error(`histogram: range [${lo}, ${hi}] is not finite`);
  }
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const edges = linspace(lo, hi, bins + 1);
  const left = edges[0];
  const right = edges[bins];
  const width = f32(right - left);
  const counts = new Float32Array(bins);
  for (let i = 0; i < n; i++) {
    const v = f32(x[i]);
    if (!(v >= left && v <= right)) continue;
    // interpolate, then search the edges next to it (upper_bound over [pos - 1, pos + 2))
    let pos = Math.trunc(f32(f32(f32(v - left) * bins) / width));
    let k = Math.max(0, pos - 1);
    const kEnd = Math.min(pos + 2, bins + 1);
    while (k < kEnd && edges[k] <= v) k++;
    pos = k - 1;
    if (pos === bins) pos -= 1; // the last bin includes its right edge
    counts[pos] += 1;
  }
  let hist = counts;
  if (density) {
    let total = 0;
    for (let i = 0; i < bins; i++) total += counts[i];
    total = f32(total);
    hist = new Float32Array(bins);
    for (let i = 0; i < bins; i++) hist[i] = f32(counts[i] / total) / f32(edges[i + 1] - edges[i]);
  }
  return { hist, edges, counts };
}

// ---------------------------------------------------------------------------
// saturation, dead neurons
// ---------------------------------------------------------------------------

/**
 * The fraction of saturated values, (1/n) * #{ i : |x_i| > threshold }, in [0, 1]:
 * the lecture's `(t.abs() > threshold).float().mean()` (0.97 for the layer
 * statistics, 0.99 for the image of h). x and threshold are compared as float32.
 */
export function saturation(x: ArrayLike<number>, threshold: number): number {
  const t = f32(threshold);
  let count = 0;
  for (let i = 0; i < x.length; i++) if (Math.abs(f32(x[i])) > t) count++;
  return count / x.length;
}

/**
 * The black-and-white image of `h.abs() > threshold` for h of shape
 * [rows, cols] (batch x neurons, row-major): 1 (white) where saturated, 0 elsewhere.
 */
export function saturationMask(h: ArrayLike<number>, rows: number, cols: number, threshold = 0.99): Uint8Array {
  if (h.length !== rows * cols) throw new Error(`saturationMask: ${h.length} values are not ${rows} x ${cols}`);
  const t = f32(threshold);
  const mask = new Uint8Array(rows * cols);
  for (let i = 0; i < mask.length; i++) mask[i] = Math.abs(f32(h[i])) > t ? 1 : 0;
  return mask;
}

/**
 * Dead neurons: the columns j of a [rows, cols] mask that are saturated in
 * every row (an all-white column: for every example the tanh is in its flat
 * region, so no gradient flows through that neuron). `mask.all(0).nonzero()`.
 */
export function deadNeurons(mask: ArrayLike<number>, rows: number, cols: number): number[] {
  if (mask.length !== rows * cols) throw new Error(`deadNeurons: ${mask.length} values are not ${rows} x ${cols}`);
  const dead: number[] = [];
  for (let j = 0; j < cols; j++) {
    let all = rows > 0;
    for (let i = 0; i < rows && all; i++) all = mask[i * cols + j] !== 0;
    if (all) dead.push(j);
  }
  return dead;
}

// ---------------------------------------------------------------------------
// the lecture's statistics
// ---------------------------------------------------------------------------

/** Statistics of one layer's output (or of its gradient). */
export interface LayerStats {
  /** a label: the layer's class name, or the legend of its histogram */
  name: string;
  mean: number;
  std: number;
  /** percent of |values| > threshold */
  saturated: number;
}

/**
 * mean, std and percent saturated of a layer's values (the lecture's forward
 * pass statistics; for gradients only mean and std are printed):
 *
 *     saturated = 100 * #{ |t| > threshold } / n
 *
 * The percent is computed as the lecture's `(t.abs() > 0.97).float().mean()*100`
 * computes it in float32, fl32(fl32(count / n) * 100), so the printed
 * "saturated: 2.78%" is the lecture's to the last digit.
 */
export function layerStats(name: string, values: ArrayLike<number>, threshold = 0.97): LayerStats {
  const fraction = saturation(values, threshold);
  return { name, mean: meanOf(values), std: stdOf(values), saturated: f32(f32(fraction) * 100) };
}

/**
 * grad:data ratio of a parameter, stdOf(grad) / stdOf(data): how large the
 * gradient is compared with the values it will change (the lecture's third picture).
 */
export function gradDataRatio(grad: ArrayLike<number>, data: ArrayLike<number>): number {
  return stdOf(grad) / stdOf(data);
}

/**
 * update:data ratio of an SGD step, on a log scale:
 *
 *     log10( stdOf(lr * grad) / stdOf(data) ) = log10( |lr| * stdOf(grad) / stdOf(data) )
 *
 * The lecture's fourth picture; about -3 is healthy (updates of ~1/1000 of the values).
 */
export function updateDataRatio(grad: ArrayLike<number>, data: ArrayLike<number>, lr: number): number {
  return Math.log10((Math.abs(lr) * stdOf(grad)) / stdOf(data));
}

/** Statistics of a parameter and its gradient (the lecture's third picture). */
export interface ParamStats {
  /** the parameter's shape, printed as a Python tuple: (27, 10) */
  shape: number[];
  /** mean of the gradient */
  mean: number;
  /** std of the gradient */
  std: number;
  /** stdOf(grad) / stdOf(data) */
  gradDataRatio: number;
}

/**
 * mean and std of `grad`, and stdOf(grad) / stdOf(data), for a parameter of `shape`.
 * The ratio divides the two stds rounded to float32, as the lecture's
 * `t.std() / p.std()` divides two float32 numbers (it differs from
 * `gradDataRatio` by at most a float32 rounding), so the printed line is the lecture's.
 */
export function paramStats(shape: number[], grad: ArrayLike<number>, data: ArrayLike<number>): ParamStats {
  const s = stdOf(grad);
  return { shape, mean: meanOf(grad), std: s, gradDataRatio: f32(s) / f32(stdOf(data)) };
}
