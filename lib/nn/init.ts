/**
 * Weight initialisation, like `torch.nn.init`: the gains of `calculate_gain`,
 * the fans of a weight shape, and Kaiming (He) and Xavier (Glorot) draws.
 *
 * Pure TypeScript over typed arrays (no tfjs). The draws come from our
 * PyTorch-exact `Generator`, so for the same seed they are bit for bit the
 * values of `torch.nn.init.kaiming_normal_(torch.empty(shape), ..., generator=g)`
 * and friends.
 *
 * Shapes and fans. PyTorch stores a Linear weight as (out, in) and computes
 * `x @ W.T`, so its rule reads fan_in = shape[1], fan_out = shape[0]. The
 * lecture writes `x @ W` with W of shape [fanIn, fanOut] (in, out): there the
 * roles are swapped. So for a lecture weight
 *
 *     kaimingNormal([fanIn, fanOut], { mode: 'fan_out', nonlinearity: 'tanh', generator: g })
 *
 * gives std = (5/3) / sqrt(fanIn), the lecture's "kaiming init" of W1: the
 * draws of `torch.randn((fanIn, fanOut))`, in the same order, times the std.
 * (The lecture's `randn(...) * (5/3) / 30**0.5` rounds twice, this rounds once:
 * the two agree to 2.4e-7 relative, not bit for bit.) PyTorch's docs suggest
 * `kaiming_normal_(w.T)` for `x @ w`: the same scale, but other values (w.T is
 * not contiguous, so torch draws one double-precision normal per element
 * instead of its 16-at-a-time float32 path); `mode: 'fan_out'` on the [in, out]
 * shape is what this module reproduces. Xavier uses fan_in + fan_out: the
 * layout does not matter.
 */
import { Generator } from '../tensor/random';

/**
 * The stream used when no `generator` is given: one shared generator with
 * PyTorch's default seed, like torch's global generator (so two calls give
 * different values). Pass your own `new Generator(2147483647)` to follow the lecture.
 */
const defaultGenerator = new Generator();

/** The names `torch.nn.init.calculate_gain` accepts. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

/** 'fan_in' keeps the variance of the forward pass, 'fan_out' that of the backward pass. */
export type FanMode = 'fan_in' | 'fan_out';

const LINEAR_FNS = ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d'];

/**
 * The recommended gain for a nonlinearity (`torch.nn.init.calculate_gain`):
 *
 *     linear, conv{1,2,3}d, conv_transpose{1,2,3}d   1
 *     sigmoid                                        1
 *     tanh                                           5/3
 *     relu                                           sqrt(2)
 *     leaky_relu                                     sqrt(2 / (1 + negative_slope^2))
 *     selu                                           3/4
 *
 * `param` is the negative slope of leaky_relu (default 0.01); the others
 * ignore it. Throws, as PyTorch does, for an unknown name ("Unsupported
 * nonlinearity ...") and for a slope that is not a number ("negative_slope ...
 * not a valid number"; a boolean or NaN is not one here).
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (LINEAR_FNS.includes(nonlinearity) || nonlinearity === 'sigmoid') return 1;
  if (nonlinearity === 'tanh') return 5.0 / 3;
  if (nonlinearity === 'relu') return Math.sqrt(2.0);
  if (nonlinearity === 'leaky_relu') {
    let slope: number;
    if (param === undefined || param === null) slope = 0.01;
    else if (typeof param === 'number' && !Number.isNaN(param)) slope = param;
    else throw new Error(`negative_slope ${pyStr(param)} not a valid number`);
    return Math.sqrt(2.0 / (1 + slope * slope));
  }
  if (nonlinearity === 'selu') return 3.0 / 4; // found empirically (pytorch PR 50664)
  throw new Error(`Unsupported nonlinearity ${nonlinearity}`);
}

/** How Python prints a value in an error message (True/False for booleans). */
function pyStr(v: unknown): string {
  return typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v);
}

/** One row of the gains table: the nonlinearity, its gain as a formula, and the value. */
export interface GainRow {
  nonlinearity: string;
  formula: string;
  gain: number;
}

/**
 * PyTorch's table of gains (the docstring of `calculate_gain`), for a notebook
 * table. leaky_relu is shown with its default slope 0.01.
 */
export const GAINS_TABLE: readonly GainRow[] = [
  { nonlinearity: 'Linear / Identity', formula: '1', gain: calculateGain('linear') },
  { nonlinearity: 'Conv{1,2,3}D', formula: '1', gain: calculateGain('conv2d') },
  { nonlinearity: 'Sigmoid', formula: '1', gain: calculateGain('sigmoid') },
  { nonlinearity: 'Tanh', formula: '5/3', gain: calculateGain('tanh') },
  { nonlinearity: 'ReLU', formula: 'sqrt(2)', gain: calculateGain('relu') },
  {
    nonlinearity: 'Leaky Relu',
    formula: 'sqrt(2 / (1 + negative_slope^2))',
    gain: calculateGain('leaky_relu'),
  },
  { nonlinearity: 'SELU', formula: '3/4', gain: calculateGain('selu') },
];

