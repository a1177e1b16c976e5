/**
 * Random numbers that are bit-for-bit the ones PyTorch's CPU generator and
 * CPython's `random` module produce, so that the notebooks can show the
 * lecture's own numbers.
 *
 * Pure TypeScript: no tfjs (only the library's argument checks).
 *
 * - `MT19937`: the Mersenne Twister both libraries use.
 * - `Generator`: `torch.Generator()` (CPU): `manualSeed`, `randn`, `rand`,
 *   `normal`, `uniform`, `randint`, `multinomial`.
 * - `PyRandom`: CPython's `random.Random`: `seed`, `random`, `getrandbits`,
 *   `randbelow`, `shuffle`.
 */

import { fail } from '../check';

// ---------------------------------------------------------------------------
// Mersenne Twister
// ---------------------------------------------------------------------------

const MT_N = 624;
const MT_M = 397;

/**
 * MT19937 (Matsumoto & Nishimura, 1998): 624 words of state, tempered 32-bit
 * outputs. `initGenrand` and `initByArray` are the reference seeding routines
 * (PyTorch uses the first, CPython the second).
 */
export class MT19937 {
  private readonly mt = new Uint32Array(MT_N);
  private mti = MT_N + 1;

  /** Reference `init_genrand`: mt[i] = 1812433253 * (mt[i-1] ^ (mt[i-1] >>> 30)) + i. */
  initGenrand(seed: number): void {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < MT_N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = MT_N;
  }

