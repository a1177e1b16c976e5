// The generic WebAssembly kernels (lib/assembly/ops.ts) against TensorFlow.js's own ops on the cpu
// backend, on random shapes (size-1 dimensions, broadcasting of either input along any axis, odd sizes
// such as 7 and 33 for the SIMD tails), with negative, zero, large and special inputs.
//
// Tolerances, in units in the last place (ulp) of the float32 reference:
// - 0 (bit for bit, ±0 equal, NaN = NaN) for everything TensorFlow.js computes with + - * / sqrt, comparisons,
//   selections and copies: float32 + - * / sqrt are correctly rounded, like float64 followed by one rounding.
// - 1 ulp for the transcendental functions (exp, log, tanh, sigmoid, softplus, sin, pow, atan2...): both
//   sides compute in float64 (to within a few float64 ulps) and round once, so they can only differ when the
//   exact value lies next to a rounding boundary of float32.
// - for elu and selu also an absolute 2^-52: both sides compute exp(x) - 1 in float64 (as TensorFlow.js does,
//   not expm1), so near 0 a one-float64-ulp difference between the two exp's is an absolute 2^-53 after the
//   cancellation; likewise erf (1 - p(t) exp(-x^2) cancels near 0 on both sides). (In practice the kernels'
//   float64 exp agrees with V8's Math.exp bit for bit on random inputs, and every transcendental op here
//   matched TensorFlow.js exactly on 200000 random inputs each.)
// - in addition, sums, products, softmax and segment sums must equal a float32 emulation of the documented
//   order (float32 additions in index order) bit for bit.
// - sums, means, products, softmax, segment sums: the kernels add in float32 in index order, TensorFlow.js's
//   cpu backend in float64; the difference is bounded by (n + 1) * 2^-24 * sum |x_k| (the classic bound of
//   recursive float32 summation), n the number of terms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { KernelMemory, Kernels, UnaryOp, BinaryOp, ReduceOp } from '../../lib/compile/simd';
import { mulberry32 } from '../helpers/random';

let previousBackend = '';
before(async () => {
  previousBackend = tf.getBackend();
  await tf.setBackend('cpu');
});
after(async () => {
  if (previousBackend && previousBackend !== 'cpu') await tf.setBackend(previousBackend);
});

// ---------------------------------------------------------------------------------------------
// Random numbers, shapes, buffers

/** A small seeded generator (mulberry32) and what the tests draw from it. */
function rng(seed: number) {
  const next = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    normal,
    /** Mostly normal * scale, with some zeros, -0, large values and (if asked) specials. */
    values(n: number, scale = 3, specials: number[] = []): Float32Array {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = next();
        if (u < 0.04) a[i] = 0;
        else if (u < 0.06) a[i] = -0;
        else if (u < 0.12) a[i] = (next() < 0.5 ? -1 : 1) * (20 + 80 * next());
        else if (u < 0.12 + (specials.length ? 0.08 : 0)) a[i] = specials[Math.floor(next() * specials.length)];
        else a[i] = normal() * scale;
      }
      return a;
    },
  };
}
type Rng = ReturnType<typeof rng>;

const DIMS = [1, 1, 2, 3, 4, 5, 7, 8, 9, 33];
const randomShape = (r: Rng, rank = r.int(1, 4)) => Array.from({ length: rank }, () => r.pick(DIMS));
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** Row-major strides (in elements). */
const stridesOf = (shape: number[]) => shape.map((_, i) => size(shape.slice(i + 1)));
/** Left-pad a shape (or strides) to four entries. */
const pad4 = (xs: number[], fill: number) => [...Array(4 - xs.length).fill(fill), ...xs];

const GUARD = 8; // floats checked after every output (the caller's 32 bytes)
const SENTINEL = -1.2345678e27;

/** Buffers in the kernels' own memory; all freed by `done`. */
class Heap {
  readonly mem = new KernelMemory();
  readonly k: Kernels = this.mem.kernels;
  private live: number[] = [];
  private outs: { address: number; n: number }[] = [];

  private view() {
    return this.mem.heap;
  }

  /** An input: the data, then GUARD NaNs (kernels may read them, they must not change results). */
  input(data: ArrayLike<number>): number {
    const a = this.mem.alloc(data.length + GUARD);
    this.live.push(a);
    const v = this.view();
    v.set(data, a >> 2);
    v.fill(NaN, (a >> 2) + data.length, (a >> 2) + data.length + GUARD);
    return a;
  }

  /** An output of n floats, all sentinels, GUARD of them after it checked by `done`. */
  output(n: number): number {
    const a = this.mem.alloc(n + GUARD);
    this.live.push(a);
    this.view().fill(SENTINEL, a >> 2, (a >> 2) + n + GUARD);
    this.outs.push({ address: a, n });
    return a;
  }

  read(address: number, n: number): Float32Array {
    return this.view().slice(address >> 2, (address >> 2) + n);
  }

  /** Checks that no output was written past its end, and frees everything. */
  done(what: string): void {
    const v = this.view();
    try {
      for (const { address, n } of this.outs) {
        for (let i = 0; i < GUARD; i++) {
          assert.equal(
            v[(address >> 2) + n + i],
            Math.fround(SENTINEL),
            `${what}: wrote past the end of its output (${n} + ${i})`,
          );
        }
      }
    } finally {
      this.live = [];
      this.outs = [];
    }
  }
}

/** One ulp of a float32 value. */
function ulp(v: number): number {
  const bits = new Uint32Array(new Float32Array([Math.abs(v)]).buffer)[0];
  const e = (bits >>> 23) & 255;
  return e === 0 ? 2 ** -149 : 2 ** (e - 127 - 23);
}

/**
 * Compares element by element: equal (±0 equal, NaN = NaN, same infinity), or within `ulps` ulps of the
 * reference plus `abs` (a number or one bound per element).
 */
