// Generic kernels for recorded TensorFlow.js operations, in AssemblyScript with 128-bit SIMD. Compiled
// into the same module as kernels.ts (lib/assembly/index.ts is the entry), so the same rules hold: every
// argument named like a tensor is a byte address of row-major float32 data (index tensors too: an index
// is a float32 value, truncated to an integer here), sizes and strides are i32 counts of elements, and
// the module keeps nothing in memory: no data, no allocation, no lookup tables (so no Math.* functions
// that use them: exp, log, sin, pow... are written out below, in float64).
//
// Reading past the end of a buffer by up to 7 floats is allowed (callers leave 32 bytes of room);
// writing past the n output elements never happens. Outputs do not alias inputs unless said.
//
// Precision: float32 results of the elementwise operations are those of TensorFlow.js's cpu backend
// (which computes in float64 and rounds) to within an ulp or two; the transcendental functions are
// computed in float64 and rounded once. Sums run in float32, in index order.

// ---------------------------------------------------------------------------------------------
// Small helpers

import { at, ld, st, vld, vst, vstPartial } from './access';

/** Lanes 0, 1 and 2, 3 of a float32 vector as float64 vectors, and back. */
@inline function lo64(v: v128): v128 { return f64x2.promote_low_f32x4(v); }
@inline function hi64(v: v128): v128 { return f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)); }
@inline function pack32(l: v128, h: v128): v128 {
  return i32x4.shuffle(f32x4.demote_f64x2_zero(l), f32x4.demote_f64x2_zero(h), 0, 1, 4, 5);
}

/** 1 where the mask is set, else 0. */
@inline function ones(mask: v128): v128 { return v128.and(mask, f32x4.splat(1)); }

/** An index stored as a float: its integer value (truncated), or -1 when it is not in [0, limit). */
@inline function index(v: f32, limit: i32): i32 {
  const t = trunc<f32>(v);
  return t >= 0 && t < <f32>limit ? <i32>t : -1;     // the comparisons are false for NaN
}

// ---------------------------------------------------------------------------------------------
// Float64 functions without lookup tables (all are within a few units in the last place of a
// float64, far below float32's precision)

const LN2_HI: f64 = 6.93147180369123816490e-01;    // ln 2 in two parts: k * LN2_HI is exact for |k| < 2^20
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e+00;
const PI: f64 = 3.141592653589793;
const PI_2: f64 = 1.5707963267948966;
const PI_4: f64 = 0.7853981633974483;

/** x * 2^k for any k (two steps when 2^k alone would overflow or underflow). */
function scalbn(x: f64, k: i32): f64 {
  if (k > 1023) {
    x *= reinterpret<f64>(<i64>(1023 + 1023) << 52); k -= 1023;
    if (k > 1023) k = 1023;
  } else if (k < -1022) {
    x *= reinterpret<f64>(<i64>(-1022 + 53 + 1023) << 52); k += 1022 - 53;
    if (k < -1022) k = -1022;
  }
  return x * reinterpret<f64>(<i64>(k + 1023) << 52);
}

/** exp(r) - 1 for |r| <= ln(2) / 2: the Taylor series to degree 14 (remainder below 1e-19 of the result). */
@inline function expm1Poly(r: f64): f64 {
  let p: f64 = 1.0 / 87178291200.0;     // 1/14!
  p = p * r + 1.0 / 6227020800.0;       // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  return p * r;
}

/** exp(x) = 2^k * exp(r), r = x - k ln 2, |r| <= ln(2) / 2. */
function expd(x: f64): f64 {
  if (x != x) return x;
  if (x > 709.8) return Infinity;
  if (x < -745.2) return 0;
  const k = nearest<f64>(x * INV_LN2);
  const r = (x - k * LN2_HI) - k * LN2_LO;
  return scalbn(1.0 + expm1Poly(r), <i32>k);
}

/** exp(x) - 1 without the cancellation near 0. */
function expm1d(x: f64): f64 {
  if (abs<f64>(x) < 0.34657359027997264) return expm1Poly(x);
  if (x < -40) return -1;                 // exp(-40) is below half an ulp of 1
  return expd(x) - 1;                     // NaN and infinities too (inf - 1, 0 - 1)
}

/** log(x) = e ln 2 + 2 atanh(f), x = m 2^e, m in [sqrt(1/2), sqrt(2)), f = (m - 1) / (m + 1), |f| < 0.172. */
function logd(x: f64): f64 {
  if (x != x || x < 0) return NaN;
  if (x == 0) return -Infinity;
  if (x == Infinity) return x;
  let bits = reinterpret<i64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  if (e == -1023) {                        // subnormal: scale up first
    bits = reinterpret<i64>(x * 18014398509481984.0);   // 2^54
    e = <i32>((bits >> 52) & 0x7ff) - 1023 - 54;
  }
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);   // in [1, 2)
  if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
  const f = (m - 1) / (m + 1), f2 = f * f;
  // atanh(f) = f + f^3/3 + f^5/5 + ... to f^27 (the rest is below 1e-21 of the sum)
  let p: f64 = 1.0 / 27.0;
  p = p * f2 + 1.0 / 25.0;
  p = p * f2 + 1.0 / 23.0;
  p = p * f2 + 1.0 / 21.0;
  p = p * f2 + 1.0 / 19.0;
  p = p * f2 + 1.0 / 17.0;
  p = p * f2 + 1.0 / 15.0;
  p = p * f2 + 1.0 / 13.0;
  p = p * f2 + 1.0 / 11.0;
  p = p * f2 + 1.0 / 9.0;
  p = p * f2 + 1.0 / 7.0;
  p = p * f2 + 1.0 / 5.0;
  p = p * f2 + 1.0 / 3.0;
  const s = 2 * f + 2 * f * f2 * p;
  const ef = <f64>e;
  return ef * LN2_HI + (ef * LN2_LO + s);
}

