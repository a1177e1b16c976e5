/**
 * How each TensorFlow.js kernel runs in a plan: one entry per kernel name, each a call (or a few) of
 * the project's SIMD kernels (`simd.ts`) on the plan's buffers, with every shape, stride and attribute
 * worked out once, when the plan is built. A kernel missing here (or an entry that declines its
 * arguments by throwing `Unsupported`) runs through TensorFlow.js's own kernel inside the plan.
 */
import type { Kernels } from './simd';

/** The shortest rows (K) for which `matmulNT` beats a transpose and `matmul` (lib/assembly/kernels.ts). */
const NT_MIN_K = 128;

/** A buffer as one call sees it. */
export interface Operand {
  address: number;
  shape: number[];
  size: number;
  dtype: string;
}

/** What an entry gets: the call's operands and attributes, and where to put its work. */
export interface Lowering {
  kernels: Kernels;
  attrs: Record<string, unknown>;
  inputs: Operand[];
  /** Input by the kernel's own name (`a`, `x`, `indices` ...). */
  input(name: string): Operand;
  outputs: Operand[];
  /** The output `i` is input `from` itself (a reshape, an identity): no work, no buffer. */
  alias(i: number, from: Operand): void;
  /** A scratch buffer of the plan. */
  scratch(floats: number): number;
  /** Add work to the plan (run at every step, in order). */
  emit(run: () => void): void;
}

/** An entry that cannot run these arguments; the plan runs TensorFlow.js's kernel instead. */
export class Unsupported extends Error {}

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Row-major strides of a shape. */
export function stridesOf(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** Pad a shape (and strides) on the left to rank 4; more axes are merged where they are contiguous in both. */
function rank4(shape: number[], ...strides: number[][]): { n: number[]; s: number[][] } {
  let n = shape.slice();
  let s = strides.map((x) => x.slice());
  // Merge neighbouring axes that every operand walks contiguously (or not at all), until rank <= 4.
  for (let i = n.length - 2; i >= 0 && n.length > 4; i--) {
    if (s.every((st) => st[i] === st[i + 1] * n[i + 1])) {
      n = [...n.slice(0, i), n[i] * n[i + 1], ...n.slice(i + 2)];
      s = s.map((st) => [...st.slice(0, i), st[i + 1], ...st.slice(i + 2)]);
    }
  }
  if (n.length > 4) throw new Unsupported(`rank ${shape.length}`);
  while (n.length < 4) {
    n = [1, ...n];
    s = s.map((st) => [0, ...st]);
  }
  return { n, s };
}

/** The strides with which an input broadcasts over the output shape (0 along broadcast axes). */
function broadcastStrides(inShape: number[], outShape: number[]): number[] {
  const own = stridesOf(inShape);
  const offset = outShape.length - inShape.length;
  return outShape.map((d, i) => {
    const j = i - offset;
    if (j < 0 || inShape[j] === 1) return 0;
    if (inShape[j] !== d) throw new Unsupported(`shapes ${inShape} and ${outShape} do not broadcast`);
    return own[j];
  });
}

/** Elementwise op codes of `unary` (see lib/assembly/ops.ts). */
const UNARY: Record<string, number> = {
  Neg: 1,
  Abs: 2,
  Exp: 3,
  Log: 4,
  Sqrt: 5,
  Rsqrt: 6,
  Square: 7,
  Tanh: 8,
  Sigmoid: 9,
  Relu: 10,
  LeakyRelu: 11,
  Elu: 12,
  Softplus: 13,
  Step: 14,
  Sign: 15,
  Reciprocal: 16,
  Log1p: 17,
  Expm1: 18,
  Relu6: 19,
  Floor: 20,
  Ceil: 21,
  Round: 22,
  LogicalNot: 25,
  IsNan: 27,
  IsInf: 28,
  IsFinite: 29,
  Selu: 30,
  Sin: 31,
  Cos: 32,
  Erf: 33,
  ClipByValue: 34,
};

/** Elementwise op codes of `binary`. */
const BINARY: Record<string, number> = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
  Maximum: 4,
  Minimum: 5,
  Pow: 6,
  SquaredDifference: 7,
  Greater: 8,
  GreaterEqual: 9,
  Less: 10,
  LessEqual: 11,
  Equal: 12,
  NotEqual: 13,
  LogicalAnd: 14,
  LogicalOr: 15,
  FloorDiv: 16,
  Mod: 17,
  Atan2: 18,
  EluGrad: 19,
};

