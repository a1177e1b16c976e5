/**
 * exp, log, tanh and the functions built on them, four float32 lanes at a time, written into the
 * fused loops (`fuse.ts`) as WebAssembly instructions: inline, so a loop calls nothing. exp and log
 * are polynomials after Cephes' single-precision functions (expf, logf), tanh a ratio of polynomials
 * after Eigen's; each within a few ulp. Each function takes the local holding x and leaves f(x) on the
 * stack.
 */
import { Body, SIMD } from './emit';

/** Integer-lane opcodes (after the 0xfd prefix). */
const I32X4 = { splat: 0x11, shl: 0xab, shrU: 0xad, add: 0xae, sub: 0xb1, convertToF32: 0xfa } as const;

/** A new v128 local holding what `code` leaves on the stack. */
function local(b: Body, code: () => void): number {
  code();
  const l = b.v128();
  b.set(l);
  return l;
}

const splatI32 = (b: Body, v: number) => b.splat32(v);

/** p(r) = ((c0 r + c1) r + ...) + cn by Horner's rule, on the stack: one fused multiply-add a step where the module may. */
function horner(b: Body, r: number, coefficients: number[]): void {
  b.f32Splat(coefficients[0]);
  for (const c of coefficients.slice(1)) {
    if (b.fma) b.get(r).f32Splat(c).simd(SIMD.madd);
    else b.get(r).simd(SIMD.mul).f32Splat(c).simd(SIMD.add);
  }
}

/** What `value` leaves where the lanes of the mask `test` leaves are set, else what is on the stack. */
function where(b: Body, test: () => void, value: () => void): void {
  const rest = local(b, () => undefined);
  value();
  b.get(rest);
  test();
  b.simd(SIMD.bitselect);
}

const MAX = 88.3762626647949,
  MIN = -87.3365447504;

/** exp(x) = exp(r) * 2^n with |r| <= ln(2) / 2; 0 below -87.3, Infinity above 88.4, NaN stays NaN. */
export function exp(b: Body, x: number): void {
  // pmin/pmax (one instruction each; min/max also order NaN and -0): NaN is put back below.
  const c = local(b, () => b.get(x).f32Splat(MAX).simd(SIMD.pmin).f32Splat(MIN).simd(SIMD.pmax));
  expWithin(b, c);
  where(
    b,
    () => b.get(x).f32Splat(MIN).simd(SIMD.lt),
    () => b.f32Splat(0),
  );
  where(
    b,
    () => b.get(x).f32Splat(MAX).simd(SIMD.gt),
    () => b.f32Splat(Infinity),
  );
  where(
    b,
    () => b.get(x).get(x).simd(SIMD.ne),
    () => b.get(x),
  );
}

/** exp(c) for c known to lie within [-87.3, 88.4] (no NaN): the polynomial and the power of two. */
function expWithin(b: Body, c: number): void {
  const fx = local(b, () => b.get(c).f32Splat(1.44269504088896341).simd(SIMD.mul).simd(SIMD.nearest));
  const r = local(b, () =>
    b
      .get(c)
      .get(fx)
      .f32Splat(0.693359375)
      .simd(SIMD.mul)
      .simd(SIMD.sub)
      .get(fx)
      .f32Splat(-2.1219444e-4)
      .simd(SIMD.mul)
      .simd(SIMD.sub),
  );
  const z = local(b, () => b.get(r).get(r).simd(SIMD.mul));
  horner(b, r, [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]);
  b.get(z).simd(SIMD.mul).get(r).simd(SIMD.add).f32Splat(1).simd(SIMD.add);
  // * 2^n, built from the exponent bits: n + 127 + 1.5 * 2^23 is exact and holds n + 127 in its low
  // mantissa bits, which the shift moves into the exponent (cheaper than a saturating conversion).
  b.get(fx).f32Splat(12583039).simd(SIMD.add).i32Const(23).simd(I32X4.shl);
  b.simd(SIMD.mul);
}

/** log(x), x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(0) = -Infinity, log(x < 0) = NaN. */
export function log(b: Body, x: number): void {
  const e0 = local(b, () => {
    b.get(x).i32Const(23).simd(I32X4.shrU);
    splatI32(b, 126).simd(I32X4.sub).simd(I32X4.convertToF32);
  });
  const m0 = local(b, () => {
    b.get(x);
    splatI32(b, 0x007fffff).simd(SIMD.and);
    splatI32(b, 0x3f000000).simd(SIMD.or);
  });
  const small = local(b, () => b.get(m0).f32Splat(0.707106781186547524).simd(SIMD.lt));
  const e = local(b, () => b.get(e0).get(small).f32Splat(1).simd(SIMD.and).simd(SIMD.sub));
  const m = local(b, () => b.get(m0).get(small).get(m0).simd(SIMD.and).simd(SIMD.add).f32Splat(1).simd(SIMD.sub));
  const z = local(b, () => b.get(m).get(m).simd(SIMD.mul));
  horner(
    b,
    m,
    [
      7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
      2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
    ],
  );
  b.get(m).simd(SIMD.mul).get(z).simd(SIMD.mul);
  b.get(e).f32Splat(-2.1219444e-4).simd(SIMD.mul).simd(SIMD.add);
  b.get(z).f32Splat(0.5).simd(SIMD.mul).simd(SIMD.sub);
  b.get(m).simd(SIMD.add).get(e).f32Splat(0.693359375).simd(SIMD.mul).simd(SIMD.add);
  where(
    b,
    () => b.get(x).f32Splat(1.17549435e-38).simd(SIMD.lt),
    () => b.f32Splat(-Infinity),
  );
  where(
    b,
    () => b.get(x).f32Splat(0).simd(SIMD.lt),
    () => b.f32Splat(NaN),
  );
  where(
    b,
    () => b.get(x).f32Splat(Infinity).simd(SIMD.eq),
    () => b.get(x),
  );
  where(
    b,
    () => b.get(x).get(x).simd(SIMD.ne),
    () => b.get(x),
  );
}