/** log(1 + x), accurate near 0: log(u) * x / (u - 1) with u = 1 + x rounded (Goldberg's trick). */
function log1pd(x: f64): f64 {
  const u = 1.0 + x;
  if (u == 1.0) return x;
  if (u == Infinity) return u;
  return logd(u) * (x / (u - 1.0));
}

function tanhd(x: f64): f64 {
  const ax = abs<f64>(x);
  if (ax > 20) return copysign<f64>(1, x);            // tanh(20) is 1 in float64 to 1e-17
  const e = expm1d(2 * ax);
  return copysign<f64>(e / (e + 2), x);               // NaN stays NaN
}

// sin and cos: reduce x to r = x - k pi/2, |r| <= pi/4, then Taylor series. The reduction multiplies x
// by the bits of 2/pi (Payne and Hanek), so it is exact enough for every float32 x, however large.

/** 64 bits of 2/pi starting at bit position start + 1 (bit 1 has weight 1/2); zeros before bit 1. */
function twoOverPiBits(start: i32): u64 {
  if (start < 0) return start <= -64 ? 0 : twoOverPiWord(0) >> <u64>(-start);
  const q = start >> 6, r = start & 63;
  if (r == 0) return twoOverPiWord(q);
  return (twoOverPiWord(q) << <u64>r) | (twoOverPiWord(q + 1) >> <u64>(64 - r));
}

/** Word j of 2/pi's binary expansion (bits 64j + 1 to 64j + 64). */
function twoOverPiWord(j: i32): u64 {
  switch (j) {
    case 0: return 0xa2f9836e4e441529;
    case 1: return 0xfc2757d1f534ddc0;
    case 2: return 0xdb6295993c439041;
    case 3: return 0xfe5163abdebbc561;
    case 4: return 0xb7246e3a424dd2e0;
    default: return 0;
  }
}

/** The quadrant of the last reduction (x = quadrant * pi/2 + r). */
let quadrant: i32 = 0;

/** r = |x| - k pi/2 with |r| <= pi/4 (about), for a float32 x given as float64; sets quadrant = k mod 4. */
function reduce32(ax: f64): f64 {
  if (ax <= PI_4) { quadrant = 0; return ax; }
  // ax = m * 2^e with m an integer below 2^24
  const bits = reinterpret<i64>(ax);
  const e = <i32>((bits >> 52) & 0x7ff) - 1023 - 23;
  const m = <u64>(((bits & 0x000fffffffffffff) | 0x0010000000000000) >> 29);   // the 24 significant bits
  // ax * 2/pi mod 4 = L * 2^-62, L = m * W0 + (m * W1 >> 64) mod 2^64, W0 and W1 the 128 bits of 2/pi
  // from bit e - 1 on (the bits before give multiples of 4)
  const s = e - 2;
  const w0 = twoOverPiBits(s), w1 = twoOverPiBits(s + 64);
  const hi = m * (w1 >> 32), lo = m * (w1 & 0xffffffff);
  const L = m * w0 + ((hi + (lo >> 32)) >> 32);
  const frac = <i64>(L << 2);                    // the fraction, as a signed 64-bit fixed-point number in [-1/2, 1/2)
  quadrant = <i32>(L >> 62) + (frac < 0 ? 1 : 0);
  return <f64>frac * (5.421010862427522e-20 * PI_2);   // 2^-64 * pi/2
}

/** sin(r) for |r| <= pi/4 (Taylor to r^19, remainder below 1e-19). */
@inline function sinPoly(r: f64): f64 {
  const z = r * r;
  let p: f64 = -1.0 / 121645100408832000.0;    // -1/19!
  p = p * z + 1.0 / 355687428096000.0;         // 1/17!
  p = p * z - 1.0 / 1307674368000.0;
  p = p * z + 1.0 / 6227020800.0;
  p = p * z - 1.0 / 39916800.0;
  p = p * z + 1.0 / 362880.0;
  p = p * z - 1.0 / 5040.0;
  p = p * z + 1.0 / 120.0;
  p = p * z - 1.0 / 6.0;
  return r + r * z * p;
}

/** cos(r) for |r| <= pi/4 (Taylor to r^20). */
@inline function cosPoly(r: f64): f64 {
  const z = r * r;
  let p: f64 = 1.0 / 2432902008176640000.0;    // 1/20!
  p = p * z - 1.0 / 6402373705728000.0;        // -1/18!
  p = p * z + 1.0 / 20922789888000.0;
  p = p * z - 1.0 / 87178291200.0;
  p = p * z + 1.0 / 479001600.0;
  p = p * z - 1.0 / 3628800.0;
  p = p * z + 1.0 / 40320.0;
  p = p * z - 1.0 / 720.0;
  p = p * z + 1.0 / 24.0;
  p = p * z - 0.5;
  return 1.0 + z * p;
}

function sind(x: f64): f64 {
  if (!isFinite<f64>(x)) return NaN;
  if (abs<f64>(x) <= PI_4) return sinPoly(x);       // keeps the sign of -0
  const r = reduce32(abs<f64>(x));
  let v: f64;
  switch (quadrant & 3) {
    case 0: v = sinPoly(r); break;
    case 1: v = cosPoly(r); break;
    case 2: v = -sinPoly(r); break;
    default: v = -cosPoly(r);
  }
  return x < 0 ? -v : v;
}

function cosd(x: f64): f64 {
  if (!isFinite<f64>(x)) return NaN;
  const r = reduce32(abs<f64>(x));
  switch (quadrant & 3) {
    case 0: return cosPoly(r);
    case 1: return -sinPoly(r);
    case 2: return -cosPoly(r);
    default: return sinPoly(r);
  }
}