/** Reduction op codes of `reduce`. */
const REDUCE: Record<string, number> = {
  Sum: 0,
  Mean: 1,
  Max: 2,
  Min: 3,
  Prod: 4,
  Any: 5,
  All: 6,
  ArgMax: 7,
  ArgMin: 8,
};

function unary(op: number, alpha = 0, beta = 0) {
  return (c: Lowering) => {
    const [x] = c.inputs;
    const [y] = c.outputs;
    const k = c.kernels,
      xa = x.address,
      ya = y.address,
      n = y.size;
    c.emit(() => k.unary(op, xa, ya, n, alpha, beta));
  };
}

function binaryInto(c: Lowering, op: number, a: Operand, b: Operand, y: Operand): void {
  const { n, s } = rank4(y.shape, broadcastStrides(a.shape, y.shape), broadcastStrides(b.shape, y.shape));
  const [as, bs] = s;
  const k = c.kernels,
    aa = a.address,
    ba = b.address,
    ya = y.address;
  c.emit(() =>
    k.binary(op, aa, ba, ya, n[0], n[1], n[2], n[3], as[0], as[1], as[2], as[3], bs[0], bs[1], bs[2], bs[3]),
  );
}

/** y = x, strided: x read at `xs`, y written at `ys`, over the shape `n`. */
function copyInto(c: Lowering, x: number, y: number, shape: number[], xs: number[], ys: number[]): void {
  const { n, s } = rank4(shape, xs, ys);
  const [a, b] = s;
  const k = c.kernels;
  c.emit(() => k.copy(x, y, n[0], n[1], n[2], n[3], a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]));
}

const axesOf = (axis: unknown, rank: number): number[] =>
  [
    ...new Set(
      (Array.isArray(axis) ? axis : [axis ?? [...Array(rank).keys()]])
        .flat()
        .map((a: number) => (a < 0 ? a + rank : a)),
    ),
  ].sort((p, q) => p - q);

function reduction(op: number) {
  return (c: Lowering) => {
    const [x] = c.inputs;
    const [y] = c.outputs;
    const k = c.kernels;
    const rank = x.shape.length;
    const axes = axesOf(c.attrs.axis ?? c.attrs.reductionIndices, rank);
    if (axes.length === 0) return c.alias(0, x);
    let source = x.address;
    let shape = x.shape;
    let first = axes[0],
      last = axes[axes.length - 1];
    if (last - first + 1 !== axes.length) {
      // Not neighbours: move the reduced axes to the end first.
      const perm = [...[...Array(rank).keys()].filter((a) => !axes.includes(a)), ...axes];
      shape = perm.map((a) => x.shape[a]);
      source = c.scratch(x.size);
      const xs = stridesOf(x.shape);
      copyInto(
        c,
        x.address,
        source,
        shape,
        perm.map((a) => xs[a]),
        stridesOf(shape),
      );
      first = rank - axes.length;
      last = rank - 1;
    }
    const outer = product(shape.slice(0, first));
    const n = product(shape.slice(first, last + 1));
    const inner = product(shape.slice(last + 1));
    const from = source,
      to = y.address;
    c.emit(() => k.reduce(op, from, to, outer, n, inner));
  };
}

