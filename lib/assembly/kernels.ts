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

/**
 * a * b + c. Built twice (lib/assembly/build.js): with relaxed SIMD, one fused multiply-add where the
 * machine has it (rounded once, as PyTorch's MKL products are); without, a multiply then an add.
 */
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// ---------------------------------------------------------------------------------------------
// Matrix products
//
// Blocks of 4 rows by 8 columns of y are held in registers while k runs: each loaded w vector is used
// four times, each x value (splat) twice. Every sum runs over k in order, from 0, then adds the bias:
// the same float32 operations in the same order for every shape. The x values of a block are read
// k-major (4 floats per k, one pointer step): as stored for x^T, packed into `scratch` for x. Blocks
// run column panel by column panel within tiles of rows, so what they read stays in the cache.

/**
 * Rows of x per tile: each tile's x (packed) stays in the first-level cache (about 24 KB) while every
 * column panel of w passes over it, and each panel of w (K rows of 8) stays there while the tile's
 * row blocks use it.
 */
@inline function tileRows(K: i32): i32 {
  const rows = (6144 / max(K, 1)) & ~3;
  return max(rows, 4);
}

/** y[M, N] = x[M, K] @ w[K, N] (+ b[N] when b is not 0). `scratch`: room for (M rounded up to 4) K floats. */
export function matmul(x: usize, w: usize, b: usize, y: usize, M: i32, K: i32, N: i32, scratch: usize): void {
  const N4 = <usize>N << 2, K16 = <usize>K << 4;
  for (let i = 0; i < M; i += 4) packRows(x, scratch + <usize>(i >> 2) * K16, i, M, K);
  const tile = tileRows(K);
  for (let i0 = 0; i0 < M; i0 += tile) {
    const i1 = min(M, i0 + tile);
    for (let j = 0; j < N; j += 8) {
      const jb = <usize>j << 2;
      for (let i = i0; i < i1; i += 4) {
        block4x8(scratch + <usize>(i >> 2) * K16, 16, w + jb, N4, K, b ? b + jb : 0, y + <usize>i * N4 + jb, N4, M - i, N - j);
      }
    }
  }
}

/** y[M, N] = x^T @ w for x[K, M] (the gradient of a weight, x^T @ dy), without transposing x. */
export function matmulTN(x: usize, w: usize, y: usize, M: i32, K: i32, N: i32): void {
  const N4 = <usize>N << 2, M4 = <usize>M << 2;
  const tile = tileRows(K);
  for (let i0 = 0; i0 < M; i0 += tile) {
    const i1 = min(M, i0 + tile);
    for (let j = 0; j < N; j += 8) {
      const jb = <usize>j << 2;
      for (let i = i0; i < i1; i += 4) {
        block4x8(x + (<usize>i << 2), M4, w + jb, N4, K, 0, y + <usize>i * N4 + jb, N4, M - i, N - j);
      }
    }
  }
}

/**
 * y[M, N] = x[M, K] @ w^T for w[N, K] (the gradient of a layer's input, dy @ W^T), without transposing
 * w: each y[i, j] is a dot product of two rows that lie contiguous in memory. Blocks of 2 rows of x by 4
 * rows of w hold 8 vectors of partial sums; lane l of each sums the k = l (mod 4) terms in order, from
 * k = l, as `madd` (past K, both operands read as 0). Then y[i, j] = (s0 + s1) + (s2 + s3).
 */
export function matmulNT(x: usize, w: usize, y: usize, M: i32, K: i32, N: i32): void {
  const K4 = <usize>K << 2, N4 = <usize>N << 2;
  const tail = K & 3;
  // The lanes of the last, partial vector of a row that lie before K.
  const keep = i32x4(tail > 0 ? -1 : 0, tail > 1 ? -1 : 0, tail > 2 ? -1 : 0, 0);
  for (let i = 0; i < M; i += 2) {
    const x0 = x + <usize>i * K4, x1 = i + 1 < M ? x0 + K4 : x0;
    for (let j = 0; j < N; j += 4) {
      const w0 = w + <usize>j * K4;
      const w1 = j + 1 < N ? w0 + K4 : w0, w2 = j + 2 < N ? w1 + K4 : w1, w3 = j + 3 < N ? w2 + K4 : w2;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
      let o: usize = 0;
      const full = <usize>(K - tail) << 2;
      for (; o < full; o += 16) {
        const u0 = v128.load(x0 + o), u1 = v128.load(x1 + o);
        const v0 = v128.load(w0 + o), v1 = v128.load(w1 + o), v2 = v128.load(w2 + o), v3 = v128.load(w3 + o);
        a00 = madd(u0, v0, a00); a01 = madd(u0, v1, a01); a02 = madd(u0, v2, a02); a03 = madd(u0, v3, a03);
        a10 = madd(u1, v0, a10); a11 = madd(u1, v1, a11); a12 = madd(u1, v2, a12); a13 = madd(u1, v3, a13);
      }
      if (tail) {
        const u0 = v128.and(v128.load(x0 + o), keep), u1 = v128.and(v128.load(x1 + o), keep);
        const v0 = v128.and(v128.load(w0 + o), keep), v1 = v128.and(v128.load(w1 + o), keep);
        const v2 = v128.and(v128.load(w2 + o), keep), v3 = v128.and(v128.load(w3 + o), keep);
        a00 = madd(u0, v0, a00); a01 = madd(u0, v1, a01); a02 = madd(u0, v2, a02); a03 = madd(u0, v3, a03);
        a10 = madd(u1, v0, a10); a11 = madd(u1, v1, a11); a12 = madd(u1, v2, a12); a13 = madd(u1, v3, a13);
      }
      const n = min(4, N - j), p = y + <usize>i * N4 + (<usize>j << 2);
      storeSums(p, a00, a01, a02, a03, n);
      if (i + 1 < M) storeSums(p + N4, a10, a11, a12, a13, n);
    }
  }
}

