// The kernels of one training step of an MLP, in AssemblyScript (TypeScript compiled to WebAssembly,
// with 128-bit SIMD: four float32 lanes at a time). `lib/fused.ts` calls them; `tools/build-wasm.js`
// compiles this file. The module shares the memory of TensorFlow.js's WebAssembly backend, so every
// argument named like a tensor is a byte address in that memory, of row-major float32 data (int32
// for X and Y). The module itself keeps nothing in memory: no data, no allocation.
//
// Reading past the end of a row by up to 7 floats is allowed (the extra lanes are thrown away);
// the callers leave 32 bytes of room after their buffers.

// ---------------------------------------------------------------------------------------------
// Small helpers

@inline function at(p: usize, i: i32): usize { return p + (<usize>i << 2); }
@inline function ld(p: usize, i: i32): f32 { return load<f32>(at(p, i)); }
@inline function st(p: usize, i: i32, v: f32): void { store<f32>(at(p, i), v); }
@inline function vld(p: usize, i: i32): v128 { return v128.load(at(p, i)); }
@inline function vst(p: usize, i: i32, v: v128): void { v128.store(at(p, i), v); }

/** Store the first `n` (1 to 4) lanes of v at p[i..i+n). */
@inline function vstPartial(p: usize, i: i32, v: v128, n: i32): void {
  st(p, i, f32x4.extract_lane(v, 0));
  if (n > 1) st(p, i + 1, f32x4.extract_lane(v, 1));
  if (n > 2) st(p, i + 2, f32x4.extract_lane(v, 2));
  if (n > 3) st(p, i + 3, f32x4.extract_lane(v, 3));
}

/** Store the first `n` (1 to 8) lanes of the pair (v0, v1) at p[i..i+n). */
@inline function vst8(p: usize, i: i32, v0: v128, v1: v128, n: i32): void {
  if (n >= 8) { vst(p, i, v0); vst(p, i + 4, v1); return; }
  if (n >= 4) { vst(p, i, v0); if (n > 4) vstPartial(p, i + 4, v1, n - 4); return; }
  vstPartial(p, i, v0, n);
}

// ---------------------------------------------------------------------------------------------
// Matrix products

/**
 * y[M, N] = x[M, K] @ w[K, N] (+ b[N] when b is not 0). Blocks of 4 rows by 8 columns are held in
 * registers while k runs, so each loaded w vector is used four times; each sum runs over k in order.
 */
export function matmul(x: usize, w: usize, b: usize, y: usize, M: i32, K: i32, N: i32): void {
  matmulStrided(x, K, 1, w, b, y, M, K, N);
}

/** y[M, N] = x^T @ w for x[K, M] (the gradient of a weight, x^T @ dy), without transposing x. */
export function matmulTN(x: usize, w: usize, y: usize, M: i32, K: i32, N: i32): void {
  matmulStrided(x, 1, M, w, 0, y, M, K, N);
}

/** The product with x[i, k] read at x + (i * rowStride + k * colStride) floats. */
@inline function matmulStrided(x: usize, rs: i32, cs: i32, w: usize, b: usize, y: usize, M: i32, K: i32, N: i32): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    for (let j = 0; j < N; j += 8) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      for (let k = 0; k < K; k++) {
        const w0 = vld(w, k * N + j), w1 = vld(w, k * N + j + 4);
        const a0 = f32x4.splat(ld(x, i * rs + k * cs)), a1 = f32x4.splat(ld(x, (i + 1) * rs + k * cs));
        const a2 = f32x4.splat(ld(x, (i + 2) * rs + k * cs)), a3 = f32x4.splat(ld(x, (i + 3) * rs + k * cs));
        c00 = f32x4.add(c00, f32x4.mul(a0, w0)); c01 = f32x4.add(c01, f32x4.mul(a0, w1));
        c10 = f32x4.add(c10, f32x4.mul(a1, w0)); c11 = f32x4.add(c11, f32x4.mul(a1, w1));
        c20 = f32x4.add(c20, f32x4.mul(a2, w0)); c21 = f32x4.add(c21, f32x4.mul(a2, w1));
        c30 = f32x4.add(c30, f32x4.mul(a3, w0)); c31 = f32x4.add(c31, f32x4.mul(a3, w1));
      }
      if (b) {
        const b0 = vld(b, j), b1 = vld(b, j + 4);
        c00 = f32x4.add(c00, b0); c01 = f32x4.add(c01, b1); c10 = f32x4.add(c10, b0); c11 = f32x4.add(c11, b1);
        c20 = f32x4.add(c20, b0); c21 = f32x4.add(c21, b1); c30 = f32x4.add(c30, b0); c31 = f32x4.add(c31, b1);
      }
      const n = N - j;
      vst8(y, i * N + j, c00, c01, n);
      vst8(y, (i + 1) * N + j, c10, c11, n);
      vst8(y, (i + 2) * N + j, c20, c21, n);
      vst8(y, (i + 3) * N + j, c30, c31, n);
    }
  }
  for (; i < M; i++) {
    for (let j = 0; j < N; j += 8) {
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
      for (let k = 0; k < K; k++) {
        const a = f32x4.splat(ld(x, i * rs + k * cs));
        c0 = f32x4.add(c0, f32x4.mul(a, vld(w, k * N + j)));
        c1 = f32x4.add(c1, f32x4.mul(a, vld(w, k * N + j + 4)));
      }
      if (b) { c0 = f32x4.add(c0, vld(b, j)); c1 = f32x4.add(c1, vld(b, j + 4)); }
      vst8(y, i * N + j, c0, c1, N - j);
    }
  }
}