function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  ulps = 0,
  abs: number | ArrayLike<number> = 0,
): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    const bound = ulps * ulp(w) + (typeof abs === 'number' ? abs : abs[i]);
    if (!(Math.abs(g - w) <= bound)) {
      assert.fail(
        `${what}: element ${i} is ${g}, TensorFlow.js gives ${w} (difference ${Math.abs(g - w)}, ${Math.abs(g - w) / ulp(w)} ulp, bound ${bound})`,
      );
    }
  }
}

const data = (t: tf.Tensor) => {
  const d = t.dataSync();
  t.dispose();
  return Float32Array.from(d as ArrayLike<number>);
};

// ---------------------------------------------------------------------------------------------
// unary

const SPECIALS = [NaN, Infinity, -Infinity];

interface UnaryCase {
  op: number;
  ref: (x: tf.Tensor, alpha: number, beta: number) => tf.Tensor;
  ulps?: number;
  abs?: number;
  /** The inputs: scale of the normal values, and whether to add NaN and infinities. */
  scale?: number;
  specials?: boolean;
  alpha?: number;
  beta?: number;
}

const UNARY: Record<string, UnaryCase> = {
  copy: { op: UnaryOp.copy, ref: (x) => tf.clone(x), specials: true },
  neg: { op: UnaryOp.neg, ref: (x) => tf.neg(x), specials: true },
  abs: { op: UnaryOp.abs, ref: (x) => tf.abs(x), specials: true },
  exp: { op: UnaryOp.exp, ref: (x) => tf.exp(x), ulps: 1, scale: 30, specials: true },
  log: { op: UnaryOp.log, ref: (x) => tf.log(x), ulps: 1, scale: 100, specials: true },
  sqrt: { op: UnaryOp.sqrt, ref: (x) => tf.sqrt(x), specials: true },
  rsqrt: { op: UnaryOp.rsqrt, ref: (x) => tf.rsqrt(x), specials: true },
  square: { op: UnaryOp.square, ref: (x) => tf.square(x), specials: true },
  tanh: { op: UnaryOp.tanh, ref: (x) => tf.tanh(x), ulps: 1, specials: true },
  sigmoid: { op: UnaryOp.sigmoid, ref: (x) => tf.sigmoid(x), ulps: 1, scale: 10, specials: true },
  relu: { op: UnaryOp.relu, ref: (x) => tf.relu(x), specials: true },
  leakyRelu: { op: UnaryOp.leakyRelu, ref: (x, a) => tf.leakyRelu(x, a), specials: true, alpha: 0.2, ulps: 1 },
  leakyReluExact: { op: UnaryOp.leakyRelu, ref: (x, a) => tf.leakyRelu(x, a), specials: true, alpha: 0.125 },
  elu: { op: UnaryOp.elu, ref: (x) => tf.elu(x), ulps: 1, abs: 2 ** -52, specials: true },
  softplus: { op: UnaryOp.softplus, ref: (x) => tf.softplus(x), ulps: 1, scale: 10, specials: true },
  step: { op: UnaryOp.step, ref: (x, a) => tf.step(x, a), specials: true, alpha: 0.5 },
  sign: { op: UnaryOp.sign, ref: (x) => tf.sign(x), specials: true },
  reciprocal: { op: UnaryOp.reciprocal, ref: (x) => tf.reciprocal(x), specials: true },
  log1p: { op: UnaryOp.log1p, ref: (x) => tf.log1p(x), ulps: 1, scale: 0.5, specials: true },
  expm1: { op: UnaryOp.expm1, ref: (x) => tf.expm1(x), ulps: 1, scale: 1, specials: true },
  relu6: { op: UnaryOp.relu6, ref: (x) => tf.relu6(x), scale: 6, specials: true },
  floor: { op: UnaryOp.floor, ref: (x) => tf.floor(x), specials: true },
  ceil: { op: UnaryOp.ceil, ref: (x) => tf.ceil(x), specials: true },
  round: { op: UnaryOp.round, ref: (x) => tf.round(x), specials: true },
  trunc: { op: UnaryOp.trunc, ref: (x) => tf.cast(x, 'int32'), scale: 1e5 },
  notZero: { op: UnaryOp.notZero, ref: (x) => tf.cast(x, 'bool'), specials: true },
  logicalNot: { op: UnaryOp.logicalNot, ref: (x) => tf.logicalNot(tf.cast(x, 'bool')), specials: true },
  fill: { op: UnaryOp.fill, ref: (x, a) => tf.fill(x.shape, a), alpha: -2.5 },
  isNaN: { op: UnaryOp.isNaN, ref: (x) => tf.isNaN(x), specials: true },
  isInf: { op: UnaryOp.isInf, ref: (x) => tf.isInf(x), specials: true },
  isFinite: { op: UnaryOp.isFinite, ref: (x) => tf.isFinite(x), specials: true },
  selu: { op: UnaryOp.selu, ref: (x) => tf.selu(x), ulps: 1, abs: 2 ** -52, specials: true },
  sin: { op: UnaryOp.sin, ref: (x) => tf.sin(x), ulps: 1, scale: 1000, specials: true },
  cos: { op: UnaryOp.cos, ref: (x) => tf.cos(x), ulps: 1, scale: 1000, specials: true },
  erf: { op: UnaryOp.erf, ref: (x) => tf.erf(x), ulps: 1, abs: 2 ** -50, scale: 1.5, specials: true },
  clip: { op: UnaryOp.clip, ref: (x, a, b) => tf.clipByValue(x, a, b), specials: true, alpha: -1.5, beta: 2.25 },
  scaleShift: {
    op: UnaryOp.scaleShift,
    alpha: 1.75,
    beta: -0.5,
    specials: true,
    ref: (x, a, b) =>
      tf.tensor(
        Float32Array.from(x.dataSync(), (v) => Math.fround(Math.fround(a * v) + b)),
        x.shape,
      ),
  },
  sinh: { op: UnaryOp.sinh, ref: (x) => tf.sinh(x), ulps: 1, scale: 10, specials: true },
  cosh: { op: UnaryOp.cosh, ref: (x) => tf.cosh(x), ulps: 1, scale: 10, specials: true },
  atan: { op: UnaryOp.atan, ref: (x) => tf.atan(x), ulps: 1, scale: 5, specials: true },
  tan: { op: UnaryOp.tan, ref: (x) => tf.tan(x), ulps: 1, scale: 10, specials: true },
};