  /** Reference `init_by_array` (what CPython's `random.seed(int)` calls). */
  initByArray(key: ArrayLike<number>): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    const keyLength = key.length;
    for (let k = Math.max(MT_N, keyLength); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + (key[j] >>> 0) + j) >>> 0;
      i++;
      j++;
      if (i >= MT_N) {
        mt[0] = mt[MT_N - 1];
        i = 1;
      }
      if (j >= keyLength) j = 0;
    }
    for (let k = MT_N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= MT_N) {
        mt[0] = mt[MT_N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000; // MSB is 1, assuring a non-zero initial array
  }

  /** Next tempered 32-bit output, as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= MT_N) {
      if (this.mti === MT_N + 1) this.initGenrand(5489);
      this.twist();
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Regenerates all 624 words of state. */
  private twist(): void {
    const mt = this.mt;
    let kk = 0;
    for (; kk < MT_N - MT_M; kk++) {
      const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
      mt[kk] = mt[kk + MT_M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    for (; kk < MT_N - 1; kk++) {
      const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
      mt[kk] = mt[kk + (MT_M - MT_N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    const y = (mt[MT_N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
    mt[MT_N - 1] = mt[MT_M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    this.mti = 0;
  }
}

// ---------------------------------------------------------------------------
// float32 arithmetic helpers (the AVX2 normal kernel works in float32)
// ---------------------------------------------------------------------------

const f32 = Math.fround;
const TWO_POW_24 = 16777216;
const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/**
 * float32 fused multiply-add, fl32(a * b + c) with ONE rounding, for float32
 * a, b, c. The product of two float32 is exact in a double; the double sum
 * s = fl64(p + c) can only round to the wrong float32 when s lands exactly on
 * a midpoint between two float32 while the exact sum does not (rounding is
 * monotonic and midpoints are doubles), so that case is nudged by the sign of
 * the exact error of the double sum (TwoSum).
 */
export function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f32(s);
  if (r === s || !Number.isFinite(s)) return r;
  // Exact error of s = p + c (Knuth's TwoSum).
  const bb = s - p;
  const err = p - (s - bb) + (c - bb);
  if (err === 0) return r;
  // Is s the midpoint between r and its float32 neighbour on s's side?
  const other = s > r ? nextFloat32Up(r) : nextFloat32Down(r);
  if (s - r !== other - s) return r;
  // Exact value lies beyond or before the midpoint: round accordingly.
  return err > 0 === other > r ? other : r;
}

const f32Buf = new Float32Array(1);
const u32Buf = new Uint32Array(f32Buf.buffer);

/** Next float32 above finite float32 x. */
function nextFloat32Up(x: number): number {
  if (x === 0) return 1.401298464324817e-45;
  f32Buf[0] = x;
  u32Buf[0] += x > 0 ? 1 : -1;
  return f32Buf[0];
}

/** Next float32 below finite float32 x. */
function nextFloat32Down(x: number): number {
  return -nextFloat32Up(-x);
}

// Constants of avx_mathfun.h (Cephes single-precision log and sincos), as float32.
const SQRTHF = f32(0.707106781186547524);
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
  2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
].map(f32);
const LOG_Q1 = f32(-2.1219444e-4);
const LOG_Q2 = f32(0.693359375);
const MINUS_DP1 = f32(-0.78515625);
const MINUS_DP2 = f32(-2.4187564849853515625e-4);
const MINUS_DP3 = f32(-3.77489497744594108e-8);
const SINCOF = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f32);
const COSCOF = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f32);
const FOPI = f32(1.27323954473516);
const TWO_PI_F32 = f32(2 * Math.PI);

/**
 * `log256_ps` of avx_mathfun.h for one lane: x = m * 2^e with m in
 * [sqrt(1/2), sqrt(2)), log(x) = log1p-style Cephes polynomial in (m - 1)
 * plus e * log(2) split in two parts. Each step rounds to float32. PyTorch's
 * x86 wheels are built with GCC, which contracts a multiply feeding an add
 * into one FMA (-ffp-contract=fast): so here each Horner step is an fma32,
 * and y*z + e*q1 fuses the first product (y*z). Without the fusing about 1%
 * of randn values differ by one float32 ulp. (Products by 0.5, by
 * 0.693359375 or of small integers are exact, so fusing them changes nothing.)
 * Only called with 0 < x <= 1.
 */
function log32(x: number): number {
  f32Buf[0] = x;
  const bits = u32Buf[0];
  let e = f32((bits >>> 23) - 0x7f + 1);
  u32Buf[0] = (bits & ~0x7f800000) | 0x3f000000; // mantissa, exponent of 0.5
  let m = f32Buf[0];
  if (m < SQRTHF) {
    e = f32(e - 1);
    m = f32(f32(m - 1) + m);
  } else {
    m = f32(m - 1);
  }
  const z = f32(m * m);
  let y = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) y = fma32(y, m, LOG_P[k]);
  y = f32(y * m);
  y = fma32(y, z, f32(e * LOG_Q1));
  y = fma32(-z, 0.5, y);
  return fma32(e, LOG_Q2, f32(m + y));
}

/**
 * `sincos256_ps` of avx_mathfun.h for one lane (Cephes sinf/cosf): reduce by
 * j = octant of |x| (rounded up to even), x - j*pi/4 in three parts, evaluate
 * the sine and cosine polynomials and pick/sign them by j. Writes [sin, cos]
 * into `out`.
 */
function sincos32(xIn: number, out: Float64Array): void {
  const signSin = xIn < 0 ? -1 : 1;
  let x = Math.abs(xIn);
  let j = Math.trunc(f32(x * FOPI)) | 0;
  j = (j + 1) & ~1;
  const y = j; // small integer, exact in float32
  x = fma32(y, MINUS_DP1, x);
  x = fma32(y, MINUS_DP2, x);
  x = fma32(y, MINUS_DP3, x);
  const z = f32(x * x);

  // cosine polynomial (good on [0, pi/4])
  let c = fma32(COSCOF[0], z, COSCOF[1]);
  c = fma32(c, z, COSCOF[2]);
  c = f32(c * z);
  c = fma32(c, z, -f32(z * 0.5));
  c = f32(c + 1);

  // sine polynomial
  let s = fma32(SINCOF[0], z, SINCOF[1]);
  s = fma32(s, z, SINCOF[2]);
  s = f32(s * z);
  s = fma32(s, x, x);

  const usesSinPoly = (j & 2) === 0;
  const sinVal = usesSinPoly ? s : c;
  const cosVal = usesSinPoly ? c : s;
  out[0] = (j & 4 ? -signSin : signSin) * sinVal;
  out[1] = ((j - 2) & 4) === 0 ? -cosVal : cosVal;
}

const sincosOut = new Float64Array(2);

/**
 * `normal_fill_16_AVX2`: Box-Muller on 16 float32 uniforms in place:
 * u1 = 1 - x[j], u2 = x[j + 8], r = sqrt(-2 log u1), theta = 2 pi u2,
 * x[j] = r cos(theta), x[j + 8] = r sin(theta) for j < 8. (The kernel's final
 * fmadd with std = 1 and mean = 0 is exact and left out.)
 * With `scale` = [mean, std] (float32), `normal_` 's final step is applied too:
 * x = fma(x, std, mean), one float32 rounding.
 */
function normalFill16(data: Float32Array, offset: number, scale?: [number, number]): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - data[offset + j]);
    const u2 = data[offset + j + 8];
    const radius = f32(Math.sqrt(f32(-2 * log32(u1))));
    const theta = f32(TWO_PI_F32 * u2);
    sincos32(theta, sincosOut);
    data[offset + j] = f32(radius * sincosOut[1]);
    data[offset + j + 8] = f32(radius * sincosOut[0]);
    if (scale) {
      data[offset + j] = fma32(data[offset + j], scale[1], scale[0]);
      data[offset + j + 8] = fma32(data[offset + j + 8], scale[1], scale[0]);
    }
  }
}