function tand(x: f64): f64 {
  if (!isFinite<f64>(x)) return NaN;
  if (abs<f64>(x) <= PI_4) return sinPoly(x) / cosPoly(x);
  const r = reduce32(abs<f64>(x));
  const s = sinPoly(r), c = cosPoly(r);
  const v = (quadrant & 1) ? -c / s : s / c;
  return x < 0 ? -v : v;
}

/** atan(x): atan(x) = pi/2 - atan(1/x) beyond 1, atan(t) = pi/4 + atan((t - 1) / (t + 1)) beyond tan(pi/8), then the series. */
function atand(x: f64): f64 {
  if (x != x) return x;
  let t = abs<f64>(x);
  const inv = t > 1;
  if (inv) t = 1 / t;
  let off: f64 = 0;
  if (t > 0.41421356237309503) { t = (t - 1) / (t + 1); off = PI_4; }
  // |t| <= tan(pi/8): t - t^3/3 + t^5/5 - ... to t^47 (the rest is below 1e-19)
  const z = t * t;
  let p: f64 = 0;
  for (let k = 47; k >= 3; k -= 2) p = (k & 2 ? -1.0 : 1.0) / <f64>k + p * z;   // -1/3 + z (1/5 + z (-1/7 + ...))
  let a = off + (t + t * z * p);
  if (inv) a = PI_2 - a;
  return copysign<f64>(a, x);
}

function atan2d(y: f64, x: f64): f64 {
  if (x != x || y != y) return NaN;
  if (y == 0) return (x > 0 || (x == 0 && 1 / x > 0)) ? y : copysign<f64>(PI, y);
  if (x == 0) return copysign<f64>(PI_2, y);
  if (!isFinite<f64>(x)) {
    if (!isFinite<f64>(y)) return copysign<f64>(x > 0 ? PI_4 : 3 * PI_4, y);
    return x > 0 ? copysign<f64>(0, y) : copysign<f64>(PI, y);
  }
  if (!isFinite<f64>(y)) return copysign<f64>(PI_2, y);
  let a = atand(abs<f64>(y / x));
  if (x < 0) a = PI - a;
  return copysign<f64>(a, y);
}

/** JavaScript's Math.pow (the special cases of ECMAScript's Number::exponentiate), as exp(b log|a|). */
function powd(a: f64, b: f64): f64 {
  if (b != b) return NaN;
  if (b == 0) return 1;
  if (a != a) return NaN;
  if (b == 1) return a;
  if (b == 2) return a * a;
  const aa = abs<f64>(a);
  if (!isFinite<f64>(b)) {
    if (aa == 1) return NaN;
    return (aa > 1) == (b > 0) ? Infinity : 0;
  }
  const isInt = floor<f64>(b) == b;
  const odd = isInt && abs<f64>(b) < 9007199254740992.0 && b - 2 * floor<f64>(b * 0.5) != 0;
  if (a == 0) {
    if (b > 0) return odd ? a : 0;
    return odd ? 1 / a : Infinity;
  }
  if (!isFinite<f64>(a)) {
    if (a > 0) return b > 0 ? Infinity : 0;
    if (b > 0) return odd ? -Infinity : Infinity;
    return odd ? -0.0 : 0.0;
  }
  if (a < 0 && !isInt) return NaN;
  const r = expd(b * logd(aa));
  return a < 0 && odd ? -r : r;
}

/** TensorFlow.js's erf (Abramowitz and Stegun 7.1.26, the same constants), in float64. */
function erfd(x: f64): f64 {
  if (x != x) return x;
  const v = abs<f64>(x);
  const t = 1.0 / (1.0 + 0.3275911 * v);
  const poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  const r = 1.0 - poly * expd(-v * v);
  return x > 0 ? r : x < 0 ? -r : x * r;
}

// TensorFlow.js's softplus thresholds: log(float32 epsilon) + 2
const SOFTPLUS_THRESHOLD: f64 = -13.942385152878742;
const SELU_SCALE: f64 = 1.0507009873554804934193349852946;
const SELU_SCALEALPHA: f64 = 1.7580993408473768599402175208123;

// ---------------------------------------------------------------------------------------------
// Elementwise: one input

/** Whether unary op `op` has a four-lane form (the others run one element at a time in float64). */
@inline function unaryIsVector(op: i32): bool {
  return (op <= 2) || op == 5 || op == 6 || op == 7 || op == 10 || op == 11 || (op >= 14 && op <= 16)
    || (op >= 19 && op <= 29) || op == 34 || op == 35;
}

