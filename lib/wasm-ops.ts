/**
 * The generic kernels of `lib/assembly/ops.ts` (compiled into the same module as the training-step
 * kernels: `kernelHost().kernels` has them too), typed, with their op codes. Every buffer is float32
 * (indices too, truncated to integers in the kernels); addresses are byte offsets, sizes and strides
 * counts of elements. The kernels may read up to 7 floats past the end of an input (leave 32 bytes of
 * room after each buffer) and never write past their outputs.
 */
import type { KernelHost } from './wasm';

export interface OpKernels {
  /** y[i] = f(x[i]), i < n; y may be x. `alpha`, `beta`: see UnaryOp. */
  unary(op: number, x: number, y: number, n: number, alpha: number, beta: number): void;
  /** Broadcasting y = a op b, y contiguous of shape [n0..n3]; strides in elements, 0 where an input broadcasts. */
  binary(op: number, a: number, b: number, y: number, n0: number, n1: number, n2: number, n3: number,
    as0: number, as1: number, as2: number, as3: number, bs0: number, bs1: number, bs2: number, bs3: number): void;
  /** y = c != 0 ? a : b, broadcast as in `binary`. */
  select(c: number, a: number, b: number, y: number, n0: number, n1: number, n2: number, n3: number,
    cs0: number, cs1: number, cs2: number, cs3: number, as0: number, as1: number, as2: number, as3: number,
    bs0: number, bs1: number, bs2: number, bs3: number): void;
  /** y[o*inner + i] = op over k < n of x[(o*n + k)*inner + i]. */
  reduce(op: number, x: number, y: number, outer: number, n: number, inner: number): void;
  /** y[i0*ys0 + ... + i3*ys3] = x[i0*xs0 + ... + i3*xs3] (strides may be 0 for x, or negative). */
  copy(x: number, y: number, n0: number, n1: number, n2: number, n3: number,
    xs0: number, xs1: number, xs2: number, xs3: number, ys0: number, ys1: number, ys2: number, ys3: number): void;
  /** y[(o*count + j)*inner + i] = x[(o*dim + idx[j])*inner + i], 0 for an index outside [0, dim). */
  gather(x: number, idx: number, y: number, outer: number, dim: number, inner: number, count: number): void;
  /** y[outer, segments, inner] = 0, then y[(o*segments + idx[j])*inner + i] += x[(o*count + j)*inner + i]. */
  segmentSum(x: number, idx: number, y: number, outer: number, count: number, inner: number, segments: number): void;
  /** y[n, depth] = on where d == idx[i], else off. */
  oneHot(idx: number, y: number, n: number, depth: number, on: number, off: number): void;
  /** Softmax along the last axis of x[rows, cols]; y may be x. */
  softmax(x: number, y: number, rows: number, cols: number): void;
}

export const UnaryOp = {
  copy: 0, neg: 1, abs: 2, exp: 3, log: 4, sqrt: 5, rsqrt: 6, square: 7, tanh: 8, sigmoid: 9, relu: 10,
  leakyRelu: 11, elu: 12, softplus: 13, step: 14, sign: 15, reciprocal: 16, log1p: 17, expm1: 18, relu6: 19,
  floor: 20, ceil: 21, round: 22, trunc: 23, notZero: 24, logicalNot: 25, fill: 26, isNaN: 27, isInf: 28,
  isFinite: 29, selu: 30, sin: 31, cos: 32, erf: 33, clip: 34, scaleShift: 35, sinh: 36, cosh: 37, atan: 38, tan: 39,
} as const;

export const BinaryOp = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, pow: 6, squaredDifference: 7, greater: 8,
  greaterEqual: 9, less: 10, lessEqual: 11, equal: 12, notEqual: 13, logicalAnd: 14, logicalOr: 15,
  floorDiv: 16, mod: 17, atan2: 18, eluGrad: 19, divNoNan: 20,
} as const;

export const ReduceOp = { sum: 0, mean: 1, max: 2, min: 3, prod: 4, any: 5, all: 6, argMax: 7, argMin: 8 } as const;

/** The generic kernels of a kernel host. */
export function opKernels(host: KernelHost): OpKernels {
  return host.kernels as unknown as OpKernels;
}