// ---------------------------------------------------------------------------
// PyTorch's CPU generator
// ---------------------------------------------------------------------------

function numelOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/**
 * `torch.Generator()` on the CPU (`CPUGeneratorImpl`): an MT19937 seeded with
 * the low 32 bits of the seed, plus the cached second Box-Muller value of the
 * scalar normal sampler. Every method draws from the stream exactly as
 * PyTorch's kernel for that call does, so a sequence of calls matches the
 * same sequence in PyTorch.
 */
export class Generator {
  private readonly engine = new MT19937();
  private nextDoubleNormal: number | null = null;
  private seedValue: bigint = 0n;

  /** 67280421310721 is PyTorch's `default_rng_seed_val`. */
  constructor(seed: number | bigint = 67280421310721) {
    this.setSeed(seed, 'new Generator(seed)');
  }

  /**
   * `manual_seed`: `init_genrand(seed mod 2^32)`; also drops the cached normal. Seeds are integers in
   * PyTorch's range, -2^63 to 2^64 - 1; a negative seed counts as seed + 2^64, as in PyTorch.
   */
  manualSeed(seed: number | bigint): this {
    return this.setSeed(seed, 'Generator.manualSeed');
  }

  private setSeed(seed: number | bigint, where: string): this {
    const ok = typeof seed === 'bigint' || (typeof seed === 'number' && Number.isInteger(seed));
    // (A number above 2^53 is an integer too; 2^64 itself is the first one out of range.)
    if (!ok || BigInt(seed) < -(2n ** 63n) || BigInt(seed) >= 2n ** 64n) {
      fail(where, 'seed', seed, "an integer from -2**63 to 2**64 - 1 (PyTorch's range of seeds)");
    }
    const s = BigInt.asUintN(64, BigInt(seed));
    this.seedValue = s;
    this.engine.initGenrand(Number(s & 0xffffffffn));
    this.nextDoubleNormal = null;
    return this;
  }

  /** The seed last set (`initial_seed()`). */
  initialSeed(): bigint {
    return this.seedValue;
  }

  /** `random()`: the next 32-bit output of the twister. */
  random(): number {
    return this.engine.nextUint32();
  }