@inline function unaryV(op: i32, x: v128, alpha: f32, beta: f32): v128 {
  const zero = f32x4.splat(0);
  switch (op) {
    case 0: return x;
    case 1: return f32x4.neg(x);
    case 2: return f32x4.abs(x);
    case 5: return f32x4.sqrt(x);
    case 6: {   // 1 / sqrt(x) in float64, rounded once as TensorFlow.js does
      const one = f64x2.splat(1);
      return pack32(f64x2.div(one, f64x2.sqrt(lo64(x))), f64x2.div(one, f64x2.sqrt(hi64(x))));
    }
    case 7: return f32x4.mul(x, x);
    case 10: return f32x4.max(x, zero);                                   // Math.max(0, x): NaN stays NaN
    case 11: return v128.bitselect(f32x4.mul(x, f32x4.splat(alpha)), x, f32x4.lt(x, zero));
    case 14: {
      const s = v128.bitselect(f32x4.splat(1), f32x4.splat(alpha), f32x4.gt(x, zero));
      return v128.bitselect(x, s, f32x4.ne(x, x));
    }
    case 15: return v128.or(v128.and(f32x4.gt(x, zero), f32x4.splat(1)), v128.and(f32x4.lt(x, zero), f32x4.splat(-1)));
    case 16: return f32x4.div(f32x4.splat(1), x);
    case 19: return f32x4.min(f32x4.max(x, zero), f32x4.splat(6));
    case 20: return f32x4.floor(x);
    case 21: return f32x4.ceil(x);
    case 22: return f32x4.nearest(x);                                     // half to even
    case 23: return f32x4.convert_i32x4_s(i32x4.trunc_sat_f32x4_s(x));     // NaN -> 0, saturates at +-2^31
    case 24: return ones(f32x4.ne(x, zero));
    case 25: return ones(f32x4.eq(x, zero));
    case 26: return f32x4.splat(alpha);
    case 27: return ones(f32x4.ne(x, x));
    case 28: return ones(f32x4.eq(f32x4.abs(x), f32x4.splat(Infinity)));
    case 29: return ones(f32x4.lt(f32x4.abs(x), f32x4.splat(Infinity)));
    case 34: {  // TensorFlow.js's clipByValue: x > max ? max : x < min ? min : x (NaN stays NaN)
      const lo = f32x4.splat(alpha), hi = f32x4.splat(beta);
      return v128.bitselect(hi, v128.bitselect(lo, x, f32x4.lt(x, lo)), f32x4.gt(x, hi));
    }
    case 35: return f32x4.add(f32x4.mul(x, f32x4.splat(alpha)), f32x4.splat(beta));
    default: return x;
  }
}

function unaryS(op: i32, xf: f32): f32 {
  const x = <f64>xf;
  switch (op) {
    case 3: return <f32>expd(x);
    case 4: return <f32>logd(x);
    case 8: return <f32>tanhd(x);
    case 9: return <f32>(1.0 / (1.0 + expd(-x)));
    case 12: return xf >= 0 ? xf : <f32>(expd(x) - 1);     // exp(x) - 1 in float64, as TensorFlow.js (not expm1)
    case 13: {
      if (x < SOFTPLUS_THRESHOLD) return <f32>expd(x);
      if (x > -SOFTPLUS_THRESHOLD) return xf;
      return <f32>logd(1.0 + expd(x));
    }
    case 17: return <f32>log1pd(x);
    case 18: return <f32>expm1d(x);
    case 30: return xf >= 0 ? <f32>(SELU_SCALE * x) : <f32>(SELU_SCALEALPHA * (expd(x) - 1));
    case 31: return <f32>sind(x);
    case 32: return <f32>cosd(x);
    case 33: return <f32>erfd(x);
    case 36: {  // sinh: (E + E / (E + 1)) / 2 with E = expm1(|x|)
      const ax = abs<f64>(x);
      if (ax > 710) return <f32>copysign<f64>(Infinity, x);
      const e = expm1d(ax);
      return <f32>copysign<f64>(0.5 * (e + e / (e + 1)), x);
    }
    case 37: {
      const ax = abs<f64>(x);
      if (ax > 710) return <f32>Infinity;
      const e = expd(ax);
      return <f32>(0.5 * (e + 1 / e));
    }
    case 38: return <f32>atand(x);
    case 39: return <f32>tand(x);
    default: return xf;
  }
}

/**
 * y[i] = f(x[i]) for i < n; y may be x. Op codes: 0 copy, 1 neg, 2 abs, 3 exp, 4 log, 5 sqrt, 6 rsqrt,
 * 7 square, 8 tanh, 9 sigmoid, 10 relu, 11 leakyRelu (x < 0 ? alpha x : x), 12 elu, 13 softplus, 14 step
 * (x > 0 ? 1 : alpha, NaN stays NaN), 15 sign, 16 reciprocal, 17 log1p, 18 expm1, 19 relu6, 20 floor,
 * 21 ceil, 22 round (half to even), 23 trunc (a cast to int32), 24 notZero (cast to bool), 25 logicalNot,
 * 26 fill (alpha), 27 isNaN, 28 isInf, 29 isFinite, 30 selu, 31 sin, 32 cos, 33 erf, 34 clip to
 * [alpha, beta], 35 alpha x + beta, 36 sinh, 37 cosh, 38 atan, 39 tan.
 */
export function unary(op: i32, x: usize, y: usize, n: i32, alpha: f32, beta: f32): void {
  if (n <= 0) return;
  if (op == 0) { if (x != y) memory.copy(y, x, <usize>n << 2); return; }
  if (unaryIsVector(op)) {
    let i = 0;
    for (; i + 4 <= n; i += 4) vst(y, i, unaryV(op, vld(x, i), alpha, beta));
    if (i < n) vstPartial(y, i, unaryV(op, vld(x, i), alpha, beta), n - i);
  } else {
    for (let i = 0; i < n; i++) st(y, i, unaryS(op, ld(x, i)));
  }
}

// ---------------------------------------------------------------------------------------------
// Broadcast shapes: up to four dimensions, walked by the kernels below after merging

// The shape [N0, N1, N2, N3] and the strides of up to four operands (A, B, C, D), in elements.
let N0: i32 = 0, N1: i32 = 0, N2: i32 = 0, N3: i32 = 0;
let A0: i32 = 0, A1: i32 = 0, A2: i32 = 0, A3: i32 = 0;
let B0: i32 = 0, B1: i32 = 0, B2: i32 = 0, B3: i32 = 0;
let C0: i32 = 0, C1: i32 = 0, C2: i32 = 0, C3: i32 = 0;
let D0: i32 = 0, D1: i32 = 0, D2: i32 = 0, D3: i32 = 0;

