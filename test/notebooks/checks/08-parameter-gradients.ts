// What 08-parameter-gradients must show: the lecture's parameter lines after its 1,001 steps (equal to
// PyTorch's up to float32 rounding), the gradient histograms, and the sick picture of the network
// without batch norm at initialisation (the last layer's ratio far above the others').
import assert from 'node:assert/strict';
import { ExecutedNotebook } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';

const WEIGHT_SHAPES = ['(27, 10)', '(30, 100)', '(100, 100)', '(100, 100)', '(100, 100)', '(100, 100)', '(100, 27)'];

export interface ParamLine {
  shape: string;
  mean: number;
  std: number;
  ratio: number;
}

/** Every `weight (30, 100) | mean +0.000092 | std 8.238431e-03 | grad:data ratio 2.635839e-02` line. */
export function paramLines(text: string): ParamLine[] {
  const num = '([-+]?\\d+\\.\\d+(?:e[-+]\\d+)?|[-+]?nan|[-+]?inf)';
  const re = new RegExp(`^weight +(\\([\\d, ]+\\)) \\| mean ${num} \\| std ${num} \\| grad:data ratio ${num}$`, 'gm');
  return [...text.matchAll(re)].map((m) => ({
    shape: m[1],
    mean: Number(m[2]),
    std: Number(m[3]),
    ratio: Number(m[4]),
  }));
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.abs(b);

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;
  const E = lecture.torch.deepNetwork;
  assert.match(out, /run profile: quick/);
  assert.match(out, /^47024 parameters$/m);
  // The lecture's 1,001 steps run in both profiles: step 0 and step 1000 are PyTorch's.
  assert.match(out, new RegExp(`^      0/   1000: ${E.lossStep0.toFixed(4)}$`, 'm'));
  assert.match(out, new RegExp(`^step 1000: loss ${E.lossStep1000.toFixed(4)}$`, 'm'));

  const lines = paramLines(out);
  assert.equal(lines.length, 14, `two sets of 7 parameter lines, got ${lines.length}`);
  assert.deepEqual(
    lines.map((l) => l.shape),
    [...WEIGHT_SHAPES, ...WEIGHT_SHAPES],
  );
  for (const l of lines) {
    assert.ok(Number.isFinite(l.ratio) && l.ratio > 0, `grad:data ratio ${l.ratio}`);
    assert.ok(Number.isFinite(l.std) && l.std > 0, `std ${l.std}`);
    assert.ok(Number.isFinite(l.mean) && Math.abs(l.mean) < l.std, `mean ${l.mean} is small next to std ${l.std}`);
  }

  // After 1,001 steps against PyTorch (lecture_break_at_i1000). Both run the same draws and the same
  // float32 arithmetic, summed in different orders: the rounding differences compound over 1,001 SGD
  // steps, measured at ~1e-6 relative. 1e-4 relative on std and ratio leaves room for another backend
  // (native TensorFlow sums differently again) yet fails on any real difference (a missed step, another
  // minibatch, a wrong std, data read before the update), which changes the 2nd-3rd digit. The mean is
  // printed with 6 decimals (a value ~1e-5: mostly rounding noise), so within 3e-6 absolute.
  const torch = E.after1001Steps.parameters.filter((q) => q.ndim === 2);
  torch.forEach((q, k) => {
    const l = lines[k];
    assert.ok(close(l.std, q.grad_std, 1e-4), `${l.shape} grad std ${l.std} vs PyTorch ${q.grad_std}`);
    assert.ok(
      close(l.ratio, q.grad_data_ratio, 1e-4),
      `${l.shape} grad:data ${l.ratio} vs PyTorch ${q.grad_data_ratio}`,
    );
    assert.ok(Math.abs(l.mean - q.grad_mean) <= 3e-6, `${l.shape} grad mean ${l.mean} vs PyTorch ${q.grad_mean}`);
  });

  // Without batch norm at initialisation, the last weight (scaled by 0.1) is the sick one.
  const init = lines.slice(7);
  const others = Math.max(...init.slice(0, 6).map((l) => l.ratio));
  assert.ok(init[6].ratio > 10 * others, `last layer ratio ${init[6].ratio} vs the others' max ${others}`);
  assert.ok(
    init[6].std > 5 * Math.max(...init.slice(0, 6).map((l) => l.std)),
    "the last layer's gradients are much wider",
  );

  assert.equal(nb.tables.length, 1);
  assert.match(nb.tables[0], /layer15\.weight\s+\(100, 27\)\s+6\.28\d+e-02\s+6\.281260e-02/);
  assert.deepEqual(nb.figures, [
    '[Plotly figure: weights gradient distribution after 1,001 steps]',
    '[Plotly figure: weights gradient distribution at initialisation, without batch norm]',
  ]);
}
