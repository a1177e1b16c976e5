// Four float32 lanes at a time: the functions that fused elementwise loops call
// (lib/compile/fuse.ts generates those loops as WebAssembly and imports these from this module).
// Polynomials after Cephes' single-precision functions, table-free (the module owns no memory).

/** exp(x): exp(r) * 2^n with |r| <= ln(2) / 2; 0 below -87.3, Infinity above 88.7, NaN stays NaN. */
export function vexp(x: v128): v128 {
  const c = f32x4.max(f32x4.min(x, f32x4.splat(88.3762626647949)), f32x4.splat(-87.3365447504));
  const fx = f32x4.nearest(f32x4.mul(c, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(c, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500E-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507E-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073E-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894E-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459E-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201E-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, z), r), f32x4.splat(1));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(fx), i32x4.splat(127)), 23);
  let y = f32x4.mul(p, pow2);
  y = v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, f32x4.splat(-87.3365447504)));
  y = v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, f32x4.splat(88.3762626647949)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

/** log(x): x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log(0) = -Infinity, log(x < 0) = NaN. */
export function vlog(x: v128): v128 {
  const bits = x;
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000));   // [0.5, 1)
  const small = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  e = f32x4.sub(e, v128.and(small, f32x4.splat(1)));
  m = f32x4.sub(f32x4.add(m, v128.and(small, m)), f32x4.splat(1));
  const z = f32x4.mul(m, m);
  let p = f32x4.splat(7.0376836292E-2);
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.1514610310E-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.1676998740E-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.2420140846E-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.4249322787E-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.6668057665E-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(2.0000714765E-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-2.4999993993E-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(3.3333331174E-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(e, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  y = f32x4.add(f32x4.add(m, y), f32x4.mul(e, f32x4.splat(0.693359375)));
  // Special values: 0 and subnormals -> -Infinity (tiny inputs do not occur in a loss), x < 0 -> NaN,
  // Infinity -> Infinity, NaN -> NaN.
  y = v128.bitselect(f32x4.splat(-Infinity), y, f32x4.lt(x, f32x4.splat(1.17549435e-38)));
  y = v128.bitselect(f32x4.splat(NaN), y, f32x4.lt(x, f32x4.splat(0)));
  y = v128.bitselect(x, y, f32x4.eq(x, f32x4.splat(Infinity)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

/** tanh(x) (as kernels.ts): x + x^3 P(x^2) below |x| = 0.625, else 1 - 2 / (exp(2|x|) + 1). */
export function vtanh(x: v128): v128 {
  const ax = f32x4.min(f32x4.abs(x), f32x4.splat(20));
  const e = vexp(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const bigSigned = v128.or(big, v128.and(x, i32x4.splat(<i32>0x80000000)));
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745E-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954E-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531E-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036E-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422E-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const y = v128.bitselect(small, bigSigned, f32x4.lt(ax, f32x4.splat(0.625)));
  return v128.bitselect(x, y, f32x4.ne(x, x));
}

/** sigmoid(x) = 1 / (1 + exp(-x)). */
export function vsigmoid(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexp(f32x4.neg(x))));
}

/** softplus(x) = max(x, 0) + log(1 + exp(-|x|)), without overflow. */
export function vsoftplus(x: v128): v128 {
  const t = vexp(f32x4.neg(f32x4.abs(x)));
  return f32x4.add(f32x4.max(x, f32x4.splat(0)), vlog(f32x4.add(f32x4.splat(1), t)));
}

/** elu(x) = x > 0 ? x : exp(x) - 1. */
export function velu(x: v128): v128 {
  return v128.bitselect(x, f32x4.sub(vexp(x), f32x4.splat(1)), f32x4.gt(x, f32x4.splat(0)));
}

/**
 * pow(a, b) = exp(b * log|a|), negative when a < 0 and b is an odd integer, NaN when a < 0 and b is
 * not an integer; pow(a, 0) = 1.
 */
export function vpow(a: v128, b: v128): v128 {
  const mag = vexp(f32x4.mul(b, vlog(f32x4.abs(a))));
  const integer = f32x4.eq(f32x4.trunc(b), b);
  const half = f32x4.mul(b, f32x4.splat(0.5));
  const odd = v128.and(integer, f32x4.ne(f32x4.trunc(half), half));
  const negative = f32x4.lt(a, f32x4.splat(0));
  let y = v128.bitselect(f32x4.neg(mag), mag, v128.and(negative, odd));
  y = v128.bitselect(f32x4.splat(NaN), y, v128.andnot(negative, integer));
  return v128.bitselect(f32x4.splat(1), y, f32x4.eq(b, f32x4.splat(0)));
}