@inline function setShape(n0: i32, n1: i32, n2: i32, n3: i32): void { N0 = n0; N1 = n1; N2 = n2; N3 = n3; }
@inline function setA(s0: i32, s1: i32, s2: i32, s3: i32): void { A0 = s0; A1 = s1; A2 = s2; A3 = s3; }
@inline function setB(s0: i32, s1: i32, s2: i32, s3: i32): void { B0 = s0; B1 = s1; B2 = s2; B3 = s3; }
@inline function setC(s0: i32, s1: i32, s2: i32, s3: i32): void { C0 = s0; C1 = s1; C2 = s2; C3 = s3; }
@inline function setD(s0: i32, s1: i32, s2: i32, s3: i32): void { D0 = s0; D1 = s1; D2 = s2; D3 = s3; }
/** Strides of a contiguous array of the current shape, as D. */
@inline function contiguousD(): void { D3 = 1; D2 = N3; D1 = N2 * N3; D0 = N1 * N2 * N3; }

/**
 * Moves dimensions of size 1 outwards and merges neighbouring dimensions that every operand walks
 * contiguously (stride of the outer = stride of the inner * size of the inner), so that the innermost
 * dimension is as long as possible. The order in which elements are visited does not change.
 */
function collapse(): void {
  for (let pass = 0; pass < 4; pass++) {
    if (N3 == 1 && N2 != 1) { N3 = N2; A3 = A2; B3 = B2; C3 = C2; D3 = D2; N2 = 1; }
    if (N2 == 1 && N1 != 1) { N2 = N1; A2 = A1; B2 = B1; C2 = C1; D2 = D1; N1 = 1; }
    if (N1 == 1 && N0 != 1) { N1 = N0; A1 = A0; B1 = B0; C1 = C0; D1 = D0; N0 = 1; }
    if (N2 != 1 && N3 != 1 && A2 == A3 * N3 && B2 == B3 * N3 && C2 == C3 * N3 && D2 == D3 * N3) { N3 *= N2; N2 = 1; }
    if (N1 != 1 && N2 != 1 && A1 == A2 * N2 && B1 == B2 * N2 && C1 == C2 * N2 && D1 == D2 * N2) { N2 *= N1; N1 = 1; }
    if (N0 != 1 && N1 != 1 && A0 == A1 * N1 && B0 == B1 * N1 && C0 == C1 * N1 && D0 == D1 * N1) { N1 *= N0; N0 = 1; }
  }
}

// ---------------------------------------------------------------------------------------------
// Elementwise: two inputs, broadcast

/** Whether binary op `op` runs in float64, one element at a time. */
@inline function binaryIsScalar(op: i32): bool { return op == 6 || op == 17 || op == 18; }

@inline function binaryV(op: i32, a: v128, b: v128): v128 {
  const zero = f32x4.splat(0);
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: return f32x4.max(a, b);         // NaN if either is NaN, as Math.max
    case 5: return f32x4.min(a, b);
    case 7: {                               // (a - b)^2 in float64, rounded once
      const dl = f64x2.sub(lo64(a), lo64(b)), dh = f64x2.sub(hi64(a), hi64(b));
      return pack32(f64x2.mul(dl, dl), f64x2.mul(dh, dh));
    }
    case 8: return ones(f32x4.gt(a, b));
    case 9: return ones(f32x4.ge(a, b));
    case 10: return ones(f32x4.lt(a, b));
    case 11: return ones(f32x4.le(a, b));
    case 12: return ones(f32x4.eq(a, b));
    case 13: return ones(f32x4.ne(a, b));
    case 14: return ones(v128.and(f32x4.ne(a, zero), f32x4.ne(b, zero)));
    case 15: return ones(v128.or(f32x4.ne(a, zero), f32x4.ne(b, zero)));
    case 16: return pack32(f64x2.floor(f64x2.div(lo64(a), lo64(b))), f64x2.floor(f64x2.div(hi64(a), hi64(b))));
    case 19: {                              // eluGrad: y >= 0 ? dy : dy * (y + 1), in float64
      const one = f64x2.splat(1);
      const g = pack32(f64x2.mul(lo64(a), f64x2.add(lo64(b), one)), f64x2.mul(hi64(a), f64x2.add(hi64(b), one)));
      return v128.bitselect(a, g, f32x4.ge(b, zero));
    }
    case 20: return v128.bitselect(zero, f32x4.div(a, b), f32x4.eq(b, zero));
    default: return a;
  }
}

function binaryS(op: i32, af: f32, bf: f32): f32 {
  const a = <f64>af, b = <f64>bf;
  switch (op) {
    case 6: return <f32>powd(a, b);
    case 17: {   // TensorFlow.js's mod: the remainder of a / b with the sign of b
      const rem = a % b;
      if ((a < 0 && b < 0) || (a >= 0 && b >= 0)) return <f32>rem;
      return <f32>((rem + b) % b);
    }
    case 18: return <f32>atan2d(a, b);
    default: {
      return f32x4.extract_lane(binaryV(op, f32x4.splat(af), f32x4.splat(bf)), 0);
    }
  }
}

/** One row: y[i] = a[i * sa] op b[i * sb], i < n. */
function binaryRow(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: i32): void {
  if (binaryIsScalar(op) || n < 4 || !((sa == 1 || sa == 0) && (sb == 1 || sb == 0))) {
    for (let i = 0; i < n; i++) st(y, i, binaryS(op, ld(a, i * sa), ld(b, i * sb)));
    return;
  }
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 4 <= n; i += 4) vst(y, i, binaryV(op, vld(a, i), vld(b, i)));
    if (i < n) vstPartial(y, i, binaryV(op, vld(a, i), vld(b, i)), n - i);
  } else if (sa == 1) {
    const vb = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) vst(y, i, binaryV(op, vld(a, i), vb));
    if (i < n) vstPartial(y, i, binaryV(op, vld(a, i), vb), n - i);
  } else if (sb == 1) {
    const va = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) vst(y, i, binaryV(op, va, vld(b, i)));
    if (i < n) vstPartial(y, i, binaryV(op, va, vld(b, i)), n - i);
  } else {
    const v = binaryV(op, v128.load32_splat(a), v128.load32_splat(b));
    for (; i + 4 <= n; i += 4) vst(y, i, v);
    if (i < n) vstPartial(y, i, v, n - i);
  }
}

