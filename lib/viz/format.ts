/**
 * The lecture's printed lines, formatted exactly as Python's %-formatting prints
 * the float32 numbers of ../tensor/stats.ts: the forward, backward and parameter
 * lines of the diagnostic pictures, `%.2f`, `%e` and tuples of ints.
 */
import type { LayerStats, ParamStats } from '../tensor/stats';

const f32 = Math.fround;

// ---------------------------------------------------------------------------
// the lecture's printed lines (Python %-formatting)
// ---------------------------------------------------------------------------
//
// The lecture prints float32 tensors (t.mean(), t.std(), ...). So the lines
// below first round each number to float32, then format it exactly as Python
// does: '%e' shows 7 digits, and the 7th digit of a double and of its float32
// rounding often differ (8.9817936e-04 -> '8.981793e-04' in double, but
// '8.981794e-04' as the float32 torch prints).

/**
 * The forward-pass line, as the lecture prints it:
 * `'layer %d (%10s): mean %+.2f, std %.2f, saturated: %.2f%%'`, e.g.
 * `layer 2 (      Tanh): mean -0.00, std 0.63, saturated: 2.78%`.
 * `kind` is the layer's class name (right-aligned in 10 characters).
 */
export function formatLayerStats(index: number, kind: string, stats: LayerStats): string {
  return (
    `layer ${index} (${kind.padStart(10)}): mean ${formatFixed(f32(stats.mean), 2, true)}, ` +
    `std ${formatFixed(f32(stats.std), 2)}, saturated: ${formatFixed(f32(stats.saturated), 2)}%`
  );
}

/**
 * The backward-pass line: `'layer %d (%10s): mean %+f, std %e'`, e.g.
 * `layer 2 (      Tanh): mean +0.000000, std 8.981794e-04`.
 */
export function formatGradStats(index: number, kind: string, stats: { mean: number; std: number }): string {
  return `layer ${index} (${kind.padStart(10)}): mean ${formatFixed(f32(stats.mean), 6, true)}, std ${formatExp(f32(stats.std), 6)}`;
}

/**
 * The parameter line: `'weight %10s | mean %+f | std %e | grad:data ratio %e'`, e.g.
 * `weight  (30, 100) | mean -0.000047 | std 1.756820e-03 | grad:data ratio 5.633299e-03`.
 */
export function formatParamStats(stats: ParamStats): string {
  return (
    `weight ${pyTuple(stats.shape).padStart(10)} | mean ${formatFixed(f32(stats.mean), 6, true)} | ` +
    `std ${formatExp(f32(stats.std), 6)} | grad:data ratio ${formatExp(f32(stats.gradDataRatio), 6)}`
  );
}

/** Python's str of a tuple of ints: (27, 10), (100,), (). */
export function pyTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * Python's `'%.{digits}f' % x` (with `sign`: `'%+.{digits}f'`): the exact binary
 * value of x rounded to `digits` decimals, ties to even (0.125 -> '0.12'),
 * the sign of -0 and of small negatives kept ('-0.00'). nan, inf as Python.
 */
export function formatFixed(x: number, digits = 6, sign = false): string {
  const special = nonFinite(x, sign);
  if (special !== null) return special;
  const { neg, m, e } = decompose(x);
  // round(|x| * 10^digits) = round(m * 2^e * 10^digits), exactly
  const scale = 10n ** BigInt(digits);
  const q = e >= 0 ? (m << BigInt(e)) * scale : roundHalfEven(m * scale, 1n << BigInt(-e));
  let s = q.toString().padStart(digits + 1, '0');
  if (digits > 0) s = `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
  return (neg ? '-' : sign ? '+' : '') + s;
}

/**
 * Python's `'%.{digits}e' % x` (with `sign`: `'%+.{digits}e'`): d.dddddde±XX,
 * mantissa rounded from the exact value (ties to even), exponent at least two
 * digits: 0.0008981793653219938 -> '8.981794e-04'.
 */
export function formatExp(x: number, digits = 6, sign = false): string {
  const special = nonFinite(x, sign);
  if (special !== null) return special;
  const { neg, m, e } = decompose(x);
  let exp = 0;
  let q = 0n;
  if (m !== 0n) {
    // |x| = num / den exactly
    const num = e >= 0 ? m << BigInt(e) : m;
    const den = e >= 0 ? 1n : 1n << BigInt(-e);
    // exponent: 10^exp <= |x| < 10^(exp+1), starting from a float estimate
    exp = Math.floor(Math.log10(Math.abs(x)));
    while (lessThanPow10(num, den, exp)) exp--;
    while (!lessThanPow10(num, den, exp + 1)) exp++;
    // q = round(|x| * 10^(digits - exp))
    const p = digits - exp;
    q = p >= 0 ? roundHalfEven(num * 10n ** BigInt(p), den) : roundHalfEven(num, den * 10n ** BigInt(-p));
    if (q === 10n ** BigInt(digits + 1)) {
      q /= 10n;
      exp += 1;
    }
  }
  let s = q.toString().padStart(digits + 1, '0');
  if (digits > 0) s = `${s[0]}.${s.slice(1)}`;
  const e2 = String(Math.abs(exp)).padStart(2, '0');
  return `${neg ? '-' : sign ? '+' : ''}${s}e${exp < 0 ? '-' : '+'}${e2}`;
}

/** Python's text for nan and infinities ('nan', '+nan', 'inf', '-inf', '+inf'), or null. */
function nonFinite(x: number, sign: boolean): string | null {
  if (Number.isNaN(x)) return sign ? '+nan' : 'nan';
  if (x === Infinity) return sign ? '+inf' : 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

const f64Buf = new Float64Array(1);
const u32View = new Uint32Array(f64Buf.buffer);

/** A finite double as (-1)^neg * m * 2^e with an integer m (exact). */
function decompose(x: number): { neg: boolean; m: bigint; e: number } {
  f64Buf[0] = x;
  const lo = u32View[0];
  const hi = u32View[1];
  const neg = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { neg, m: frac, e: -1074 }; // zero and subnormals
  return { neg, m: frac | (1n << 52n), e: biased - 1075 };
}

/** round(num / den) with ties to even, for num >= 0, den > 0. */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r2 = 2n * (num % den);
  if (r2 > den || (r2 === den && q % 2n === 1n)) return q + 1n;
  return q;
}

/** num / den < 10^k, exactly. */
function lessThanPow10(num: bigint, den: bigint, k: number): boolean {
  return k >= 0 ? num < den * 10n ** BigInt(k) : num * 10n ** BigInt(-k) < den;
}