  /**
   * `random64()`: two 32-bit draws, the first as the high word, as a bigint.
   * (The samplers use `uniform53` instead, which is the same draw masked.)
   */
  random64(): bigint {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** `uniform_real_distribution<double>(0, 1)`: low 53 bits of `random64()` times 2^-53. */
  private uniform53(): number {
    const hi = this.engine.nextUint32() & 0x1fffff;
    const lo = this.engine.nextUint32();
    return (hi * TWO_POW_32 + lo) / TWO_POW_53;
  }

  /** `uniform_real_distribution<float>(0, 1)`: low 24 bits of `random()` times 2^-24. */
  private uniform24(): number {
    return (this.engine.nextUint32() & 0xffffff) / TWO_POW_24;
  }

  /**
   * `normal_distribution<double>(0, 1)`: returns the cached value if there is
   * one; else u1, u2 = two 53-bit uniforms, r = sqrt(-2 log(1 - u2)),
   * theta = 2 pi u1, caches r sin(theta) and returns r cos(theta).
   */
  private normalDouble(): number {
    if (this.nextDoubleNormal !== null) {
      const cached = this.nextDoubleNormal;
      this.nextDoubleNormal = null;
      return cached;
    }
    const u1 = this.uniform53();
    const u2 = this.uniform53();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /**
   * `torch.randn(*shape, generator=g)` (float32, row-major).
   * Fewer than 16 elements: one `normal_distribution<double>` value each,
   * rounded to float32. 16 or more (`normal_fill_AVX2`): one float32 uniform
   * per element, then Box-Muller per block of 16 in float32 with the AVX2
   * Cephes log/sincos; if the size is not a multiple of 16, the last 16
   * elements are drawn again and transformed again.
   */
  randn(...shape: number[]): Float32Array {
    const n = numelOf(shape);
    const out = new Float32Array(n);
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.normalDouble();
      return out;
    }
    for (let i = 0; i < n; i++) out[i] = this.uniform24();
    for (let i = 0; i + 16 <= n; i += 16) normalFill16(out, i);
    if (n % 16 !== 0) {
      const start = n - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniform24();
      normalFill16(out, start);
    }
    return out;
  }

  /** `torch.rand(*shape, generator=g)` (float32): one 24-bit uniform per element. */
  rand(...shape: number[]): Float32Array {
    const n = numelOf(shape);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform24();
    return out;
  }

  /**
   * `torch.empty(shape).normal_(mean, std, generator=g)` (float32): the draws of
   * `randn`, then x = z * std + mean, rounded as PyTorch's kernel rounds it:
   * - fewer than 16 elements: z is the double-precision normal, fl32(z * std + mean);
   * - 16 or more: z is the float32 normal of `normal_fill_16_AVX2`, then
   *   fl32(fma(z, fl32(std), fl32(mean))) (one rounding).
   * `randn(...shape)` is `normal(shape, 0, 1)`. Used by `kaimingNormal`, `xavierNormal`.
   */
  normal(shape: number[], mean = 0, std = 1): Float32Array {
    if (!(std >= 0)) throw new Error(`normal expects std >= 0.0, but found std ${std}`);
    const n = numelOf(shape);
    const out = new Float32Array(n);
    if (n < 16) {
      for (let i = 0; i < n; i++) out[i] = this.normalDouble() * std + mean;
      return out;
    }
    const scale: [number, number] = [f32(mean), f32(std)];
    for (let i = 0; i < n; i++) out[i] = this.uniform24();
    for (let i = 0; i + 16 <= n; i += 16) normalFill16(out, i, scale);
    if (n % 16 !== 0) {
      const start = n - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniform24();
      normalFill16(out, start, scale);
    }
    return out;
  }

  /**
   * `torch.empty(shape).uniform_(low, high, generator=g)` (float32): with
   * from = fl32(low), to = fl32(high) and u = one 24-bit uniform in [0, 1),
   * x = fl32(fma(u, fl32(to - from), from)) (one rounding, as the x86 build
   * contracts `u * (to - from) + from`); a value that rounds up to `to` becomes
   * `from`. `rand(...shape)` is `uniform(shape, 0, 1)`. Used by `kaimingUniform`,
   * `xavierUniform`.
   */
  uniform(shape: number[], low = 0, high = 1): Float32Array {
    if (!(low <= high)) {
      throw new Error(`uniform_ expects to return a [from, to) range, but found from=${low} > to=${high}`);
    }
    const from = f32(low);
    const to = f32(high);
    const range = f32(to - from);
    const n = numelOf(shape);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = fma32(this.uniform24(), range, from);
      out[i] = x === to ? from : x;
    }
    return out;
  }

  /**
   * `torch.randint(low, high, shape, generator=g)`: `low + random() % (high - low)`,
   * one 32-bit draw per value. That is torch 1.13's rule for any range below 2^32;
   * torch 2.x (2.13 checked) keeps it below 2^28 only and draws 64 bits per value
   * from a range of 2^28 on, so for such ranges the two versions differ.
   */
  randint(low: number, high: number, shape: number[]): Int32Array {
    const range = high - low;
    if (!Number.isInteger(low) || !Number.isInteger(high) || range <= 0) {
      throw new Error(`randint: need integers low < high, got ${low}, ${high}`);
    }
    // PyTorch switches to 64-bit draws (`random64()`) from a range of 2^32 on.
    if (range >= TWO_POW_32 || low < -0x80000000 || high - 1 > 0x7fffffff) {
      throw new Error('randint: need high - low < 2^32 and values that fit in int32');
    }
    const n = numelOf(shape);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = low + (this.engine.nextUint32() % range);
    return out;
  }