test('unary: every op code against TensorFlow.js, in place and not, for sizes around the SIMD width', () => {
  const r = rng(1);
  assert.equal(new Set(Object.values(UNARY).map((c) => c.op)).size, 40, 'all 40 op codes are tested');
  for (const [name, c] of Object.entries(UNARY)) {
    for (const n of [1, 3, 4, 7, 33, 1000]) {
      const x = r.values(n, c.scale ?? 3, c.specials ? SPECIALS : []);
      const alpha = c.alpha ?? 0,
        beta = c.beta ?? 0;
      const want = tf.tidy(() => data(c.ref(tf.tensor(x), alpha, beta)));
      for (const inPlace of [false, true]) {
        const h = new Heap();
        const px = h.input(x);
        const py = inPlace ? px : h.output(n);
        h.k.unary(c.op, px, py, n, alpha, beta);
        const got = h.read(py, n);
        h.done(`unary ${name}`);
        expectClose(got, want, `unary ${name} (n = ${n}${inPlace ? ', in place' : ''})`, c.ulps ?? 0, c.abs ?? 0);
      }
    }
  }
});

test('unary: transcendental functions on special ranges (tiny, huge, near the thresholds)', () => {
  const xs = Float32Array.from([
    1e-30,
    -1e-30,
    1e-10,
    -1e-10,
    1e-5,
    -1e-5,
    0.3,
    -0.3,
    0.35,
    -0.35,
    0.6,
    -0.6,
    13.9,
    -13.9,
    13.95,
    -13.95,
    20,
    -20,
    30,
    -30,
    88.7,
    88.8,
    -87,
    -103,
    -104,
    1e10,
    -1e10,
    3.4e38,
    -3.4e38,
    1.5707964,
    3.1415927,
    6.2831855,
    1e6,
    12345.678,
    2 ** 24,
    2 ** 60,
    1.2e-38,
    1.4e-45,
    0.99999994,
    1.0000001,
    0,
    -0,
  ]);
  for (const [name, c] of Object.entries(UNARY)) {
    if (!c.ulps) continue;
    const want = tf.tidy(() => data(c.ref(tf.tensor(xs), c.alpha ?? 0, c.beta ?? 0)));
    const h = new Heap();
    const px = h.input(xs),
      py = h.output(xs.length);
    h.k.unary(c.op, px, py, xs.length, c.alpha ?? 0, c.beta ?? 0);
    const got = h.read(py, xs.length);
    h.done(name);
    expectClose(got, want, `unary ${name} on special values`, c.ulps, c.abs ?? 0);
  }
});

// ---------------------------------------------------------------------------------------------
// binary and select: broadcasting

interface BinaryCase {
  op: number;
  ref: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  ulps?: number;
  /** Inputs: b without zeros (floorDiv: TensorFlow.js returns int32, where inf and NaN become 0). */
  bNonZero?: boolean;
  /** Small integers, so that comparisons and mod see ties and exact multiples. */
  integers?: boolean;
  specials?: boolean;
}

const BINARY: Record<string, BinaryCase> = {
  add: { op: BinaryOp.add, ref: tf.add, specials: true },
  sub: { op: BinaryOp.sub, ref: tf.sub, specials: true },
  mul: { op: BinaryOp.mul, ref: tf.mul, specials: true },
  div: { op: BinaryOp.div, ref: tf.div, specials: true },
  maximum: { op: BinaryOp.maximum, ref: tf.maximum, specials: true },
  minimum: { op: BinaryOp.minimum, ref: tf.minimum, specials: true },
  pow: { op: BinaryOp.pow, ref: tf.pow, ulps: 1, specials: true },
  powIntegers: { op: BinaryOp.pow, ref: tf.pow, ulps: 1, integers: true },
  squaredDifference: { op: BinaryOp.squaredDifference, ref: tf.squaredDifference, specials: true },
  greater: { op: BinaryOp.greater, ref: tf.greater, integers: true },
  greaterEqual: { op: BinaryOp.greaterEqual, ref: tf.greaterEqual, integers: true },
  less: { op: BinaryOp.less, ref: tf.less, integers: true },
  lessEqual: { op: BinaryOp.lessEqual, ref: tf.lessEqual, integers: true },
  equal: { op: BinaryOp.equal, ref: tf.equal, integers: true },
  notEqual: { op: BinaryOp.notEqual, ref: tf.notEqual, integers: true },
  greaterSpecials: { op: BinaryOp.greater, ref: tf.greater, specials: true },
  equalSpecials: { op: BinaryOp.equal, ref: tf.equal, specials: true },
  logicalAnd: {
    op: BinaryOp.logicalAnd,
    ref: (a, b) => tf.logicalAnd(tf.cast(a, 'bool'), tf.cast(b, 'bool')),
    integers: true,
  },
  logicalOr: {
    op: BinaryOp.logicalOr,
    ref: (a, b) => tf.logicalOr(tf.cast(a, 'bool'), tf.cast(b, 'bool')),
    integers: true,
  },
  floorDiv: { op: BinaryOp.floorDiv, ref: tf.floorDiv, bNonZero: true },
  floorDivIntegers: { op: BinaryOp.floorDiv, ref: tf.floorDiv, bNonZero: true, integers: true },
  mod: { op: BinaryOp.mod, ref: tf.mod, bNonZero: true },
  modIntegers: { op: BinaryOp.mod, ref: tf.mod, bNonZero: true, integers: true },
  atan2: { op: BinaryOp.atan2, ref: tf.atan2, ulps: 1, specials: true },
  eluGrad: {
    op: BinaryOp.eluGrad,
    specials: true,
    ref: (dy, y) => {
      const shape = tf.add(dy, y).shape;
      return tf
        .engine()
        .runKernel('EluGrad', { dy: tf.broadcastTo(dy, shape), y: tf.broadcastTo(y, shape) }) as tf.Tensor;
    },
  },
  divNoNan: { op: BinaryOp.divNoNan, ref: tf.divNoNan, specials: true },
  divNoNanIntegers: { op: BinaryOp.divNoNan, ref: tf.divNoNan, integers: true },
};