/** The entries: TensorFlow.js kernel name -> how it runs in a plan. */
export const LOWERINGS: Record<string, (c: Lowering) => void> = {
  // Moves no data: the output is the input's buffer under another shape (all buffers are float32).
  Identity: (c) => c.alias(0, c.inputs[0]),
  Reshape: (c) => c.alias(0, c.inputs[0]),
  ExpandDims: (c) => c.alias(0, c.inputs[0]),
  Squeeze: (c) => c.alias(0, c.inputs[0]),
  Cast: (c) => {
    const [x] = c.inputs;
    const to = c.attrs.dtype as string;
    if (to === 'float32' || x.dtype === to || (to === 'int32' && x.dtype === 'bool')) return c.alias(0, x);
    if (to === 'int32') return unary(23)(c); // truncate toward zero
    if (to === 'bool') return unary(24)(c); // x != 0
    throw new Unsupported(`cast to ${to}`);
  },
  ...Object.fromEntries(
    Object.entries(UNARY).map(([name, op]) => [
      name,
      (c: Lowering) => {
        const alpha =
          name === 'ClipByValue' ? Number(c.attrs.clipValueMin) : Number(c.attrs.alpha ?? (name === 'Step' ? 0 : 0.2));
        const beta = name === 'ClipByValue' ? Number(c.attrs.clipValueMax) : 0;
        unary(op, alpha, beta)(c);
      },
    ]),
  ),
  ZerosLike: unary(26, 0),
  OnesLike: unary(26, 1),
  Fill: (c) => unary(26, Number(c.attrs.value))(c),
  ...Object.fromEntries(
    Object.entries(BINARY).map(([name, op]) => [
      name,
      (c: Lowering) => {
        const [a, b] = c.inputs;
        binaryInto(c, op, a, b, c.outputs[0]);
      },
    ]),
  ),
  AddN: (c) => {
    const y = c.outputs[0];
    if (c.inputs.length === 1) return c.alias(0, c.inputs[0]);
    binaryInto(c, 0, c.inputs[0], c.inputs[1], y);
    for (const x of c.inputs.slice(2)) binaryInto(c, 0, y, x, y);
  },
  Select: (c) => {
    const [cond, a, b] = [c.input('condition'), c.input('t'), c.input('e')];
    const y = c.outputs[0];
    // tf.where also takes a rank-1 condition over the first axis of t and e.
    const condShape =
      cond.shape.length === 1 && y.shape.length > 1 ? [cond.shape[0], ...y.shape.slice(1).map(() => 1)] : cond.shape;
    const { n, s } = rank4(
      y.shape,
      broadcastStrides(condShape, y.shape),
      broadcastStrides(a.shape, y.shape),
      broadcastStrides(b.shape, y.shape),
    );
    const [cs, as, bs] = s;
    const k = c.kernels,
      ca = cond.address,
      aa = a.address,
      ba = b.address,
      ya = y.address;
    c.emit(() =>
      k.select(
        ca,
        aa,
        ba,
        ya,
        n[0],
        n[1],
        n[2],
        n[3],
        cs[0],
        cs[1],
        cs[2],
        cs[3],
        as[0],
        as[1],
        as[2],
        as[3],
        bs[0],
        bs[1],
        bs[2],
        bs[3],
      ),
    );
  },
  ...Object.fromEntries(Object.entries(REDUCE).map(([name, op]) => [name, reduction(op)])),
  Transpose: (c) => {
    const [x] = c.inputs;
    const y = c.outputs[0];
    const perm = c.attrs.perm as number[];
    if (x.shape.length === 2 && perm[0] === 1) {
      // A matrix (the weights of a layer, in its gradient): the kernel that moves 4x4 blocks.
      const k = c.kernels,
        xa = x.address,
        ya = y.address,
        [M, N] = x.shape;
      return c.emit(() => k.transpose(xa, ya, M, N));
    }
    const xs = stridesOf(x.shape);
    copyInto(
      c,
      x.address,
      y.address,
      y.shape,
      perm.map((a) => xs[a]),
      stridesOf(y.shape),
    );
  },
  Slice: (c) => {
    const [x] = c.inputs;
    const y = c.outputs[0];
    const begin = c.attrs.begin as number[];
    const xs = stridesOf(x.shape);
    const offset = begin.reduce((o, b, i) => o + b * xs[i], 0);
    copyInto(c, x.address + 4 * offset, y.address, y.shape, xs, stridesOf(y.shape));
  },
  Concat: (c) => {
    const y = c.outputs[0];
    const rank = y.shape.length;
    const axis = axesOf(c.attrs.axis, rank)[0];
    const ys = stridesOf(y.shape);
    let at = 0;
    for (const x of c.inputs) {
      if (x.size > 0) copyInto(c, x.address, y.address + 4 * at * ys[axis], x.shape, stridesOf(x.shape), ys);
      at += x.shape[axis];
    }
  },
  SplitV: (c) => {
    const [x] = c.inputs;
    const axis = axesOf(c.attrs.axis, x.shape.length)[0];
    const xs = stridesOf(x.shape);
    let at = 0;
    for (const y of c.outputs) {
      copyInto(c, x.address + 4 * at * xs[axis], y.address, y.shape, xs, stridesOf(y.shape));
      at += y.shape[axis];
    }
  },
  PadV2: (c) => {
    const [x] = c.inputs;
    const y = c.outputs[0];
    const paddings = c.attrs.paddings as [number, number][];
    const ys = stridesOf(y.shape);
    const offset = paddings.reduce((o, [before], i) => o + before * ys[i], 0);
    const k = c.kernels;
    const value = Number(c.attrs.constantValue ?? 0);
    const ya = y.address,
      n = y.size;
    c.emit(() => k.unary(26, 0, ya, n, value, 0));
    copyInto(c, x.address, y.address + 4 * offset, x.shape, stridesOf(x.shape), ys);
  },
  BroadcastTo: (c) => {
    const [x] = c.inputs;
    const y = c.outputs[0];
    copyInto(c, x.address, y.address, y.shape, broadcastStrides(x.shape, y.shape), stridesOf(y.shape));
  },
  GatherV2: (c) => {
    const [x, indices] = [c.input('x'), c.input('indices')];
    const y = c.outputs[0];
    if (Number(c.attrs.batchDims ?? 0) !== 0) throw new Unsupported('batchDims');
    const axis = axesOf(c.attrs.axis, x.shape.length)[0];
    const outer = product(x.shape.slice(0, axis)),
      dim = x.shape[axis],
      inner = product(x.shape.slice(axis + 1));
    const k = c.kernels,
      xa = x.address,
      ia = indices.address,
      ya = y.address,
      count = indices.size;
    c.emit(() => k.gather(xa, ia, ya, outer, dim, inner, count));
  },
  UnsortedSegmentSum: (c) => {
    const [x, ids] = [c.input('x'), c.input('segmentIds')];
    const y = c.outputs[0];
    const count = ids.size;
    const k = c.kernels,
      xa = x.address,
      ia = ids.address,
      ya = y.address,
      inner = x.size / count;
    const segments = Number(c.attrs.numSegments);
    c.emit(() => k.segmentSum(xa, ia, ya, 1, count, inner, segments));
  },
  OneHot: (c) => {
    const [indices] = c.inputs;
    const y = c.outputs[0];
    const k = c.kernels;
    const { depth, onValue, offValue } = c.attrs as { depth: number; onValue: number; offValue: number };
    const ia = indices.address,
      ya = y.address,
      n = indices.size;
    c.emit(() => k.oneHot(ia, ya, n, depth, onValue ?? 1, offValue ?? 0));
  },
  Softmax: (c) => {
    const [x] = c.inputs;
    const y = c.outputs[0];
    const dim = Number(c.attrs.dim ?? -1);
    if (dim !== -1 && dim !== x.shape.length - 1) throw new Unsupported('softmax over an axis other than the last');
    const cols = x.shape[x.shape.length - 1];
    const k = c.kernels,
      xa = x.address,
      ya = y.address,
      rows = x.size / cols;
    c.emit(() => k.softmax(xa, ya, rows, cols));
  },
  BatchMatMul: (c) => {
    const [a, b] = [c.input('a'), c.input('b')];
    const y = c.outputs[0];
    const { transposeA, transposeB } = c.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length,
      rb = b.shape.length;
    const [aRows, aCols] = a.shape.slice(ra - 2),
      [bRows, bCols] = b.shape.slice(rb - 2);
    const M = transposeA ? aCols : aRows,
      K = transposeA ? aRows : aCols,
      N = transposeB ? bRows : bCols;
    const batchA = product(a.shape.slice(0, ra - 2)),
      batchB = product(b.shape.slice(0, rb - 2));
    const batches = Math.max(batchA, batchB);
    if ((batchA !== batches && batchA !== 1) || (batchB !== batches && batchB !== 1))
      throw new Unsupported('batch broadcast');
    const k = c.kernels;
    // x @ w^T with long rows (dy @ W^T of a wide layer): dot products of rows, no transpose. With short
    // rows (K under 128) transposing w and running the blocked product is faster (measured).
    const dots = transposeB && !transposeA && K >= NT_MIN_K;
    // Otherwise B as stored [K, N]: transposed once per step into a scratch buffer when given as [N, K].
    let bAddress = b.address;
    if (transposeB && !dots) {
      bAddress = c.scratch(b.size);
      const from = b.address,
        to = bAddress;
      c.emit(() => {
        for (let i = 0; i < batchB; i++) k.transpose(from + 4 * i * K * N, to + 4 * i * K * N, N, K);
      });
    }
    const bTo = bAddress,
      aa = a.address,
      ya = y.address,
      rows = transposeA || dots ? 0 : c.scratch(4 * Math.ceil(M / 4) * K);
    c.emit(() => {
      for (let i = 0; i < batches; i++) {
        const x = aa + 4 * (batchA === 1 ? 0 : i * M * K),
          w = bTo + 4 * (batchB === 1 ? 0 : i * K * N);
        const out = ya + 4 * i * M * N;
        if (dots) k.matmulNT(x, w, out, M, K, N);
        else if (transposeA) k.matmulTN(x, w, out, M, K, N);
        else k.matmul(x, w, 0, out, M, K, N, rows);
      }
    });
  },
};