/**
 * fan_in and fan_out of a weight shape, with PyTorch's rule
 * (`_calculate_fan_in_and_fan_out`), which assumes the (out, in, ...) layout:
 *
 *     receptive = shape[2] * shape[3] * ...   (1 for a 2-D weight)
 *     fan_in    = shape[1] * receptive
 *     fan_out   = shape[0] * receptive
 *
 * Throws for fewer than 2 dimensions. (For the lecture's [in, out] weights
 * the two are swapped: see the top of this file.)
 */
export function calculateFanInAndFanOut(shape: readonly number[]): [number, number] {
  if (shape.length < 2) {
    throw new Error('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
  }
  let receptive = 1;
  for (const s of shape.slice(2)) receptive *= s;
  return [shape[1] * receptive, shape[0] * receptive];
}

/** `_calculate_correct_fan`: the fan that `mode` picks (mode is case-insensitive, as in PyTorch). */
function correctFan(shape: readonly number[], mode: FanMode): number {
  const m = String(mode).toLowerCase();
  if (m !== 'fan_in' && m !== 'fan_out') {
    throw new Error(`Mode ${mode} not supported, please use one of ['fan_in', 'fan_out']`);
  }
  const [fanIn, fanOut] = calculateFanInAndFanOut(shape);
  return m === 'fan_in' ? fanIn : fanOut;
}

export interface KaimingOptions {
  /** negative slope of the rectifier after this layer (only used with 'leaky_relu'); default 0 */
  a?: number;
  /** default 'fan_in' (PyTorch's (out, in) layout: use 'fan_out' for the lecture's [in, out]) */
  mode?: FanMode;
  /** default 'leaky_relu' (with a = 0 that is ReLU's gain, sqrt(2)) */
  nonlinearity?: Nonlinearity;
  /** the generator to draw from; default: a shared one with PyTorch's default seed */
  generator?: Generator;
}

export interface XavierOptions {
  /** an optional scaling factor; default 1 */
  gain?: number;
  /** the generator to draw from; default: a shared one with PyTorch's default seed */
  generator?: Generator;
}

/** A dimension of size 0? PyTorch's kaiming_* then draw nothing (and warn). */
function isEmpty(shape: readonly number[]): boolean {
  return shape.includes(0);
}

/**
 * Kaiming (He) normal, `torch.nn.init.kaiming_normal_`: values from N(0, std^2) with
 *
 *     std = gain / sqrt(fan_mode),   gain = calculateGain(nonlinearity, a)
 *
 * Returns a Float32Array in row-major order of `shape`, drawn as
 * `tensor.normal_(0, std, generator=g)` draws it.
 * For a lecture weight [fanIn, fanOut] (used as x @ W) pass mode: 'fan_out'.
 */
export function kaimingNormal(shape: number[], options: KaimingOptions = {}): Float32Array {
  if (isEmpty(shape)) return new Float32Array(0);
  return (options.generator ?? defaultGenerator).normal(shape, 0, kaimingStd(shape, options));
}

/** The std both Kaiming initialisations aim at: gain / sqrt(fan_mode). */
function kaimingStd(shape: number[], options: KaimingOptions): number {
  const { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' } = options;
  return calculateGain(nonlinearity, a) / Math.sqrt(correctFan(shape, mode));
}

/**
 * Kaiming (He) uniform, `torch.nn.init.kaiming_uniform_`: values from U(-bound, bound) with
 *
 *     bound = sqrt(3) * std = gain * sqrt(3 / fan_mode)
 *
 * (a uniform on [-b, b] has std b / sqrt(3)). Drawn as `tensor.uniform_(-bound, bound, generator=g)`.
 * For a lecture weight [fanIn, fanOut] (used as x @ W) pass mode: 'fan_out'.
 */
export function kaimingUniform(shape: number[], options: KaimingOptions = {}): Float32Array {
  if (isEmpty(shape)) return new Float32Array(0);
  const bound = Math.sqrt(3.0) * kaimingStd(shape, options);
  return (options.generator ?? defaultGenerator).uniform(shape, -bound, bound);
}

/**
 * Xavier (Glorot) normal, `torch.nn.init.xavier_normal_`: values from N(0, std^2) with
 *
 *     std = gain * sqrt(2 / (fan_in + fan_out))
 *
 * Drawn as `tensor.normal_(0, std, generator=g)`. Symmetric in fan_in and fan_out.
 */
export function xavierNormal(shape: number[], options: XavierOptions = {}): Float32Array {
  const { gain = 1.0, generator = defaultGenerator } = options;
  const [fanIn, fanOut] = calculateFanInAndFanOut(shape);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  return generator.normal(shape, 0, std);
}

/**
 * Xavier (Glorot) uniform, `torch.nn.init.xavier_uniform_`: values from U(-a, a) with
 *
 *     a = gain * sqrt(6 / (fan_in + fan_out))   (= sqrt(3) * std of xavierNormal)
 *
 * Drawn as `tensor.uniform_(-a, a, generator=g)`. Symmetric in fan_in and fan_out.
 */
export function xavierUniform(shape: number[], options: XavierOptions = {}): Float32Array {
  const { gain = 1.0, generator = defaultGenerator } = options;
  const [fanIn, fanOut] = calculateFanInAndFanOut(shape);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return generator.uniform(shape, -a, a);
}