/** y[N, M] = x[M, N]^T. */
export function transpose(x: usize, y: usize, M: i32, N: i32): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) st(y, j * M + i, ld(x, i * N + j));
  }
}

/** s[N] = sum over the rows of x[M, N] (the gradient of a bias). */
export function sumRows(x: usize, s: usize, M: i32, N: i32): void {
  for (let j = 0; j < N; j += 4) {
    let acc = f32x4.splat(0);
    for (let i = 0; i < M; i++) acc = f32x4.add(acc, vld(x, i * N + j));
    vst8(s, j, acc, acc, min(4, N - j));
  }
}

// ---------------------------------------------------------------------------------------------
// Embedding: C[X].view(B, -1) and its gradient

/** out[B, T*D]: row b is C[X[b, 0]], C[X[b, 1]], ... side by side. */
export function embed(C: usize, X: usize, out: usize, B: i32, T: i32, D: i32): void {
  for (let r = 0; r < B * T; r++) {
    const row = load<i32>(X + (<usize>r << 2));
    memory.copy(at(out, r * D), at(C, row * D), <usize>D << 2);
  }
}

/** dC[V, D] = the sum of the rows of dout that looked up each character (dC = one_hot(X)^T @ dout). */
export function embedBackward(dout: usize, X: usize, dC: usize, B: i32, T: i32, D: i32, V: i32): void {
  memory.fill(dC, 0, <usize>(V * D) << 2);
  for (let r = 0; r < B * T; r++) {
    const row = load<i32>(X + (<usize>r << 2));
    for (let e = 0; e < D; e++) st(dC, row * D + e, ld(dC, row * D + e) + ld(dout, r * D + e));
  }
}

// ---------------------------------------------------------------------------------------------
// tanh, four lanes at a time (Cephes' tanhf: a polynomial near 0, 1 - 2 / (exp(2|x|) + 1) beyond;
// within 2 ulp of the exact value)

/** exp(x) for x in [-88, 88] (Cephes' expf: exp(r) * 2^n with |r| <= ln(2) / 2). */
@inline function expv(x: v128): v128 {
  const fx = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(fx, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500E-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507E-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073E-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894E-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459E-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201E-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, z), r), f32x4.splat(1));
  // 2^n, built from the exponent bits
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(fx), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2);
}