/**
 * Broadcasting y = a op b: y is contiguous of shape [n0, n1, n2, n3], a[i0*as0 + i1*as1 + i2*as2 + i3*as3]
 * (stride 0 where a broadcasts), b likewise. y may be a or b when that input has y's strides.
 * Op codes: 0 add, 1 sub, 2 mul, 3 div, 4 maximum, 5 minimum, 6 pow, 7 squaredDifference, 8 greater,
 * 9 greaterEqual, 10 less, 11 lessEqual, 12 equal, 13 notEqual, 14 logicalAnd, 15 logicalOr,
 * 16 floorDiv, 17 mod (the sign of b), 18 atan2, 19 eluGrad (a = dy, b = y), 20 divNoNan.
 */
export function binary(op: i32, a: usize, b: usize, y: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  as0: i32, as1: i32, as2: i32, as3: i32, bs0: i32, bs1: i32, bs2: i32, bs3: i32): void {
  if (n0 <= 0 || n1 <= 0 || n2 <= 0 || n3 <= 0) return;
  setShape(n0, n1, n2, n3); setA(as0, as1, as2, as3); setB(bs0, bs1, bs2, bs3); setC(0, 0, 0, 0); contiguousD();
  collapse();
  for (let i0 = 0; i0 < N0; i0++) {
    for (let i1 = 0; i1 < N1; i1++) {
      for (let i2 = 0; i2 < N2; i2++) {
        binaryRow(op, at(a, i0 * A0 + i1 * A1 + i2 * A2), A3, at(b, i0 * B0 + i1 * B1 + i2 * B2), B3,
          at(y, i0 * D0 + i1 * D1 + i2 * D2), N3);
      }
    }
  }
}

/** One row of select: y[i] = c[i * sc] != 0 ? a[i * sa] : b[i * sb]. */
function selectRow(c: usize, sc: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, n: i32): void {
  let i = 0;
  if (sc == 1 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1)) {
    const zero = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const va = sa ? vld(a, i) : v128.load32_splat(a), vb = sb ? vld(b, i) : v128.load32_splat(b);
      vst(y, i, v128.bitselect(va, vb, f32x4.ne(vld(c, i), zero)));
    }
  }
  for (; i < n; i++) st(y, i, ld(c, i * sc) != 0 ? ld(a, i * sa) : ld(b, i * sb));
}

/**
 * y = c != 0 ? a : b, broadcast as in `binary` (y contiguous of shape [n0..n3]; c, a and b with their
 * strides, 0 where they broadcast). y may be a or b when that input has y's strides.
 */