/** Random broadcasting shapes: the output, and each input with some axes 1 and maybe a shorter rank. */
function broadcastShapes(r: Rng, inputs: number) {
  const out = randomShape(r);
  const shapes = Array.from({ length: inputs }, () => {
    let s = out.map((d) => (r.next() < 0.3 ? 1 : d));
    if (r.next() < 0.25) s = s.slice(r.int(0, s.length)); // a lower rank (maybe a scalar)
    return s;
  });
  // the output is the broadcast of the inputs (an axis where every input has 1 is 1)
  const rank = out.length;
  const padded = shapes.map((s) => pad4(s, 1).slice(4 - rank));
  const outShape = out.map((_, i) => Math.max(...padded.map((s) => s[i])));
  return { out: outShape, shapes };
}

/** Strides of an input of shape s read as the 4-d output: 0 where it broadcasts. */
function broadcastStrides(s: number[], out: number[]): number[] {
  const s4 = pad4(s, 1),
    o4 = pad4(out, 1),
    st = pad4(stridesOf(s), 0);
  return s4.map((d, i) => (d === 1 && o4[i] !== 1 ? 0 : d === 1 ? 0 : st[i]));
}

function binaryInputs(r: Rng, c: BinaryCase, n: number): Float32Array {
  const v = c.integers
    ? Float32Array.from({ length: n }, () => r.int(-3, 3))
    : r.values(n, 3, c.specials ? SPECIALS : []);
  if (c.bNonZero) for (let i = 0; i < n; i++) if (v[i] === 0 || !Number.isFinite(v[i])) v[i] = 0.75;
  return v;
}

test('binary: every op code against TensorFlow.js with broadcasting of either input along any axis', () => {
  const r = rng(2);
  assert.equal(new Set(Object.values(BINARY).map((c) => c.op)).size, 21, 'all 21 op codes are tested');
  for (const [name, c] of Object.entries(BINARY)) {
    for (let trial = 0; trial < 14; trial++) {
      const {
        out,
        shapes: [sa, sb],
      } =
        trial === 0
          ? { out: [1000], shapes: [[1000], [1000]] }
          : trial === 1
            ? { out: [7, 33], shapes: [[7, 33], [33]] }
            : trial === 2
              ? {
                  out: [7, 33],
                  shapes: [
                    [7, 1],
                    [7, 33],
                  ],
                }
              : broadcastShapes(r, 2);
      const a = binaryInputs(r, { ...c, bNonZero: false }, size(sa)),
        b = binaryInputs(r, c, size(sb));
      const want = tf.tidy(() => data(c.ref(tf.tensor(a, sa), tf.tensor(b, sb))));
      const n = size(out),
        n4 = pad4(out, 1);
      const h = new Heap();
      const pa = h.input(a),
        pb = h.input(b),
        py = h.output(n);
      h.k.binary(
        c.op,
        pa,
        pb,
        py,
        ...(n4 as [number, number, number, number]),
        ...(broadcastStrides(sa, out) as [number, number, number, number]),
        ...(broadcastStrides(sb, out) as [number, number, number, number]),
      );
      const got = h.read(py, n);
      h.done(`binary ${name}`);
      expectClose(got, want, `binary ${name} [${sa}] with [${sb}] -> [${out}]`, c.ulps ?? 0);
    }
  }
});

test('binary: in place (y = a or y = b, the other broadcast) and an input read through transposed strides', () => {
  const r = rng(3);
  for (const [name, c] of Object.entries(BINARY)) {
    const [M, N] = [r.pick([3, 7, 9]), r.pick([5, 33])];
    const a = binaryInputs(r, { ...c, bNonZero: false }, M * N),
      b = binaryInputs(r, c, N),
      bt = binaryInputs(r, c, M * N);
    // y = a op b[broadcast along rows], written over a
    let want = tf.tidy(() => data(c.ref(tf.tensor(a, [M, N]), tf.tensor(b, [N]))));
    let h = new Heap();
    let pa = h.input(a);
    const pb = h.input(b);
    h.k.binary(c.op, pa, pb, pa, 1, 1, M, N, 0, 0, N, 1, 0, 0, 0, 1);
    expectClose(h.read(pa, M * N), want, `binary ${name} in place over a`, c.ulps ?? 0);
    h.done(name);
    // y = a[broadcast] op b, written over b
    const a1 = binaryInputs(r, { ...c, bNonZero: false }, N),
      b2 = binaryInputs(r, c, M * N);
    want = tf.tidy(() => data(c.ref(tf.tensor(a1, [N]), tf.tensor(b2, [M, N]))));
    h = new Heap();
    pa = h.input(a1);
    const pb2 = h.input(b2);
    h.k.binary(c.op, pa, pb2, pb2, 1, 1, M, N, 0, 0, 0, 1, 0, 0, N, 1);
    expectClose(h.read(pb2, M * N), want, `binary ${name} in place over b`, c.ulps ?? 0);
    h.done(name);
    // y[M, N] = transpose(a stored [N, M]) op b[M, N]
    const at = binaryInputs(r, { ...c, bNonZero: false }, M * N);
    want = tf.tidy(() => data(c.ref(tf.transpose(tf.tensor(at, [N, M])), tf.tensor(bt, [M, N]))));
    h = new Heap();
    pa = h.input(at);
    const pbt = h.input(bt),
      py = h.output(M * N);
    h.k.binary(c.op, pa, pbt, py, 1, 1, M, N, 0, 0, 1, M, 0, 0, N, 1);
    expectClose(h.read(py, M * N), want, `binary ${name} with a transposed`, c.ulps ?? 0);
    h.done(name);
  }
});