@inline function tanhv(x: v128): v128 {
  const ax = f32x4.min(f32x4.abs(x), f32x4.splat(20));        // tanh(20) is 1 in float32
  // |x| >= 0.625: 1 - 2 / (exp(2|x|) + 1), with the sign of x
  const e = expv(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const bigSigned = v128.or(big, v128.and(x, i32x4.splat(<i32>0x80000000)));
  // |x| < 0.625: x + x^3 * P(x^2)
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745E-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954E-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531E-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036E-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422E-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  return v128.bitselect(small, bigSigned, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** y = tanh(x), n elements. */
export function tanhForward(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) vst(y, i, tanhv(vld(x, i)));
  if (i < n) vstPartial(y, i, tanhv(vld(x, i)), n - i);
}

/** dx = dy * (1 - y^2), n elements. */
export function tanhBackward(dy: usize, y: usize, dx: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) {
    const t = vld(y, i);
    const v = f32x4.mul(vld(dy, i), f32x4.sub(f32x4.splat(1), f32x4.mul(t, t)));
    vstPartial(dx, i, v, min(4, n - i));
  }
}

// ---------------------------------------------------------------------------------------------
// Batch normalisation over the rows of x[B, N] (one column is one neuron)

/**
 * Training: mean and unbiased variance of every column, sd = sqrt(var + eps),
 * xhat = (x - mean) / sd, y = gamma * xhat + beta, and the running estimates
 * running = (1 - momentum) * running + momentum * stat, where stat is the variance (trackStd 0) or sd.
 * Keeps xhat and sd for the backward pass.
 */
export function batchNormForward(x: usize, gamma: usize, beta: usize, y: usize, xhat: usize, sd: usize,
  runMean: usize, runStat: usize, B: i32, N: i32, eps: f32, momentum: f32, trackStd: i32): void {
  const n = <f32>B;
  const keep = f32x4.splat(<f32>1 - momentum), take = f32x4.splat(momentum);
  for (let j = 0; j < N; j += 4) {
    const lanes = min(4, N - j);
    let sum = f32x4.splat(0);
    for (let i = 0; i < B; i++) sum = f32x4.add(sum, vld(x, i * N + j));
    const mean = f32x4.div(sum, f32x4.splat(n));
    let ss = f32x4.splat(0);
    for (let i = 0; i < B; i++) {
      const c = f32x4.sub(vld(x, i * N + j), mean);
      ss = f32x4.add(ss, f32x4.mul(c, c));
    }
    const vari = f32x4.div(ss, f32x4.splat(n - 1));
    const s = f32x4.sqrt(f32x4.add(vari, f32x4.splat(eps)));
    const g = vld(gamma, j), bt = vld(beta, j);
    for (let i = 0; i < B; i++) {
      const h = f32x4.div(f32x4.sub(vld(x, i * N + j), mean), s);
      vstPartial(xhat, i * N + j, h, lanes);
      vstPartial(y, i * N + j, f32x4.add(f32x4.mul(g, h), bt), lanes);
    }
    vstPartial(sd, j, s, lanes);
    vstPartial(runMean, j, f32x4.add(f32x4.mul(vld(runMean, j), keep), f32x4.mul(mean, take)), lanes);
    const stat = trackStd ? s : vari;
    vstPartial(runStat, j, f32x4.add(f32x4.mul(vld(runStat, j), keep), f32x4.mul(stat, take)), lanes);
  }
}

/**
 * Evaluation: y = gamma * (x - runMean) / sd + beta with the running estimates, where
 * sd = runStat + eps when the running statistic is sd itself (trackStd), else sqrt(runStat + eps).
 */
export function batchNormEval(x: usize, gamma: usize, beta: usize, y: usize, runMean: usize, runStat: usize,
  B: i32, N: i32, eps: f32, trackStd: i32): void {
  for (let j = 0; j < N; j += 4) {
    const lanes = min(4, N - j);
    const stat = f32x4.add(vld(runStat, j), f32x4.splat(eps));
    const s = trackStd ? stat : f32x4.sqrt(stat);
    const m = vld(runMean, j), g = vld(gamma, j), bt = vld(beta, j);
    for (let i = 0; i < B; i++) {
      const h = f32x4.div(f32x4.sub(vld(x, i * N + j), m), s);
      vstPartial(y, i * N + j, f32x4.add(f32x4.mul(g, h), bt), lanes);
    }
  }
}

/**
 * The gradient of the training forward pass (n = B, variance divided by n - 1):
 *   dbeta = sum(dy), dgamma = sum(dy * xhat),
 *   dx = gamma / (n * sd) * (n * dy - dbeta - n / (n - 1) * xhat * dgamma)
 */
export function batchNormBackward(dy: usize, xhat: usize, sd: usize, gamma: usize, dx: usize, dgamma: usize,
  dbeta: usize, B: i32, N: i32): void {
  const n = <f32>B;
  for (let j = 0; j < N; j += 4) {
    const lanes = min(4, N - j);
    let db = f32x4.splat(0), dg = f32x4.splat(0);
    for (let i = 0; i < B; i++) {
      const d = vld(dy, i * N + j);
      db = f32x4.add(db, d);
      dg = f32x4.add(dg, f32x4.mul(d, vld(xhat, i * N + j)));
    }
    vstPartial(dbeta, j, db, lanes);
    vstPartial(dgamma, j, dg, lanes);
    const scale = f32x4.div(vld(gamma, j), f32x4.mul(vld(sd, j), f32x4.splat(n)));
    const dgn = f32x4.mul(dg, f32x4.splat(n / (n - 1)));
    for (let i = 0; i < B; i++) {
      const inner = f32x4.sub(f32x4.sub(f32x4.mul(vld(dy, i * N + j), f32x4.splat(n)), db), f32x4.mul(vld(xhat, i * N + j), dgn));
      vstPartial(dx, i * N + j, f32x4.mul(scale, inner), lanes);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-entropy and the update

// exp and log in float64, without lookup tables (the module may not own any memory):
// exp(x) = 2^n * exp(r) with |r| <= ln(2) / 2 and the Taylor series of exp(r) to degree 10;
// log(x) = e * ln(2) + 2 * atanh(f) with x = m * 2^e, m in [sqrt(1/2), sqrt(2)), f = (m - 1) / (m + 1).
// Both within a few units in the last place of a float64, far below float32's precision.
const LN2: f64 = 0.6931471805599453;

function exp64(x: f64): f64 {
  if (x < -708) return 0;   // below 2^-1022: zero is close enough here
  const n = Math.round(x / LN2);
  return horner(x - n * LN2) * reinterpret<f64>((<i64>n + 1023) << 52);
}

/** exp(r) for |r| <= ln(2) / 2: 1 + r + r^2/2! + ... + r^10/10!, error below 1e-12. */
@inline function horner(r: f64): f64 {
  let p: f64 = 1.0 / 3628800.0;          // 1/10!
  p = p * r + 1.0 / 362880.0;            // 1/9!
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  return p * r + 1.0;
}

function log64(x: f64): f64 {
  const bits = reinterpret<i64>(x);
  let e = <i32>((bits >> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);   // in [1, 2)
  if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
  const f = (m - 1) / (m + 1), f2 = f * f;
  let term = f, sum: f64 = 0;
  for (let k = 1; k <= 25; k += 2) { sum += term / <f64>k; term *= f2; }
  return <f64>e * LN2 + 2 * sum;
}

/**
 * loss = mean over the rows of logsumexp(logits[b]) - logits[b, Y[b]], computed in float64;
 * dlogits = (softmax(logits) - one_hot(Y)) / B. Returns the loss.
 */
export function crossEntropy(logits: usize, Y: usize, dlogits: usize, B: i32, V: i32): f64 {
  let total: f64 = 0;
  for (let b = 0; b < B; b++) {
    const row = b * V;
    let mx: f64 = -Infinity;
    for (let v = 0; v < V; v++) mx = max(mx, <f64>ld(logits, row + v));
    // e = exp(logit - max), kept in dlogits for a moment; s = sum(e); log softmax = logit - max - log(s)
    let s: f64 = 0;
    for (let v = 0; v < V; v++) {
      const e = exp64(<f64>ld(logits, row + v) - mx);
      s += e;
      st(dlogits, row + v, <f32>e);
    }
    const y = load<i32>(Y + (<usize>b << 2));
    total += log64(s) - (<f64>ld(logits, row + y) - mx);
    const scale = 1 / (s * <f64>B);
    for (let v = 0; v < V; v++) st(dlogits, row + v, <f32>(<f64>ld(dlogits, row + v) * scale));
    // the target's entry from exp again in float64: p - 1 cancels when p is near 1
    st(dlogits, row + y, <f32>((exp64(<f64>ld(logits, row + y) - mx) / s - 1) / <f64>B));
  }
  return total / <f64>B;
}

/** The unbiased standard deviation of n floats, in float64, two passes (mean, then squared deviations). */
export function std(p: usize, n: i32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = vld(p, i);
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
  }
  let sum = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
  for (; i < n; i++) sum += <f64>ld(p, i);
  const mean = sum / <f64>n;
  const m = f64x2.splat(mean);
  s0 = f64x2.splat(0); s1 = f64x2.splat(0);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = vld(p, i);
    const d0 = f64x2.sub(f64x2.promote_low_f32x4(v), m);
    const d1 = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), m);
    s0 = f64x2.add(s0, f64x2.mul(d0, d0));
    s1 = f64x2.add(s1, f64x2.mul(d1, d1));
  }
  let ss = f64x2.extract_lane(s0, 0) + f64x2.extract_lane(s0, 1) + f64x2.extract_lane(s1, 0) + f64x2.extract_lane(s1, 1);
  for (; i < n; i++) { const d = <f64>ld(p, i) - mean; ss += d * d; }
  return n > 1 ? Math.sqrt(ss / <f64>(n - 1)) : NaN;
}

/** p = p - g * lr, n elements (the lecture's p.data += -lr * p.grad). */
export function sgd(p: usize, g: usize, n: i32, lr: f32): void {
  const l = f32x4.splat(lr);
  let i = 0;
  for (; i + 4 <= n; i += 4) vst(p, i, f32x4.sub(vld(p, i), f32x4.mul(vld(g, i), l)));
  for (; i < n; i++) st(p, i, ld(p, i) - ld(g, i) * lr);
}
