// The functions the fused loops write inline (lib/compile/vmath.ts: exp, log, tanh, sigmoid, softplus),
// run as a generated loop over a dense grid of float32 inputs, against float64 Math rounded to float32,
// in units in the last place (ulp) of the result. Both ways the loops are generated: with relaxed SIMD's
// fused multiply-add in the polynomials (where this runtime has it) and with a multiply then an add.
// Bounds: Cephes' expf and logf are documented within 1-2 ulp on their reduced ranges (3 allowed, as the
// range reduction adds one rounding); Eigen's fast tanh within 7 ulp (the worst measured here over 2
// million points; 6 on this grid), its mean under 1.5 ulp; sigmoid and softplus are built on exp (and
// log) with one or two more roundings.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { Body, moduleBytes } from '../../lib/compile/emit';
import * as vm from '../../lib/compile/vmath';
import { WebAssemblyApi, fusedMultiplyAdd } from '../../lib/compile/simd';

// The kernels' module loaded first, as a plan does: on Node.js 20 that lets V8 compile relaxed SIMD.
before(() => fusedMultiplyAdd());

/** f over xs, as a fused loop generated with or without fused multiply-add would compute it. */
function runLoop(f: (b: Body, x: number) => void, xs: Float32Array, fma: boolean): Float32Array {
  const n = xs.length; // a multiple of 4
  const b = new Body(fma);
  const j = b.i32(),
    x = b.v128();
  b.i32Const(0).set(j);
  b.loop(
    () => {
      b.get(j).load().set(x);
      b.get(j)
        .i32Const(4 * n)
        .op(0x6a); // the output's address: j + 4n
      f(b, x);
      b.store();
    },
    j,
    16,
    4 * n,
  );
  const memory = new WebAssemblyApi.Memory({ initial: Math.ceil((8 * n) / 65536) + 1 });
  const run = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(moduleBytes([b])), { env: { memory } }).exports
    .f0 as () => void;
  new Float32Array(memory.buffer, 0, n).set(xs);
  run();
  return new Float32Array(memory.buffer, 4 * n, n).slice();
}

/** The distance in float32 steps between a and b (both finite, or equal). */
function ulps(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const i = new Int32Array(new Float32Array([a, b]).buffer);
  const key = (v: number) => (v < 0 ? -2147483648 - v : v); // monotonic over the floats
  return Math.abs(key(i[0]) - key(i[1]));
}

/** n float32 values evenly spaced over [lo, hi], n a multiple of 4. */
const grid = (lo: number, hi: number, n: number) =>
  Float32Array.from({ length: n }, (_, k) => lo + ((hi - lo) * k) / (n - 1));

const CASES: [string, (b: Body, x: number) => void, (x: number) => number, Float32Array, number, number][] = [
  ['exp', vm.exp, Math.exp, grid(-87, 88, 400000), 3, 1],
  ['log', vm.log, Math.log, grid(1e-30, 1e4, 400000), 3, 1],
  ['tanh', vm.tanh, Math.tanh, grid(-9, 9, 400000), 7, 1.5],
  ['sigmoid', vm.sigmoid, (x) => 1 / (1 + Math.exp(-x)), grid(-80, 80, 400000), 4, 1.5],
  // softplus from x = -2 up: further down, 1 + exp(x) loses the low bits of exp(x) (an absolute error under
  // 6e-8 there, as in the formula TensorFlow.js uses too), so it is accurate in absolute, not relative, terms.
  ['softplus', vm.softplus, (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), grid(-2, 80, 400000), 5, 1.5],
];

for (const fma of [false, true]) {
  test(`fused loops' exp, log, tanh, sigmoid, softplus ${fma ? 'with' : 'without'} fused multiply-add: within their ulp bounds of Math`, (t) => {
    if (fma && !fusedMultiplyAdd()) return t.skip('this runtime or processor has no fused multiply-add in WebAssembly');
    const found = CASES.map(([name, f, exact, xs, worst, mean]) => {
      const ys = runLoop(f, xs, fma);
      let max = 0,
        sum = 0,
        at = 0;
      ys.forEach((y, k) => {
        const d = ulps(y, Math.fround(exact(xs[k])));
        sum += d;
        if (d > max) {
          max = d;
          at = xs[k];
        }
      });
      return {
        name,
        max,
        at,
        mean: sum / ys.length,
        ok: max <= worst && sum / ys.length <= mean,
        worst,
        meanAllowed: mean,
      };
    });
    const text = found.map(
      (r) =>
        `${r.name}: ${r.max} ulp at x = ${r.at} (allowed ${r.worst}), ${r.mean.toFixed(2)} on average (allowed ${r.meanAllowed})`,
    );
    assert.ok(
      found.every((r) => r.ok),
      text.join('; '),
    );
    t.diagnostic(text.join('; '));
    // Special values: NaN stays NaN, the limits are exact.
    const special = Float32Array.of(NaN, Infinity, -Infinity, 0);
    assert.deepEqual([...runLoop(vm.exp, special, fma)], [NaN, Infinity, 0, 1]);
    assert.deepEqual([...runLoop(vm.tanh, special, fma)], [NaN, 1, -1, 0]);
    assert.deepEqual([...runLoop(vm.log, special, fma)], [NaN, Infinity, NaN, -Infinity]);
  });
}

test('the two ways differ: a fused multiply-add rounds once (so fma is really on where it says)', (t) => {
  if (!fusedMultiplyAdd()) return t.skip('this runtime or processor has no fused multiply-add in WebAssembly');
  const xs = grid(-5, 5, 4000);
  const a = runLoop(vm.tanh, xs, false),
    b = runLoop(vm.tanh, xs, true);
  assert.ok(
    a.some((v, k) => v !== b[k]),
    'some tanh values differ in their last bits',
  );
});