test('select: y = c ? a : b (tf.where), each of the three broadcast along any axis', () => {
  const r = rng(4);
  for (let trial = 0; trial < 40; trial++) {
    const {
      out,
      shapes: [sc, sa, sb],
    } = trial === 0 ? { out: [1000], shapes: [[1000], [1000], [1000]] } : broadcastShapes(r, 3);
    const c = Float32Array.from({ length: size(sc) }, () => r.pick([0, 1, 0, 2.5, NaN, -0]));
    const a = r.values(size(sa), 3, SPECIALS),
      b = r.values(size(sb), 3, SPECIALS);
    const want = tf.tidy(() => {
      const shape = out;
      return data(
        tf.where(
          tf.broadcastTo(tf.cast(tf.tensor(c, sc), 'bool'), shape),
          tf.broadcastTo(tf.tensor(a, sa), shape),
          tf.broadcastTo(tf.tensor(b, sb), shape),
        ),
      );
    });
    const n = size(out);
    const h = new Heap();
    const pc = h.input(c),
      pa = h.input(a),
      pb = h.input(b),
      py = h.output(n);
    h.k.select(
      pc,
      pa,
      pb,
      py,
      ...(pad4(out, 1) as [number, number, number, number]),
      ...(broadcastStrides(sc, out) as [number, number, number, number]),
      ...(broadcastStrides(sa, out) as [number, number, number, number]),
      ...(broadcastStrides(sb, out) as [number, number, number, number]),
    );
    const got = h.read(py, n);
    h.done('select');
    expectClose(got, want, `select [${sc}] ? [${sa}] : [${sb}] -> [${out}]`);
  }
});

// ---------------------------------------------------------------------------------------------
// reduce

const REDUCE: Record<
  string,
  {
    op: number;
    ref: (x: tf.Tensor) => tf.Tensor;
    kind: 'sum' | 'mean' | 'prod' | 'exact';
    values: (r: Rng, n: number) => Float32Array;
  }
> = {
  sum: { op: ReduceOp.sum, ref: (x) => tf.sum(x, 1), kind: 'sum', values: (r, n) => r.values(n) },
  mean: { op: ReduceOp.mean, ref: (x) => tf.mean(x, 1), kind: 'mean', values: (r, n) => r.values(n) },
  max: {
    op: ReduceOp.max,
    ref: (x) => tf.max(x, 1),
    kind: 'exact',
    values: (r, n) => r.values(n, 3, [Infinity, -Infinity]),
  },
  min: {
    op: ReduceOp.min,
    ref: (x) => tf.min(x, 1),
    kind: 'exact',
    values: (r, n) => r.values(n, 3, [Infinity, -Infinity]),
  },
  prod: {
    op: ReduceOp.prod,
    ref: (x) => tf.prod(x, 1),
    kind: 'prod',
    values: (r, n) => Float32Array.from({ length: n }, () => (r.next() < 0.5 ? -1 : 1) * (0.7 + 0.6 * r.next())),
  },
  any: {
    op: ReduceOp.any,
    ref: (x) => tf.any(tf.cast(x, 'bool'), 1),
    kind: 'exact',
    values: (r, n) => Float32Array.from({ length: n }, () => (r.next() < 0.9 ? 0 : r.pick([1, -2, NaN]))),
  },
  all: {
    op: ReduceOp.all,
    ref: (x) => tf.all(tf.cast(x, 'bool'), 1),
    kind: 'exact',
    values: (r, n) => Float32Array.from({ length: n }, () => (r.next() < 0.1 ? 0 : r.pick([1, -2, NaN]))),
  },
  argMax: {
    op: ReduceOp.argMax,
    ref: (x) => tf.argMax(x, 1),
    kind: 'exact',
    values: (r, n) => Float32Array.from({ length: n }, () => r.int(-4, 4)),
  },
  argMin: {
    op: ReduceOp.argMin,
    ref: (x) => tf.argMin(x, 1),
    kind: 'exact',
    values: (r, n) => Float32Array.from({ length: n }, () => r.int(-4, 4)),
  },
  argMaxReal: { op: ReduceOp.argMax, ref: (x) => tf.argMax(x, 1), kind: 'exact', values: (r, n) => r.values(n) },
  argMinReal: { op: ReduceOp.argMin, ref: (x) => tf.argMin(x, 1), kind: 'exact', values: (r, n) => r.values(n) },
};

test('reduce: every op code against TensorFlow.js along rows (inner = 1), columns (outer = 1) and middle axes', () => {
  const r = rng(5);
  for (const [name, c] of Object.entries(REDUCE)) {
    const shapes = [
      [1, 1000, 1],
      [5, 7, 1],
      [13, 33, 1],
      [3, 4, 1],
      [1, 2, 1],
      [1, 7, 33],
      [1, 200, 9],
      [1, 1, 5],
      [2, 5, 7],
      [3, 33, 4],
      [4, 3, 1],
    ];
    for (let t = 0; t < 4; t++) shapes.push([r.pick(DIMS), r.pick(DIMS), r.pick(DIMS)]);
    for (const [outer, n, inner] of shapes) {
      const x = c.values(r, outer * n * inner);
      const want = tf.tidy(() => data(c.ref(tf.tensor(x, [outer, n, inner]))));
      const h = new Heap();
      const px = h.input(x),
        py = h.output(outer * inner);
      h.k.reduce(c.op, px, py, outer, n, inner);
      const got = h.read(py, outer * inner);
      h.done(`reduce ${name}`);
      const bound = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let s = 0,
            p = 1;
          for (let k = 0; k < n; k++) {
            const v = x[(o * n + k) * inner + i];
            s += Math.abs(v);
            p *= Math.abs(v);
          }
          const u = (n + 1) * 2 ** -24;
          bound[o * inner + i] =
            c.kind === 'sum'
              ? u * s
              : c.kind === 'mean'
                ? (u * s) / n + ulp(want[o * inner + i])
                : c.kind === 'prod'
                  ? u * p
                  : 0;
        }
      }
      expectClose(got, want, `reduce ${name} [${outer}, ${n}, ${inner}]`, 0, bound);
    }
  }
});