  /**
   * `torch.multinomial(p, numSamples, replacement, generator=g)` for one
   * distribution p (float32, need not sum to 1), as torch 1.13 (the lecture's
   * and the fixtures' version) draws it on the CPU:
   * - with replacement (`multinomial_with_replacement`): a float32 cumulative
   *   sum divided by its total (last entry set to 1), then per sample one
   *   53-bit uniform u and a binary search for the first entry >= u;
   * - without replacement (the "exponential race" fast path):
   *   q_i = -log(1 - u_i) (Exp(1) from a 53-bit uniform, as float32) for every
   *   category, then the numSamples largest p_i / q_i (float32), largest first.
   * Newer PyTorch (2.x; checked with 2.13) also takes the exponential path for
   * numSamples = 1 with replacement: pass `{ exponentialForSingleSample: true }`
   * to follow it. The two paths use the stream differently (one 64-bit draw per
   * sample vs. one per category), so they give different samples.
   */
  multinomial(
    probs: ArrayLike<number>,
    numSamples = 1,
    replacement = true,
    options: { exponentialForSingleSample?: boolean } = {},
  ): Int32Array {
    const k = probs.length;
    const p = Float32Array.from(probs as ArrayLike<number>);
    let total = 0;
    for (let i = 0; i < k; i++) {
      if (!(p[i] >= 0) || !Number.isFinite(p[i])) {
        throw new Error('multinomial: probabilities must be finite and >= 0');
      }
      total += p[i];
    }
    if (!(total > 0)) throw new Error('multinomial: sum of probabilities must be > 0');
    if (!replacement && numSamples > k) {
      throw new Error('multinomial: cannot draw more samples than categories without replacement');
    }
    const out = new Int32Array(numSamples);
    if (!replacement || (numSamples === 1 && options.exponentialForSingleSample === true)) {
      const score = new Float32Array(k);
      for (let i = 0; i < k; i++) {
        const q = f32(-Math.log(1 - this.uniform53()));
        score[i] = p[i] / q;
      }
      if (numSamples === 1) {
        let best = 0;
        for (let i = 1; i < k; i++) if (score[i] > score[best]) best = i;
        out[0] = best;
      } else {
        const order = Array.from({ length: k }, (_, i) => i);
        order.sort((a, b) => score[b] - score[a] || a - b);
        for (let s = 0; s < numSamples; s++) out[s] = order[s];
      }
      return out;
    }
    const cum = new Float32Array(k);
    let sum = f32(0);
    for (let i = 0; i < k; i++) {
      sum = f32(sum + p[i]);
      cum[i] = sum;
    }
    for (let i = 0; i < k; i++) cum[i] = cum[i] / sum;
    cum[k - 1] = 1;
    for (let s = 0; s < numSamples; s++) {
      const u = this.uniform53();
      let left = 0;
      let right = k;
      while (right > left) {
        const mid = left + ((right - left) >> 1);
        if (cum[mid] < u) left = mid + 1;
        else right = mid;
      }
      out[s] = left;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// CPython's random module
// ---------------------------------------------------------------------------

/**
 * CPython's `random.Random` (MT19937): `seed(int)` is `init_by_array` over the
 * 32-bit chunks of |n| (least significant first), `random()` is
 * (a >> 5, b >> 6) -> (a * 2^26 + b) / 2^53, and `shuffle` is CPython 3.11's
 * Fisher-Yates with `_randbelow_with_getrandbits`.
 */
export class PyRandom {
  private readonly engine = new MT19937();

  constructor(seed?: number | bigint) {
    this.seed(seed ?? 0);
  }

  /** `random.seed(n)` for an integer n. */
  seed(n: number | bigint): void {
    if (typeof n === 'number' && !Number.isInteger(n)) {
      throw new Error('PyRandom.seed: only integer seeds are supported');
    }
    let v = BigInt(n);
    if (v < 0n) v = -v;
    const key: number[] = [];
    while (v > 0n) {
      key.push(Number(v & 0xffffffffn));
      v >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.engine.initByArray(key);
  }

  /** `random.random()`: a 53-bit float in [0, 1). */
  random(): number {
    const a = this.engine.nextUint32() >>> 5;
    const b = this.engine.nextUint32() >>> 6;
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /**
   * `random.getrandbits(k)` for 0 <= k <= 53 (as a number): 32-bit words,
   * least significant first, the last one shifted right to keep k bits.
   */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 0 || k > 53) {
      throw new Error('PyRandom.getrandbits: k must be an integer in [0, 53]');
    }
    if (k === 0) return 0;
    if (k <= 32) return this.engine.nextUint32() >>> (32 - k);
    const low = this.engine.nextUint32();
    const high = this.engine.nextUint32() >>> (64 - k);
    return high * TWO_POW_32 + low;
  }

  /** `_randbelow_with_getrandbits(n)`: k = bit length of n, redraw getrandbits(k) until < n. */
  randbelow(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n >= TWO_POW_53) {
      throw new Error('PyRandom.randbelow: n must be an integer in [1, 2^53)');
    }
    const k = bitLength(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.shuffle(x)` (CPython 3.11): for i from n-1 down to 1, swap x[i] and x[randbelow(i + 1)]. */
  shuffle<T>(arr: T[]): void {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const t = arr[i];
      arr[i] = arr[j];
      arr[j] = t;
    }
  }
}

/** Number of bits of a positive integer (Python's `int.bit_length`). */
function bitLength(n: number): number {
  let k = 0;
  while (n >= TWO_POW_32) {
    n = Math.floor(n / TWO_POW_32);
    k += 32;
  }
  return k + (32 - Math.clz32(n));
}
