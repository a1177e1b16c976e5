// Matrix products, tanh and the SGD update of a compiled training step, in AssemblyScript (TypeScript
// compiled to WebAssembly, with 128-bit SIMD: four float32 lanes at a time). The plans of
// lib/compile call them; `tools/build-wasm.js` compiles lib/assembly/index.ts. Every argument named
// like a tensor is a byte address in the plan's memory, of row-major float32 data. The module itself
// keeps nothing in memory: no data, no allocation.
//
// Reading past the end of a row by up to 7 floats is allowed (the extra lanes are thrown away);
// the callers leave 32 bytes of room after their buffers.

// ---------------------------------------------------------------------------------------------
// Small helpers


import { at, ld, st, vld, vst, vstPartial } from './access';

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
        const a0 = v128.load32_splat(at(x, i * rs + k * cs)), a1 = v128.load32_splat(at(x, (i + 1) * rs + k * cs));
        const a2 = v128.load32_splat(at(x, (i + 2) * rs + k * cs)), a3 = v128.load32_splat(at(x, (i + 3) * rs + k * cs));
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
        const a = v128.load32_splat(at(x, i * rs + k * cs));
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
