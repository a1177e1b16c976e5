/**
 * lib/tensor/stats.ts and lib/viz/format.ts against torch 2.13.
 *
 * Inputs and torch's values come from two fixtures:
 * - test/fixtures/torch-expected.json (test/reference/torch_reference.py): `histogram` (1,000
 *   randn values with torch.histogram's hist and bin_edges) and `deep_network.step0` (per-layer
 *   statistics, histograms, grad:data and update:data ratios of the deep network after step 0);
 * - test/fixtures/init-diagnostics.json (test/reference/init_diagnostics_reference.py): the
 *   tensors those step-0 statistics were computed from (every Tanh output and its gradient,
 *   three weights and C with their gradients; the script checks they reproduce
 *   torch-expected.json), h of the lecture's "original" stage (the h.abs() > 0.99 image),
 *   small histogram cases and Python's %-formatting of ~500 numbers.
 *
 * Tolerances (our statistics accumulate in double, torch's results are float32):
 * - histograms, edges, counts, densities, saturation percent, mask, dead neurons: exact.
 * - std, grad:data ratio: Math.fround(ours) equals torch's float32 value. torch computes a full
 *   std in double too (from a float32 mean) and rounds once, so this is exact here; the test
 *   allows 1 float32 ulp (2^-23 relative) for the ratio, which torch divides in float32.
 * - mean: torch sums in float32. Checked as |ours - torch| <= 1e-6 * meanOf(|x|) (the float32
 *   rounding scale of the sum); the observed worst case is printed by the test.
 * - update:data log10: |ours - torch| <= 1e-6 (torch's log10 of a float32 ratio).
 * - printed lines: formatted from torch's own float32 values they equal Python's lines exactly;
 *   formatted from our double statistics they are equal except, possibly, the sign of a
 *   mean that is rounding noise ('+0.000000' vs '-0.000000') and the last digit of %e.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  meanOf,
  stdOf,
  histogram,
  linspace,
  saturation,
  saturationMask,
  deadNeurons,
  layerStats,
  gradDataRatio,
  updateDataRatio,
  paramStats,
} from '../../lib/tensor/stats';
import {
  formatLayerStats,
  formatGradStats,
  formatParamStats,
  formatFixed,
  formatExp,
  pyTuple,
} from '../../lib/viz/format';
import { EXPECTED, INIT_DIAGNOSTICS } from '../helpers/expected';

const REF = INIT_DIAGNOSTICS;
const DEEP = REF.diagnostics.deep_step0;
const STEP0 = EXPECTED.deep_network.step0;

/** A float32 array stored as base64 of its little-endian bytes. */
function f32(stored: { shape: number[]; b64: string }): Float32Array {
  const buf = Buffer.from(stored.b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

function assertArrayEqual(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const bad: string[] = [];
  for (let i = 0; i < expected.length && bad.length < 5; i++) {
    if (!Object.is(actual[i], expected[i])) bad.push(`[${i}] got ${actual[i]} want ${expected[i]}`);
  }
  assert.deepEqual(bad, [], `${what}: values differ`);
}

const ulp32 = 2 ** -23;
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const meanAbs = (x: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
  return s / x.length;
};

describe('mean and std', () => {
  test('small exact cases', () => {
    assert.equal(meanOf([1, 2, 3, 4]), 2.5);
    assert.equal(stdOf([1, 2, 3, 4]), Math.sqrt(5 / 3)); // unbiased, torch's default
    assert.equal(stdOf([1, 2, 3, 4], false), Math.sqrt(5 / 4));
    assert.ok(Number.isNaN(stdOf([7]))); // torch: nan (n - 1 = 0)
    assert.equal(stdOf([7], false), 0);
    assert.ok(Number.isNaN(meanOf([])));
  });

  test('accurate for a large offset (two passes in double)', () => {
    const x = new Float32Array(1000).map((_, i) => 1e4 + (i % 2 ? 0.5 : -0.5));
    assert.equal(meanOf(x), 1e4);
    assert.ok(Math.abs(stdOf(x, false) - 0.5) < 1e-15);
  });

  test('against torch: every Tanh output and gradient, weights and their gradients (step 0)', () => {
    let worstStd = 0;
    let worstMean = 0;
    const check = (x: Float32Array, torchMean: number, torchStd: number, what: string) => {
      assert.equal(Math.fround(stdOf(x)), torchStd, `${what} std`);
      worstStd = Math.max(worstStd, relErr(stdOf(x), torchStd));
      const e = Math.abs(meanOf(x) - torchMean) / meanAbs(x);
      worstMean = Math.max(worstMean, e);
      assert.ok(e <= 1e-6, `${what} mean: ${meanOf(x)} vs ${torchMean}`);
    };
    for (const t of DEEP.tanh) {
      check(f32(t.out), t.mean, t.std, `layer ${t.index} out`);
      check(f32(t.grad), t.grad_mean, t.grad_std, `layer ${t.index} grad`);
      assert.equal(Math.fround(stdOf(f32(t.out), false)), t.std_biased, 'biased std');
    }
    for (const w of DEEP.weights) {
      check(f32(w.grad), w.grad_mean, w.grad_std, `${w.name} grad`);
      assert.equal(Math.fround(stdOf(f32(w.data))), w.data_std, `${w.name} data std`);
    }
    const h = REF.diagnostics.original_h;
    check(f32(h.h), h.h_mean, h.h_std, 'h');
    check(f32(h.hpreact), h.hpreact_mean, h.hpreact_std, 'hpreact');
    console.log(
      `# std: max rel diff to torch ${worstStd.toExponential(2)}; ` +
        `mean: max |diff| / mean|x| ${worstMean.toExponential(2)}`,
    );
  });
});

describe('histogram (torch.histogram)', () => {
  test('torch-expected.json `histogram`: 1,000 randn values, 100 bins, density', () => {
    const c = EXPECTED.histogram;
    const { hist, edges } = histogram(c.x, c.bins, c.density);
    assertArrayEqual(edges, c.bin_edges, 'hx');
    assertArrayEqual(hist, c.hist, 'hy');
  });

  test('deep network step 0: every Tanh output and gradient (hy and hx), bit for bit', () => {
    for (const t of DEEP.tanh) {
      const fwd = STEP0.forward.find((s: { index: number }) => s.index === t.index);
      const bwd = STEP0.backward_tanh_grads.find((s: { index: number }) => s.index === t.index);
      const a = histogram(f32(t.out));
      assertArrayEqual(a.edges, fwd.hist.hx, `layer ${t.index} out hx`);
      assertArrayEqual(a.hist, fwd.hist.hy, `layer ${t.index} out hy`);
      const b = histogram(f32(t.grad));
      assertArrayEqual(b.edges, bwd.hist.hx, `layer ${t.index} grad hx`);
      assertArrayEqual(b.hist, bwd.hist.hy, `layer ${t.index} grad hy`);
    }
  });

  test('deep network step 0: weight gradients (hy and hx)', () => {
    for (const w of DEEP.weights) {
      const p = STEP0.parameters.find((s: { name: string }) => s.name === w.name);
      const { hist, edges } = histogram(f32(w.grad));
      assertArrayEqual(edges, p.grad_hist.hx, `${w.name} hx`);
      assertArrayEqual(hist, p.grad_hist.hy, `${w.name} hy`);
    }
  });

  test('the edges of every histogram in torch-expected.json (linspace in float32)', () => {
    let n = 0;
    for (const key of ['step0', 'after_1000_steps', 'lecture_break_at_i1000']) {
      const s = EXPECTED.deep_network[key];
      const all = [
        ...s.forward.filter((f: { hist?: unknown }) => f.hist).map((f: { hist: { hx: number[] } }) => f.hist.hx),
        ...s.backward_tanh_grads.map((b: { hist: { hx: number[] } }) => b.hist.hx),
        ...s.parameters
          .filter((p: { grad_hist?: unknown }) => p.grad_hist)
          .map((p: { grad_hist: { hx: number[] } }) => p.grad_hist.hx),
      ];
      for (const hx of all) {
        assertArrayEqual(linspace(hx[0], hx[100], 101), hx, `${key} edges`);
        n++;
      }
    }
    assert.equal(n, 51);
  });

  test("the lecture's h and hpreact, and 50 bins of counts", () => {
    const h = REF.diagnostics.original_h;
    for (const [x, ref] of [
      [f32(h.h), h.hist_h],
      [f32(h.hpreact), h.hist_hpreact],
    ] as const) {
      const r = histogram(x);
      assertArrayEqual(r.edges, ref.hx, 'hx');
      assertArrayEqual(r.hist, ref.hy, 'hy');
    }
    const c = histogram(f32(h.h), 50, false);
    assertArrayEqual(c.edges, h.hist_h_50_counts.hx, 'hx 50');
    assertArrayEqual(c.hist, h.hist_h_50_counts.hy, 'counts 50');
    assert.equal(c.counts, c.hist);
  });

  for (const c of REF.diagnostics.histograms) {
    test(`edge case: ${c.name} (bins ${c.bins}, density ${c.density})`, () => {
      const r = histogram(c.x, c.bins, c.density);
      assertArrayEqual(r.edges, c.bin_edges, 'bin_edges');
      assertArrayEqual(r.hist, c.hist, 'hist');
    });
  }

  test('density integrates to 1; errors', () => {
    const { hist, edges } = histogram(EXPECTED.histogram.x);
    let area = 0;
    for (let i = 0; i < hist.length; i++) area += hist[i] * (edges[i + 1] - edges[i]);
    assert.ok(Math.abs(area - 1) < 1e-5);
    assert.throws(() => histogram([1, NaN, 2]), /not finite/);
    assert.throws(() => histogram([1, Infinity]), /not finite/);
    assert.throws(() => histogram([1, 2], 0), /bins must be a positive integer/);
  });
});

describe('saturation, mask, dead neurons', () => {
  test('layerStats: saturated percent equals torch (t.abs() > 0.97).float().mean()*100 exactly', () => {
    for (const t of DEEP.tanh) {
      const s = layerStats('Tanh', f32(t.out));
      assert.equal(s.saturated, t.saturated_percent, `layer ${t.index}`);
      const fwd = STEP0.forward.find((x: { index: number }) => x.index === t.index);
      assert.equal(s.saturated, fwd.saturated_percent);
      assert.equal(s.name, 'Tanh');
      assert.equal(Math.fround(s.std), fwd.std);
    }
  });

  test("the lecture's h.abs() > 0.99 image of the original stage, and its dead neurons", () => {
    const h = REF.diagnostics.original_h;
    const x = f32(h.h);
    const [rows, cols] = h.h.shape;
    const mask = saturationMask(x, rows, cols);
    let count = 0;
    const rowSums: number[] = [];
    for (let i = 0; i < rows; i++) {
      let r = 0;
      for (let j = 0; j < cols; j++) r += mask[i * cols + j];
      rowSums.push(r);
      count += r;
    }
    assert.equal(count, h.mask_count);
    assert.deepEqual(rowSums, h.mask_row_sums);
    assert.deepEqual(deadNeurons(mask, rows, cols), h.dead_neurons);
    assert.equal(Math.fround(Math.fround(saturation(x, 0.99)) * 100), h.saturated_099_percent);
    assert.equal(
      Math.fround(Math.fround(saturation(x, 0.99)) * 100),
      EXPECTED.stages_step0_loss.original.h_saturated_099_percent,
    );
  });

  test('deadNeurons on a small mask; threshold compared in float32 like torch', () => {
    // 3 x 4: column 1 all white, column 3 white but for one row
    const mask = Uint8Array.from([0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]);
    assert.deepEqual(deadNeurons(mask, 3, 4), [1]);
    assert.deepEqual(deadNeurons(new Uint8Array(0), 0, 3), []);
    // 0.99 as float32 is 0.99000000953...: a float32 value equal to it is NOT > 0.99 in torch
    const v = Math.fround(0.99);
    assert.deepEqual(Array.from(saturationMask([v, -0.995, 0.5, 1], 2, 2)), [0, 1, 0, 1]);
    assert.equal(saturation([v, -v, 0.999, 0], 0.99), 0.25);
    assert.throws(() => saturationMask([1, 2, 3], 2, 2), /not 2 x 2/);
  });
});

describe('grad:data and update:data ratios', () => {
  test('against torch, step 0 (lr 0.1)', () => {
    const names: string[] = EXPECTED.deep_network.ud_log10.parameter_names;
    let worstRatio = 0;
    let worstUd = 0;
    for (const w of DEEP.weights) {
      const grad = f32(w.grad);
      const data = f32(w.data);
      const p = STEP0.parameters.find((s: { name: string }) => s.name === w.name);
      const r = gradDataRatio(grad, data);
      worstRatio = Math.max(worstRatio, relErr(r, p.grad_data_ratio));
      assert.ok(relErr(r, p.grad_data_ratio) <= ulp32, `${w.name} ratio ${r} vs ${p.grad_data_ratio}`);
      const ud = updateDataRatio(grad, data, DEEP.lr);
      const udTorch = EXPECTED.deep_network.ud_log10.per_step[0][names.indexOf(w.name)];
      assert.equal(udTorch, p.update_data_log10);
      worstUd = Math.max(worstUd, Math.abs(ud - udTorch));
      assert.ok(Math.abs(ud - udTorch) <= 1e-6, `${w.name} ud ${ud} vs ${udTorch}`);
      const ps = paramStats(w.shape, grad, data);
      assert.equal(Math.fround(ps.gradDataRatio), p.grad_data_ratio); // float32 / float32, as torch
      assert.ok(relErr(ps.gradDataRatio, r) <= ulp32);
      assert.equal(Math.fround(ps.std), p.grad_std);
    }
    console.log(
      `# grad:data max rel diff ${worstRatio.toExponential(2)}; update:data log10 max |diff| ${worstUd.toExponential(2)}`,
    );
  });
});

describe("Python's %-formatting and the lecture's lines", () => {
  test('formatFixed / formatExp equal Python on ~500 numbers (ties, -0, tiny, huge, nan, inf)', () => {
    const bad: string[] = [];
    for (const f of REF.diagnostics.formats) {
      const x = typeof f.x === 'string' ? Number(f.x.replace('inf', 'Infinity').replace('nan', 'NaN')) : f.x;
      const got: Record<string, string> = {
        '+.2f': formatFixed(x, 2, true),
        '.2f': formatFixed(x, 2),
        '+f': formatFixed(x, 6, true),
        f: formatFixed(x),
        e: formatExp(x),
        '+e': formatExp(x, 6, true),
        '.3e': formatExp(x, 3),
      };
      for (const [k, v] of Object.entries(got))
        if (v !== f[k] && bad.length < 10) bad.push(`${f.x} ${k}: ${v} vs ${f[k]}`);
    }
    assert.deepEqual(bad, []);
    assert.equal(formatFixed(2.5, 0), '2');
    assert.equal(formatFixed(3.5, 0), '4');
  });

  test("the lecture's three lines from torch's values equal Python's lines", () => {
    for (const t of DEEP.tanh) {
      const stats = { name: 'Tanh', mean: t.mean, std: t.std, saturated: t.saturated_percent };
      assert.equal(formatLayerStats(t.index, 'Tanh', stats), t.line);
      assert.equal(formatGradStats(t.index, 'Tanh', { mean: t.grad_mean, std: t.grad_std }), t.grad_line);
    }
    for (const w of DEEP.weights) {
      const stats = { shape: w.shape, mean: w.grad_mean, std: w.grad_std, gradDataRatio: w.grad_data_ratio };
      assert.equal(formatParamStats(stats), w.line);
    }
    assert.equal(
      formatLayerStats(2, 'Tanh', { name: 'Tanh', mean: -0.001, std: 0.63, saturated: 2.78125 }),
      'layer 2 (      Tanh): mean -0.00, std 0.63, saturated: 2.78%',
    );
    assert.equal(pyTuple([100]), '(100,)');
    assert.equal(pyTuple([27, 10]), '(27, 10)');
  });

  test('the same lines from our statistics (computed in double)', () => {
    let differ = 0;
    for (const t of DEEP.tanh) {
      const out = f32(t.out);
      // forward lines: identical (saturated is torch's float32 value, the rest is 2 decimals)
      assert.equal(formatLayerStats(t.index, 'Tanh', layerStats('Tanh', out)), t.line);
      const g = layerStats('Tanh', f32(t.grad));
      const line = formatGradStats(t.index, 'Tanh', g);
      // the std part is the same; the mean is noise around 0 and may print with another sign
      assert.equal(line.split(', std ')[1], t.grad_line.split(', std ')[1]);
      assert.equal(
        line.replace(/mean [+-]0\.000000/, 'mean 0.000000'),
        t.grad_line.replace(/mean [+-]0\.000000/, 'mean 0.000000'),
      );
      if (line !== t.grad_line) differ++;
    }
    for (const w of DEEP.weights) {
      const line = formatParamStats(paramStats(w.shape, f32(w.grad), f32(w.data)));
      assert.equal(line.split(' | std ')[1], w.line.split(' | std ')[1]);
      assert.equal(
        line.replace(/mean [+-]0\.000000/, 'mean 0.000000'),
        w.line.replace(/mean [+-]0\.000000/, 'mean 0.000000'),
      );
      if (line !== w.line) differ++;
    }
    console.log(`# lines from our statistics that differ from Python's (in a mean's sign only): ${differ} of 9`);
  });
});