/** Float32 arithmetic in index order, as the kernels are documented to do it. */
const f32 = Math.fround;

test('reduce, segmentSum, softmax: float32 additions in index order, bit for bit', () => {
  const r = rng(13);
  for (const [outer, n, inner] of [
    [5, 1000, 1],
    [7, 33, 1],
    [1, 333, 7],
    [3, 17, 9],
    [4, 5, 1],
    [2, 1, 3],
  ]) {
    const x = r.values(outer * n * inner);
    const px = Float32Array.from(x, (v) => 0.9 + (0.2 * Math.abs(v)) / 100);
    for (const op of [ReduceOp.sum, ReduceOp.mean, ReduceOp.prod]) {
      const input = op === ReduceOp.prod ? px : x;
      const want = new Float32Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let s = op === ReduceOp.prod ? 1 : 0;
          for (let k = 0; k < n; k++)
            s =
              op === ReduceOp.prod ? f32(s * input[(o * n + k) * inner + i]) : f32(s + input[(o * n + k) * inner + i]);
          want[o * inner + i] = op === ReduceOp.mean ? f32(s / n) : s;
        }
      }
      const h = new Heap();
      const pin = h.input(input),
        py = h.output(outer * inner);
      h.k.reduce(op, pin, py, outer, n, inner);
      expectClose(h.read(py, outer * inner), want, `reduce ${op} [${outer}, ${n}, ${inner}] in float32 order`);
      h.done('reduce order');
    }
    // segment sums: rows added in order of j
    const segments = 3,
      idx = Array.from({ length: n }, () => r.int(0, segments - 1));
    const want = new Float32Array(outer * segments * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < inner; i++) {
          const t = (o * segments + idx[j]) * inner + i;
          want[t] = f32(want[t] + x[(o * n + j) * inner + i]);
        }
      }
    }
    let h = new Heap();
    let pin = h.input(x),
      py = h.output(outer * segments * inner);
    const pidx = h.input(idx);
    h.k.segmentSum(pin, pidx, py, outer, n, inner, segments);
    expectClose(h.read(py, outer * segments * inner), want, `segmentSum [${outer}, ${n}, ${inner}] in float32 order`);
    h.done('segmentSum order');
    // softmax: e = exp(x - max) rounded, s the float32 sum in order, y = e / s
    const rows = outer * inner,
      cols = n,
      sm = new Float32Array(rows * cols);
    for (let q = 0; q < rows; q++) {
      const row = x.subarray(q * cols, (q + 1) * cols);
      const m = row.reduce((a, b) => Math.max(a, b), -Infinity);
      let s = 0;
      const e = Float32Array.from(row, (v) => f32(Math.exp(f32(v - m))));
      for (const v of e) s = f32(s + v);
      e.forEach((v, j) => {
        sm[q * cols + j] = f32(v / s);
      });
    }
    h = new Heap();
    pin = h.input(x);
    py = h.output(rows * cols);
    h.k.softmax(pin, py, rows, cols);
    expectClose(h.read(py, rows * cols), sm, `softmax [${rows}, ${cols}] in float32 order`);
    h.done('softmax order');
  }
});

