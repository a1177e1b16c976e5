// The matrix-product kernels (lib/assembly/kernels.ts matmul, matmulTN, matmulNT) of both builds, bit for
// bit against a float32 emulation of their documented order: y[i, j] = sum over k in order from 0, then
// + b[j] (matmulNT: four partial sums over k mod 4, then (s0 + s1) + (s2 + s3)).
// - kernels.wasm: a multiply then an add, each rounded to float32.
// - kernels-fma.wasm: one fused multiply-add per k (rounded once). The emulation computes c + a * b in
//   float64 (a * b of two float32 values is exact there) and rounds to float32: that is the fused result
//   except when the float64 sum itself rounds onto a float32 halfway point (double rounding), which these
//   seeded inputs do not hit.
// Node.js 20 compiles relaxed SIMD once the kernels are first loaded from their files (lib/assembly/build.js
// turns it on), as a notebook loads them; only a runtime or processor without it skips the FMA half.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { KernelMemory, fusedMultiplyAdd, useKernelModule } from '../../lib/compile/simd';
import { ROOT } from '../helpers/paths';
import { mulberry32 } from '../helpers/random';

const BUILD = path.join(ROOT, 'lib', 'assembly', 'build');
const plain = new Uint8Array(fs.readFileSync(path.join(BUILD, 'kernels.wasm')));
const fma = new Uint8Array(fs.readFileSync(path.join(BUILD, 'kernels-fma.wasm')));
before(() => fusedMultiplyAdd());
after(() => useKernelModule(plain, fma));

/** y = x @ w (+ b), x [M, K] (or x^T given as [K, M]), in the kernels' order, fused or not. */
function reference(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  M: number,
  K: number,
  N: number,
  xTransposed: boolean,
  fused: boolean,
): Float32Array {
  const y = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let c = 0;
      for (let k = 0; k < K; k++) {
        const a = xTransposed ? x[k * M + i] : x[i * K + k];
        c = fused ? Math.fround(c + a * w[k * N + j]) : Math.fround(c + Math.fround(a * w[k * N + j]));
      }
      y[i * N + j] = b ? Math.fround(c + b[j]) : c;
    }
  }
  return y;
}

/**
 * y = x @ w^T, w [N, K], in matmulNT's order: four partial sums (k = l mod 4, each in order, fused or
 * not), then (s0 + s1) + (s2 + s3).
 */
function referenceNT(x: Float32Array, w: Float32Array, M: number, K: number, N: number, fused: boolean): Float32Array {
  const y = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const s = [0, 0, 0, 0];
      for (let k = 0; k < K; k++) {
        const a = x[i * K + k],
          b = w[j * K + k],
          l = k % 4;
        s[l] = fused ? Math.fround(s[l] + a * b) : Math.fround(s[l] + Math.fround(a * b));
      }
      y[i * N + j] = Math.fround(Math.fround(s[0] + s[1]) + Math.fround(s[2] + s[3]));
    }
  }
  return y;
}

/** Run both kernels of the module in use on random shapes; the first element that differs, or undefined. */
function compare(fused: boolean): string | undefined {
  const uniform = mulberry32(fused ? 7 : 3);
  const next = () => uniform() * 2 - 1;
  const shapes = [
    [1, 1, 1],
    [4, 8, 8],
    [5, 3, 9],
    [32, 30, 200],
    [33, 200, 27],
    [7, 101, 13],
    [64, 17, 31],
  ];
  for (const [M, K, N] of shapes) {
    const mem = new KernelMemory();
    const put = (v: Float32Array) => {
      const a = mem.alloc(v.length);
      mem.heap.set(v, a >> 2);
      return a;
    };
    const fill = (n: number) => Float32Array.from({ length: n }, next);
    const x = fill(M * K),
      w = fill(K * N),
      b = fill(N);
    const xa = put(x),
      wa = put(w),
      ba = put(b),
      ya = mem.alloc(M * N),
      scratch = mem.alloc(4 * Math.ceil(M / 4) * K);
    const runs: [string, () => void, Float32Array][] = [
      [
        'matmul',
        () => mem.kernels.matmul(xa, wa, 0, ya, M, K, N, scratch),
        reference(x, w, undefined, M, K, N, false, fused),
      ],
      [
        'matmul + b',
        () => mem.kernels.matmul(xa, wa, ba, ya, M, K, N, scratch),
        reference(x, w, b, M, K, N, false, fused),
      ],
      // x read as [K, M]: the same buffer, another matrix.
      ['matmulTN', () => mem.kernels.matmulTN(xa, wa, ya, M, K, N), reference(x, w, undefined, M, K, N, true, fused)],
      // w read as [N, K]: the same buffer, another matrix.
      ['matmulNT', () => mem.kernels.matmulNT(xa, wa, ya, M, K, N), referenceNT(x, w, M, K, N, fused)],
    ];
    for (const [name, run, want] of runs) {
      run();
      const got = mem.heap.subarray(ya >> 2, (ya >> 2) + M * N);
      const i = got.findIndex((v, n) => !Object.is(v, want[n]));
      if (i >= 0) return `${name} [${M}, ${K}] x [${K}, ${N}]: y[${i}] = ${got[i]}, the emulation gives ${want[i]}`;
    }
  }
  return undefined;
}

test('matrix products without fused multiply-add (kernels.wasm): every float32 rounding as documented', () => {
  useKernelModule(plain);
  assert.equal(fusedMultiplyAdd(), false);
  assert.equal(compare(false), undefined);
});

test('matrix products with fused multiply-add (kernels-fma.wasm): one rounding per step', (t) => {
  useKernelModule(plain, fma);
  if (!fusedMultiplyAdd()) return t.skip('this runtime or processor has no fused multiply-add in WebAssembly');
  assert.equal(compare(true), undefined);
});

test('MAKEMORE_FMA=0: the kernels without fused multiply-add, even where the runtime has it', () => {
  const before = process.env.MAKEMORE_FMA;
  process.env.MAKEMORE_FMA = '0';
  try {
    useKernelModule(plain, fma);
    assert.equal(fusedMultiplyAdd(), false);
    assert.equal(compare(false), undefined);
    process.env.MAKEMORE_FMA = '2';
    useKernelModule(plain, fma);
    assert.throws(
      () => fusedMultiplyAdd(),
      /MAKEMORE_FMA=2 is not allowed: use 1 \(.*\) or 0 \(.*\), or leave it unset/,
    );
  } finally {
    if (before === undefined) delete process.env.MAKEMORE_FMA;
    else process.env.MAKEMORE_FMA = before;
  }
});