export function select(c: usize, a: usize, b: usize, y: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  cs0: i32, cs1: i32, cs2: i32, cs3: i32, as0: i32, as1: i32, as2: i32, as3: i32,
  bs0: i32, bs1: i32, bs2: i32, bs3: i32): void {
  if (n0 <= 0 || n1 <= 0 || n2 <= 0 || n3 <= 0) return;
  setShape(n0, n1, n2, n3); setA(as0, as1, as2, as3); setB(bs0, bs1, bs2, bs3); setC(cs0, cs1, cs2, cs3); contiguousD();
  collapse();
  for (let i0 = 0; i0 < N0; i0++) {
    for (let i1 = 0; i1 < N1; i1++) {
      for (let i2 = 0; i2 < N2; i2++) {
        selectRow(at(c, i0 * C0 + i1 * C1 + i2 * C2), C3, at(a, i0 * A0 + i1 * A1 + i2 * A2), A3,
          at(b, i0 * B0 + i1 * B1 + i2 * B2), B3, at(y, i0 * D0 + i1 * D1 + i2 * D2), N3);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Strided copy (transpose, slice, concat, pad, broadcastTo, reverse with negative strides)

/**
 * y[i0*ys0 + i1*ys1 + i2*ys2 + i3*ys3] = x[i0*xs0 + i1*xs1 + i2*xs2 + i3*xs3] for i < [n0, n1, n2, n3].
 * Strides may be 0 (x: broadcast) or negative. x and y must not overlap.
 */
export function copy(x: usize, y: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  xs0: i32, xs1: i32, xs2: i32, xs3: i32, ys0: i32, ys1: i32, ys2: i32, ys3: i32): void {
  if (n0 <= 0 || n1 <= 0 || n2 <= 0 || n3 <= 0) return;
  setShape(n0, n1, n2, n3); setA(xs0, xs1, xs2, xs3); setB(0, 0, 0, 0); setC(0, 0, 0, 0); setD(ys0, ys1, ys2, ys3);
  collapse();
  const sx = A3, sy = D3, n = N3;
  for (let i0 = 0; i0 < N0; i0++) {
    for (let i1 = 0; i1 < N1; i1++) {
      for (let i2 = 0; i2 < N2; i2++) {
        const px = at(x, i0 * A0 + i1 * A1 + i2 * A2), py = at(y, i0 * D0 + i1 * D1 + i2 * D2);
        if (sx == 1 && sy == 1) {
          memory.copy(py, px, <usize>n << 2);
        } else if (sx == 0) {
          const v = load<f32>(px);
          if (sy == 1) {
            const vv = f32x4.splat(v);
            let i = 0;
            for (; i + 4 <= n; i += 4) vst(py, i, vv);
            for (; i < n; i++) st(py, i, v);
          } else {
            for (let i = 0; i < n; i++) st(py, i * sy, v);
          }
        } else {
          let i = 0;
          for (; i + 4 <= n; i += 4) {
            const v0 = ld(px, i * sx), v1 = ld(px, (i + 1) * sx), v2 = ld(px, (i + 2) * sx), v3 = ld(px, (i + 3) * sx);
            st(py, i * sy, v0); st(py, (i + 1) * sy, v1); st(py, (i + 2) * sy, v2); st(py, (i + 3) * sy, v3);
          }
          for (; i < n; i++) st(py, i * sy, ld(px, i * sx));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reductions

/** The value of an empty reduction. */
function reduceIdentity(op: i32, n: i32): f32 {
  switch (op) {
    case 0: return 0;
    case 1: return NaN;          // 0 / 0
    case 2: return -Infinity;
    case 3: return Infinity;
    case 4: return 1;
    case 5: return 0;
    case 6: return 1;
    default: return -1;
  }
}

/** One contiguous row of n >= 1 floats reduced (max, min, any, all, prod, argmax, argmin). */
function reduceRow(op: i32, p: usize, n: i32): f32 {
  switch (op) {
    case 2: case 3: {
      let k = 0;
      let m = ld(p, 0);
      if (n >= 4) {
        let v = vld(p, 0);
        for (k = 4; k + 4 <= n; k += 4) v = op == 2 ? f32x4.max(v, vld(p, k)) : f32x4.min(v, vld(p, k));
        const a = f32x4.extract_lane(v, 0), b = f32x4.extract_lane(v, 1), c = f32x4.extract_lane(v, 2), d = f32x4.extract_lane(v, 3);
        m = op == 2 ? max(max(a, b), max(c, d)) : min(min(a, b), min(c, d));
      }
      for (; k < n; k++) m = op == 2 ? max(m, ld(p, k)) : min(m, ld(p, k));
      return m;
    }
    case 4: {
      let s: f32 = 1;
      for (let k = 0; k < n; k++) s *= ld(p, k);
      return s;
    }
    case 5: {
      for (let k = 0; k < n; k++) if (ld(p, k) != 0) return 1;
      return 0;
    }
    case 6: {
      for (let k = 0; k < n; k++) if (ld(p, k) == 0) return 0;
      return 1;
    }
    case 7: case 8: {   // the first extreme, as TensorFlow.js (a NaN never wins unless it comes first)
      let best = ld(p, 0), bi = 0;
      for (let k = 1; k < n; k++) {
        const v = ld(p, k);
        if (op == 7 ? v > best : v < best) { best = v; bi = k; }
      }
      return <f32>bi;
    }
    default: return 0;
  }
}

/**
 * Sixteen lanes of a sum (op 0) or mean (op 1) over k of the rows p + k * stride, stored at q: each lane
 * added in order from k = 0, as `reduceLanes` does, with four vectors in flight instead of one.
 */
@inline function sumLanes16(op: i32, p: usize, q: usize, stride: i32, n: i32): void {
  let a0 = vld(p, 0), a1 = vld(p, 4), a2 = vld(p, 8), a3 = vld(p, 12);
  for (let k = 1; k < n; k++) {
    const r = at(p, k * stride);
    a0 = f32x4.add(a0, vld(r, 0)); a1 = f32x4.add(a1, vld(r, 4)); a2 = f32x4.add(a2, vld(r, 8)); a3 = f32x4.add(a3, vld(r, 12));
  }
  if (op == 1) {
    const d = f32x4.splat(<f32>n);
    a0 = f32x4.div(a0, d); a1 = f32x4.div(a1, d); a2 = f32x4.div(a2, d); a3 = f32x4.div(a3, d);
  }
  vst(q, 0, a0); vst(q, 4, a1); vst(q, 8, a2); vst(q, 12, a3);
}

/** Four lanes of a reduction over k of the rows p + k * stride (n >= 1 rows). */
@inline function reduceLanes(op: i32, p: usize, stride: i32, n: i32): v128 {
  const zero = f32x4.splat(0);
  let acc = vld(p, 0);
  switch (op) {
    case 0: case 1: {
      for (let k = 1; k < n; k++) acc = f32x4.add(acc, vld(p, k * stride));
      if (op == 1) acc = f32x4.div(acc, f32x4.splat(<f32>n));
      return acc;
    }
    case 2: { for (let k = 1; k < n; k++) acc = f32x4.max(acc, vld(p, k * stride)); return acc; }
    case 3: { for (let k = 1; k < n; k++) acc = f32x4.min(acc, vld(p, k * stride)); return acc; }
    case 4: { for (let k = 1; k < n; k++) acc = f32x4.mul(acc, vld(p, k * stride)); return acc; }
    case 5: {
      let m = f32x4.ne(acc, zero);
      for (let k = 1; k < n; k++) m = v128.or(m, f32x4.ne(vld(p, k * stride), zero));
      return ones(m);
    }
    case 6: {
      let m = f32x4.ne(acc, zero);
      for (let k = 1; k < n; k++) m = v128.and(m, f32x4.ne(vld(p, k * stride), zero));
      return ones(m);
    }
    case 7: case 8: {
      let bi = zero;
      for (let k = 1; k < n; k++) {
        const v = vld(p, k * stride);
        const better = op == 7 ? f32x4.gt(v, acc) : f32x4.lt(v, acc);
        acc = v128.bitselect(v, acc, better);
        bi = v128.bitselect(f32x4.splat(<f32>k), bi, better);
      }
      return bi;
    }
    default: return acc;
  }
}

/**
 * y[o*inner + i] = op over k < n of x[(o*n + k)*inner + i]. Op codes: 0 sum, 1 mean (sum / n), 2 max,
 * 3 min, 4 prod, 5 any (nonzero), 6 all, 7 argmax, 8 argmin (the index of the first extreme, as a float).
 * Sums and products run over k in order, in float32; max and min propagate NaN.
 */
export function reduce(op: i32, x: usize, y: usize, outer: i32, n: i32, inner: i32): void {
  if (outer <= 0 || inner <= 0) return;
  if (n <= 0) {
    const v = reduceIdentity(op, n);
    for (let i = 0; i < outer * inner; i++) st(y, i, v);
    return;
  }
  if (inner == 1) {
    if (op == 0 || op == 1) {
      // four rows at a time, each summed in order
      let o = 0;
      for (; o + 4 <= outer; o += 4) {
        const p0 = at(x, o * n), p1 = at(x, (o + 1) * n), p2 = at(x, (o + 2) * n), p3 = at(x, (o + 3) * n);
        let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
        for (let k = 0; k < n; k++) { s0 += ld(p0, k); s1 += ld(p1, k); s2 += ld(p2, k); s3 += ld(p3, k); }
        if (op == 1) { const d = <f32>n; s0 /= d; s1 /= d; s2 /= d; s3 /= d; }
        st(y, o, s0); st(y, o + 1, s1); st(y, o + 2, s2); st(y, o + 3, s3);
      }
      for (; o < outer; o++) {
        const p = at(x, o * n);
        let s: f32 = 0;
        for (let k = 0; k < n; k++) s += ld(p, k);
        st(y, o, op == 1 ? s / <f32>n : s);
      }
    } else {
      for (let o = 0; o < outer; o++) st(y, o, reduceRow(op, at(x, o * n), n));
    }
    return;
  }
  // across i, four lanes at a time (the last vector reads past the row and stores only its lanes);
  // sums and means sixteen lanes at a time, as four independent sums over k in order
  for (let o = 0; o < outer; o++) {
    const px = at(x, o * n * inner), py = at(y, o * inner);
    let i = 0;
    if (op == 0 || op == 1) for (; i + 16 <= inner; i += 16) sumLanes16(op, at(px, i), at(py, i), inner, n);
    for (; i + 4 <= inner; i += 4) vst(py, i, reduceLanes(op, at(px, i), inner, n));
    if (i < inner) vstPartial(py, i, reduceLanes(op, at(px, i), inner, n), inner - i);
  }
}

// ---------------------------------------------------------------------------------------------
// Gather, its gradient, one-hot, softmax

/**
 * y[(o*count + j)*inner + i] = x[(o*dim + idx[j])*inner + i]; an index outside [0, dim) gives zeros.
 */
export function gather(x: usize, idx: usize, y: usize, outer: i32, dim: i32, inner: i32, count: i32): void {
  if (outer <= 0 || inner <= 0 || count <= 0) return;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const k = index(ld(idx, j), dim);
      const py = at(y, (o * count + j) * inner);
      if (inner == 1) {
        if (k >= 0) st(py, 0, ld(x, o * dim + k)); else st(py, 0, 0);
      } else if (k >= 0) memory.copy(py, at(x, (o * dim + k) * inner), <usize>inner << 2);
      else memory.fill(py, 0, <usize>inner << 2);
    }
  }
}

/**
 * y[outer, segments, inner] = 0, then y[(o*segments + idx[j])*inner + i] += x[(o*count + j)*inner + i]
 * for j in order (indices outside [0, segments) are skipped). The gradient of gather.
 */
export function segmentSum(x: usize, idx: usize, y: usize, outer: i32, count: i32, inner: i32, segments: i32): void {
  if (outer <= 0 || inner <= 0 || segments <= 0) return;
  memory.fill(y, 0, <usize>(outer * segments * inner) << 2);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < count; j++) {
      const s = index(ld(idx, j), segments);
      if (s < 0) continue;
      const px = at(x, (o * count + j) * inner), py = at(y, (o * segments + s) * inner);
      let i = 0;
      for (; i + 4 <= inner; i += 4) vst(py, i, f32x4.add(vld(py, i), vld(px, i)));
      for (; i < inner; i++) st(py, i, ld(py, i) + ld(px, i));
    }
  }
}

/** y[n, depth]: y[i, d] = d == idx[i] ? on : off (an index outside [0, depth) gives a row of off). */
export function oneHot(idx: usize, y: usize, n: i32, depth: i32, on: f32, off: f32): void {
  if (n <= 0 || depth <= 0) return;
  const total = n * depth;
  const v = f32x4.splat(off);
  let i = 0;
  for (; i + 4 <= total; i += 4) vst(y, i, v);
  for (; i < total; i++) st(y, i, off);
  for (let r = 0; r < n; r++) {
    const k = index(ld(idx, r), depth);
    if (k >= 0) st(y, r * depth + k, on);
  }
}

/**
 * Softmax along the last axis of x[rows, cols], as tf.softmax: e = exp(x - max) (float32 difference,
 * exp in float64 rounded), s = the float32 sum of e in order, y = e / s. y may be x.
 */
export function softmax(x: usize, y: usize, rows: i32, cols: i32): void {
  if (rows <= 0 || cols <= 0) return;
  for (let r = 0; r < rows; r++) {
    const px = at(x, r * cols), py = at(y, r * cols);
    const m = reduceRow(2, px, cols);
    let s: f32 = 0;
    for (let j = 0; j < cols; j++) {
      const e = <f32>expd(<f64>(ld(px, j) - m));
      s += e;
      st(py, j, e);
    }
    const vs = f32x4.splat(s);
    let j = 0;
    for (; j + 4 <= cols; j += 4) vst(py, j, f32x4.div(vld(py, j), vs));
    for (; j < cols; j++) st(py, j, ld(py, j) / s);
  }
}