/**
 * tanh(x) as a ratio of polynomials, x P(x^2) / Q(x^2), on x clamped to [-7.905, 7.905] (Eigen's fast
 * tanh; its coefficients), x itself below |x| = 0.0004, and ±1 from |x| = 9.02, where float32's tanh is
 * 1: within 6 ulp of Math.tanh, about 1 on average (test/unit/vmath.test.ts), and about half the
 * instructions of the exp-based form.
 */
export function tanh(b: Body, x: number): void {
  const ax = local(b, () => b.get(x).simd(SIMD.abs));
  const c = local(b, () =>
    b.get(x).f32Splat(7.90531110763549805).simd(SIMD.pmin).f32Splat(-7.90531110763549805).simd(SIMD.pmax),
  );
  const x2 = local(b, () => b.get(c).get(c).simd(SIMD.mul));
  horner(
    b,
    x2,
    [
      -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-8, 1.48572235717979e-5,
      6.37261928875436e-4, 4.89352455891786e-3,
    ],
  );
  b.get(c).simd(SIMD.mul);
  horner(b, x2, [1.19825839466702e-6, 1.18534705686654e-4, 2.268434632439e-3, 4.89352518554385e-3]);
  b.simd(SIMD.div);
  // Tiny |x| (and NaN, which no comparison holds for, so it takes this branch too): x.
  where(
    b,
    () => b.get(ax).f32Splat(0.0004).simd(SIMD.ge).simd(SIMD.not),
    () => b.get(x),
  );
  // |x| >= 9.02, where float32's tanh is 1: exactly ±1 (the ratio at the clamp rounds to 1 - 2^-22 when
  // its multiply-adds are fused).
  where(
    b,
    () => b.get(ax).f32Splat(9.02).simd(SIMD.ge),
    () => {
      b.get(x);
      splatI32(b, 0x80000000).simd(SIMD.and);
      splatI32(b, 0x3f800000).simd(SIMD.or);
    },
  );
}

/** sigmoid(x) = 1 / (1 + exp(-x)). */
export function sigmoid(b: Body, x: number): void {
  const minus = local(b, () => b.get(x).simd(SIMD.neg));
  const e = local(b, () => exp(b, minus));
  b.f32Splat(1).f32Splat(1).get(e).simd(SIMD.add).simd(SIMD.div);
}

/** softplus(x) = max(x, 0) + log(1 + exp(-|x|)), without overflow. */
export function softplus(b: Body, x: number): void {
  const minus = local(b, () => b.get(x).simd(SIMD.abs).simd(SIMD.neg));
  const e = local(b, () => exp(b, minus));
  const onePlus = local(b, () => b.f32Splat(1).get(e).simd(SIMD.add));
  const l = local(b, () => log(b, onePlus));
  b.get(x).f32Splat(0).simd(SIMD.max).get(l).simd(SIMD.add);
}

/** elu(x) = x > 0 ? x : exp(x) - 1. */
export function elu(b: Body, x: number): void {
  const e = local(b, () => exp(b, x));
  b.get(x).get(e).f32Splat(1).simd(SIMD.sub).get(x).f32Splat(0).simd(SIMD.gt).simd(SIMD.bitselect);
}

/**
 * pow(a, p) = exp(p * log|a|), negative when a < 0 and p is an odd integer, NaN when a < 0 and p is not
 * an integer; pow(a, 0) = 1.
 */
export function pow(b: Body, a: number, p: number): void {
  const abs = local(b, () => b.get(a).simd(SIMD.abs));
  const l = local(b, () => log(b, abs));
  const t = local(b, () => b.get(p).get(l).simd(SIMD.mul));
  const mag = local(b, () => exp(b, t));
  const integer = local(b, () => b.get(p).simd(SIMD.trunc).get(p).simd(SIMD.eq));
  const half = local(b, () => b.get(p).f32Splat(0.5).simd(SIMD.mul));
  const odd = local(b, () => b.get(integer).get(half).simd(SIMD.trunc).get(half).simd(SIMD.ne).simd(SIMD.and));
  const negative = local(b, () => b.get(a).f32Splat(0).simd(SIMD.lt));
  b.get(mag).simd(SIMD.neg).get(mag).get(negative).get(odd).simd(SIMD.and).simd(SIMD.bitselect);
  where(
    b,
    () => b.get(negative).get(integer).simd(SIMD.andnot),
    () => b.f32Splat(NaN),
  );
  where(
    b,
    () => b.get(p).f32Splat(0).simd(SIMD.eq),
    () => b.f32Splat(1),
  );
}