/** The first n of [sum(a0), sum(a1), sum(a2), sum(a3)] at p, each sum (l0 + l1) + (l2 + l3) of its lanes. */
@inline function storeSums(p: usize, a0: v128, a1: v128, a2: v128, a3: v128, n: i32): void {
  // Transposed: t_l holds lane l of a0..a3.
  const u0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), u1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
  const u2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), u3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
  const t0 = i64x2.shuffle(u0, u1, 0, 2), t1 = i64x2.shuffle(u0, u1, 1, 3);
  const t2 = i64x2.shuffle(u2, u3, 0, 2), t3 = i64x2.shuffle(u2, u3, 1, 3);
  const s = f32x4.add(f32x4.add(t0, t1), f32x4.add(t2, t3));
  if (n >= 4) v128.store(p, s);
  else vstPartial(p, 0, s, n);
}

/**
 * One block: y rows 0..3 (the first `rows` stored), columns 0..7 (the first n stored), at y with row
 * stride N4 bytes. The x values of step k are the 4 floats at xp + k * xStep; w's row k at wp + k * wStep.
 */
@inline function block4x8(xp: usize, xStep: usize, wp: usize, wStep: usize, K: i32, b: usize, y: usize, N4: usize, rows: i32, n: i32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const w0 = v128.load(wp), w1 = v128.load(wp, 16);
    const a0 = v128.load32_splat(xp), a1 = v128.load32_splat(xp, 4), a2 = v128.load32_splat(xp, 8), a3 = v128.load32_splat(xp, 12);
    c00 = madd(a0, w0, c00); c01 = madd(a0, w1, c01);
    c10 = madd(a1, w0, c10); c11 = madd(a1, w1, c11);
    c20 = madd(a2, w0, c20); c21 = madd(a2, w1, c21);
    c30 = madd(a3, w0, c30); c31 = madd(a3, w1, c31);
    xp += xStep; wp += wStep;
  }
  if (b) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    c00 = f32x4.add(c00, b0); c01 = f32x4.add(c01, b1); c10 = f32x4.add(c10, b0); c11 = f32x4.add(c11, b1);
    c20 = f32x4.add(c20, b0); c21 = f32x4.add(c21, b1); c30 = f32x4.add(c30, b0); c31 = f32x4.add(c31, b1);
  }
  vst8(y, 0, c00, c01, n);
  if (rows > 1) vst8(y + N4, 0, c10, c11, n);
  if (rows > 2) vst8(y + 2 * N4, 0, c20, c21, n);
  if (rows > 3) vst8(y + 3 * N4, 0, c30, c31, n);
}

/** Rows i..i+3 of x[M, K], k-major: p[4 k + r] = x[i + r, k] (past the last row: that row again, never stored). */
@inline function packRows(x: usize, p: usize, i: i32, M: i32, K: i32): void {
  const K4 = <usize>K << 2;
  const r0 = x + <usize>i * K4;
  const r1 = i + 1 < M ? r0 + K4 : r0, r2 = i + 2 < M ? r1 + K4 : r1, r3 = i + 3 < M ? r2 + K4 : r2;
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const o = <usize>k << 2, q = p + (<usize>k << 4);
    transpose4(q, v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), 16);
  }
  for (; k < K; k++) {
    const o = <usize>k << 2, q = p + (<usize>k << 4);
    store<f32>(q, load<f32>(r0 + o)); store<f32>(q, load<f32>(r1 + o), 4);
    store<f32>(q, load<f32>(r2 + o), 8); store<f32>(q, load<f32>(r3 + o), 12);
  }
}

/** Store the 4x4 block whose rows are v0..v3 transposed: its columns at q, q + stride, q + 2 stride, q + 3 stride. */
@inline function transpose4(q: usize, v0: v128, v1: v128, v2: v128, v3: v128, stride: usize): void {
  const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5), t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7), t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
  v128.store(q, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(q + stride, i64x2.shuffle(t0, t1, 1, 3));
  v128.store(q + 2 * stride, i64x2.shuffle(t2, t3, 0, 2));
  v128.store(q + 3 * stride, i64x2.shuffle(t2, t3, 1, 3));
}

/** y[N, M] = x[M, N]^T, in 4x4 blocks. */
export function transpose(x: usize, y: usize, M: i32, N: i32): void {
  const M4 = <usize>M << 2, N4 = <usize>N << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const r = x + <usize>i * N4, q = y + (<usize>i << 2);
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const o = <usize>j << 2;
      transpose4(q + <usize>j * M4, v128.load(r + o), v128.load(r + N4 + o), v128.load(r + 2 * N4 + o), v128.load(r + 3 * N4 + o), M4);
    }
    for (; j < N; j++) for (let t = 0; t < 4; t++) st(y, j * M + i + t, ld(x, (i + t) * N + j));
  }
  for (; i < M; i++) {
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