test('reduce: max and min propagate NaN; argmax ignores a NaN that does not come first, as TensorFlow.js', () => {
  const x = Float32Array.from([1, NaN, 3, 2, 5, 0, 1, 2, 3, 4, NaN, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  for (const [op, ref] of [
    [ReduceOp.max, (t: tf.Tensor) => tf.max(t, 1)],
    [ReduceOp.min, (t: tf.Tensor) => tf.min(t, 1)],
    [ReduceOp.argMax, (t: tf.Tensor) => tf.argMax(t, 1)],
    [ReduceOp.argMin, (t: tf.Tensor) => tf.argMin(t, 1)],
  ] as const) {
    for (const [outer, n, inner] of [
      [3, 7, 1],
      [1, 3, 7],
      [1, 21, 1],
      [7, 3, 1],
    ]) {
      const want = tf.tidy(() => data(ref(tf.tensor(x, [outer, n, inner]))));
      const h = new Heap();
      const px = h.input(x),
        py = h.output(outer * inner);
      h.k.reduce(op, px, py, outer, n, inner);
      expectClose(h.read(py, outer * inner), want, `reduce ${op} with NaN [${outer}, ${n}, ${inner}]`);
      h.done('reduce NaN');
    }
  }
});

// ---------------------------------------------------------------------------------------------
// copy: transpose, slice, concat, pad, broadcastTo, reverse

type Four = [number, number, number, number];

function runCopy(h: Heap, px: number, py: number, n: number[], xs: number[], ys: number[]): void {
  h.k.copy(px, py, ...(pad4(n, 1) as Four), ...(pad4(xs, 0) as Four), ...(pad4(ys, 0) as Four));
}

test('copy: transpose with every permutation of random shapes', () => {
  const r = rng(6);
  const perms = (k: number): number[][] =>
    k === 1
      ? [[0]]
      : perms(k - 1).flatMap((p) => Array.from({ length: k }, (_, i) => [...p.slice(0, i), k - 1, ...p.slice(i)]));
  for (let rank = 1; rank <= 4; rank++) {
    for (const perm of perms(rank)) {
      for (let t = 0; t < 2; t++) {
        const shape = randomShape(r, rank);
        const x = r.values(size(shape), 3, SPECIALS);
        const want = tf.tidy(() => data(tf.transpose(tf.tensor(x, shape), perm)));
        const out = perm.map((p) => shape[p]),
          xst = stridesOf(shape);
        const h = new Heap();
        const px = h.input(x),
          py = h.output(size(out));
        runCopy(
          h,
          px,
          py,
          out,
          perm.map((p) => xst[p]),
          stridesOf(out),
        );
        expectClose(h.read(py, size(out)), want, `transpose [${shape}] by [${perm}]`);
        h.done('transpose');
      }
    }
  }
});

test('copy: slice, concat, pad, broadcastTo and reverse (negative strides)', () => {
  const r = rng(7);
  for (let t = 0; t < 30; t++) {
    const shape = randomShape(r),
      rank = shape.length,
      xst = stridesOf(shape);
    const x = r.values(size(shape));
    // slice
    const begin = shape.map((d) => r.int(0, d - 1)),
      sz = shape.map((d, i) => r.int(1, d - begin[i]));
    let want = tf.tidy(() => data(tf.slice(tf.tensor(x, shape), begin, sz)));
    let h = new Heap();
    let px = h.input(x);
    let py = h.output(size(sz));
    runCopy(h, px + 4 * begin.reduce((s, b, i) => s + b * xst[i], 0), py, sz, xst, stridesOf(sz));
    expectClose(h.read(py, size(sz)), want, `slice [${shape}] at [${begin}] size [${sz}]`);
    h.done('slice');
    // concat of x and a second tensor along a random axis
    const axis = r.int(0, rank - 1);
    const shape2 = shape.map((d, i) => (i === axis ? r.pick([1, 2, 5]) : d));
    const x2 = r.values(size(shape2));
    const out = shape.map((d, i) => (i === axis ? d + shape2[i] : d)),
      ost = stridesOf(out);
    want = tf.tidy(() => data(tf.concat([tf.tensor(x, shape), tf.tensor(x2, shape2)], axis)));
    h = new Heap();
    px = h.input(x);
    const px2 = h.input(x2);
    py = h.output(size(out));
    runCopy(h, px, py, shape, xst, ost);
    runCopy(h, px2, py + 4 * shape[axis] * ost[axis], shape2, stridesOf(shape2), ost);
    expectClose(h.read(py, size(out)), want, `concat [${shape}] and [${shape2}] along ${axis}`);
    h.done('concat');
    // pad with a constant: fill, then copy into the interior
    const before = shape.map(() => r.int(0, 2)),
      after = shape.map(() => r.int(0, 2));
    const padded = shape.map((d, i) => d + before[i] + after[i]),
      pst = stridesOf(padded);
    want = tf.tidy(() =>
      data(
        tf.pad(
          tf.tensor(x, shape),
          shape.map((_, i) => [before[i], after[i]] as [number, number]),
          1.5,
        ),
      ),
    );
    h = new Heap();
    px = h.input(x);
    py = h.output(size(padded));
    h.k.unary(UnaryOp.fill, 0, py, size(padded), 1.5, 0);
    runCopy(h, px, py + 4 * before.reduce((s, b, i) => s + b * pst[i], 0), shape, xst, pst);
    expectClose(h.read(py, size(padded)), want, `pad [${shape}] by [${before}] [${after}]`);
    h.done('pad');
    // broadcastTo: size-1 axes of x repeated
    const small = shape.map((d) => (r.next() < 0.5 ? 1 : d));
    const xs = r.values(size(small));
    want = tf.tidy(() => data(tf.broadcastTo(tf.tensor(xs, small), shape)));
    h = new Heap();
    px = h.input(xs);
    py = h.output(size(shape));
    runCopy(h, px, py, shape, broadcastStrides(small, shape).slice(4 - rank), xst);
    expectClose(h.read(py, size(shape)), want, `broadcastTo [${small}] -> [${shape}]`);
    h.done('broadcastTo');
    // reverse along some axes: start at the last element of those axes, negative strides
    const axes = shape.map((_, i) => i).filter(() => r.next() < 0.5);
    want = tf.tidy(() => data(tf.reverse(tf.tensor(x, shape), axes)));
    h = new Heap();
    px = h.input(x);
    py = h.output(size(shape));
    const start = axes.reduce((s, a) => s + (shape[a] - 1) * xst[a], 0);
    runCopy(
      h,
      px + 4 * start,
      py,
      shape,
      xst.map((s, i) => (axes.includes(i) ? -s : s)),
      xst,
    );
    expectClose(h.read(py, size(shape)), want, `reverse [${shape}] along [${axes}]`);
    h.done('reverse');
  }
});

// ---------------------------------------------------------------------------------------------
// gather, segmentSum, oneHot, softmax

test('gather: against tf.gather along a middle axis; an index outside [0, dim) gives zeros', () => {
  const r = rng(8);
  const shapes = [
    [1, 27, 1, 32],
    [1, 27, 10, 5],
    [3, 5, 7, 9],
    [2, 1, 33, 4],
    [1, 4, 1, 1],
  ];
  for (let t = 0; t < 8; t++) shapes.push([r.pick(DIMS), r.pick(DIMS), r.pick(DIMS), r.int(1, 40)]);
  for (const [outer, dim, inner, count] of shapes) {
    const x = r.values(outer * dim * inner, 3, SPECIALS);
    const idx = Array.from({ length: count }, () => r.int(0, dim - 1));
    const want = tf.tidy(() => data(tf.gather(tf.tensor(x, [outer, dim, inner]), tf.tensor(idx, [count], 'int32'), 1)));
    const h = new Heap();
    const px = h.input(x),
      pi = h.input(idx),
      py = h.output(outer * count * inner);
    h.k.gather(px, pi, py, outer, dim, inner, count);
    expectClose(h.read(py, outer * count * inner), want, `gather [${outer}, ${dim}, ${inner}] by ${count} indices`);
    h.done('gather');
  }
  // out of range: -1, dim, NaN, a huge value give rows of zeros; 1.7 is truncated to 1
  const [outer, dim, inner] = [2, 3, 5];
  const x = rng(9).values(outer * dim * inner);
  const idx = [-1, 3, NaN, 1e30, 1.7, 0];
  const h = new Heap();
  const px = h.input(x),
    pi = h.input(idx),
    py = h.output(outer * idx.length * inner);
  h.k.gather(px, pi, py, outer, dim, inner, idx.length);
  const got = h.read(py, outer * idx.length * inner);
  h.done('gather out of range');
  for (let o = 0; o < outer; o++) {
    idx.forEach((k, j) => {
      const row = got.slice((o * idx.length + j) * inner, (o * idx.length + j + 1) * inner);
      const src =
        j === 4
          ? x.slice((o * dim + 1) * inner, (o * dim + 2) * inner)
          : j === 5
            ? x.slice(o * dim * inner, (o * dim + 1) * inner)
            : new Float32Array(inner);
      expectClose(row, src, `gather index ${k}`);
    });
  }
});

test('segmentSum: against tf.unsortedSegmentSum (indices out of range skipped), and with outer > 1', () => {
  const r = rng(10);
  const cases = [
    [1, 100, 30, 27],
    [1, 7, 33, 5],
    [3, 9, 7, 4],
    [2, 33, 1, 3],
    [1, 1, 1, 1],
  ];
  for (let t = 0; t < 6; t++) cases.push([r.int(1, 4), r.int(1, 40), r.pick(DIMS), r.int(1, 9)]);
  for (const [outer, count, inner, segments] of cases) {
    const x = r.values(outer * count * inner);
    const idx = Array.from({ length: count }, () =>
      r.next() < 0.1 ? r.pick([-1, segments, segments + 3]) : r.int(0, segments - 1),
    );
    // tf.unsortedSegmentSum sums along axis 0: move `outer` inside and back
    const want = tf.tidy(() => {
      const xt = tf.transpose(tf.tensor(x, [outer, count, inner]), [1, 0, 2]);
      return data(tf.transpose(tf.unsortedSegmentSum(xt, tf.tensor(idx, [count], 'int32'), segments), [1, 0, 2]));
    });
    const h = new Heap();
    const px = h.input(x),
      pi = h.input(idx),
      py = h.output(outer * segments * inner);
    h.k.segmentSum(px, pi, py, outer, count, inner, segments);
    const got = h.read(py, outer * segments * inner);
    h.done('segmentSum');
    const bound = new Float64Array(got.length);
    for (let o = 0; o < outer; o++) {
      idx.forEach((s, j) => {
        if (s < 0 || s >= segments) return;
        for (let i = 0; i < inner; i++)
          bound[(o * segments + s) * inner + i] += (count + 1) * 2 ** -24 * Math.abs(x[(o * count + j) * inner + i]);
      });
    }
    expectClose(got, want, `segmentSum [${outer}, ${count}, ${inner}] into ${segments}`, 0, bound);
  }
});

test('oneHot: against tf.oneHot, with indices out of range', () => {
  const r = rng(11);
  for (const [n, depth] of [
    [1, 2],
    [7, 27],
    [33, 5],
    [100, 3],
    [5, 33],
  ]) {
    const idx = Array.from({ length: n }, () =>
      r.next() < 0.15 ? r.pick([-1, depth, depth + 5]) : r.int(0, depth - 1),
    );
    for (const [on, off] of [
      [1, 0],
      [0.9, -0.25],
    ]) {
      const want = tf.tidy(() => data(tf.oneHot(tf.tensor(idx, [n], 'int32'), depth, on, off, 'float32')));
      const h = new Heap();
      const pi = h.input(idx),
        py = h.output(n * depth);
      h.k.oneHot(pi, py, n, depth, on, off);
      expectClose(h.read(py, n * depth), want.map(Math.fround), `oneHot ${n} x ${depth} (${on}, ${off})`);
      h.done('oneHot');
    }
  }
});

test('softmax: against tf.softmax, rows of any length, large logits, in place', () => {
  const r = rng(12);
  for (const [rows, cols] of [
    [1, 1],
    [3, 7],
    [32, 27],
    [5, 33],
    [2, 1000],
    [7, 4],
  ]) {
    for (const scale of [1, 30]) {
      const x = r.values(rows * cols, scale);
      const want = tf.tidy(() => data(tf.softmax(tf.tensor(x, [rows, cols]))));
      for (const inPlace of [false, true]) {
        const h = new Heap();
        const px = h.input(x),
          py = inPlace ? px : h.output(rows * cols);
        h.k.softmax(px, py, rows, cols);
        const got = h.read(py, rows * cols);
        h.done('softmax');
        // the float32 sum of the exponentials (each < 1) against float64: (cols + 1) 2^-24 relative, plus the division
        expectClose(
          got,
          want,
          `softmax [${rows}, ${cols}]${inPlace ? ' in place' : ''}`,
          1,
          Array.from(want, (w) => (cols + 1) * 2 ** -24 * w),
        );
      }
    }
  }
});

test('the module exports every kernel the plans call', () => {
  const k = new KernelMemory().kernels as unknown as Record<string, unknown>;
  for (const name of [
    'matmul',
    'matmulTN',
    'transpose',
    'sgd',
    'std',
    'unary',
    'binary',
    'select',
    'reduce',
    'copy',
    'gather',
    'segmentSum',
    'oneHot',
    'softmax',
  ]) {
    assert.equal(typeof k[name], 'function', name);
  }
});
