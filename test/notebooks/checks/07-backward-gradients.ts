// What 07-backward-gradients must show: the deep network (47,024 parameters, step-0 loss 3.2870)
// trained for the lecture's 1,001 steps, the lecture's gradient lines for each Tanh layer with stds
// close to PyTorch's (`mm.lecture.torch`, after 1,001 steps), the same at step 0, the lecture's own printed lines
// reproduced with gain 1, and the histogram figures.
import assert from 'node:assert/strict';
import { ExecutedNotebook } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';
import { checkDeepTraining } from './deep-training';

const torchGrads = (key: 'step0' | 'after1001Steps') => lecture.torch.deepNetwork[key].backward;

const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));

/** The text output of the first code cell whose source contains `marker`. */
function cellOutput(nb: ExecutedNotebook, marker: string): string {
  const cell = nb.cells.find((c) => c.cell_type === 'code' && join(c.source).includes(marker));
  assert.ok(cell, `a code cell containing ${marker}`);
  return (cell.outputs ?? []).map((o) => join(o.text) + join(o.data?.['text/plain'])).join('\n');
}

const LINE = /^(?:.*?)layer (\d+) \(\s*Tanh\): mean ([+-]\d\.\d{6}), std (\d\.\d{6}e[+-]\d\d)$/gm;

/** The lecture's lines `layer 2 (      Tanh): mean +0.000000, std 3.682952e-03` in `text`. */
function parseLines(text: string, prefix = '') {
  const rows: { index: number; mean: number; std: number }[] = [];
  for (const m of text.matchAll(LINE)) {
    if (!m[0].startsWith(prefix)) continue;
    rows.push({ index: +m[1], mean: +m[2], std: +m[3] });
  }
  return rows;
}

/** `std` of `rows` within `rel` of `ref`, and every mean printed as ±0.000000. */
function closeTo(
  rows: { index: number; mean: number; std: number }[],
  ref: { index: number; std: number }[],
  rel: number,
  where: string,
) {
  assert.deepEqual(
    rows.map((r) => r.index),
    [2, 5, 8, 11, 14],
    `${where}: a line per Tanh layer`,
  );
  rows.forEach((r, k) => {
    assert.ok(Number.isFinite(r.std) && r.std > 0, `${where}: layer ${r.index} std ${r.std} positive`);
    assert.ok(
      Math.abs(r.std - ref[k].std) <= rel * ref[k].std,
      `${where}: layer ${r.index} std ${r.std} vs ${ref[k].std}`,
    );
    // the next Linear feeds a batch norm, so the gradient sums to 0 over the batch
    assert.equal(Math.abs(r.mean), 0, `${where}: layer ${r.index} mean prints as ±0.000000`);
  });
}

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;
  checkDeepTraining(out);

  // After 1,001 steps: 1,001 float32 steps drift from PyTorch's by far less than 2% (we see ~1e-6).
  const after = parseLines(cellOutput(nb, 'Gradient distribution after 1,001 steps'));
  closeTo(after, torchGrads('after1001Steps'), 0.02, 'after 1,001 steps');
  // At step 0: one forward and backward pass, PyTorch's to float32 rounding.
  const init = parseLines(cellOutput(nb, 'Gradient distribution at initialisation (step 0)'));
  closeTo(init, torchGrads('step0'), 1e-3, 'step 0');

  // The tables next to PyTorch's.
  for (const [caption, key] of [
    ["Tanh output gradients after 1,001 steps: ours and PyTorch's", 'after1001Steps'],
    ["Tanh output gradients at step 0: ours and PyTorch's", 'step0'],
  ] as const) {
    const table = nb.tables.find((t) => t.startsWith(caption));
    assert.ok(table, caption);
    const rows = table.split('\n').flatMap((line) => {
      const m = /^layer (\d+) \(Tanh\)\s+(\S+)\s+(\S+)\s+(-?[\d.]+)%\s*$/.exec(line);
      return m ? [{ index: +m[1], ours: +m[2], torch: +m[3], diff: +m[4] }] : [];
    });
    assert.equal(rows.length, 5, `${caption}: 5 rows`);
    rows.forEach((r, k) => {
      assert.equal(r.index, torchGrads(key)[k].index);
      assert.ok(Math.abs(r.diff) <= 2, `${caption}: layer ${r.index} differs by ${r.diff}%`);
      assert.ok(Math.abs(r.ours - torchGrads(key)[k].std) <= 0.02 * torchGrads(key)[k].std);
    });
  }

  // The lecture's printed lines (its last run used gain 1.0), reproduced by our gain-1 run.
  const gain1 = cellOutput(nb, 'gain: 1');
  const lecture = parseLines(gain1, 'the lecture:  ');
  assert.deepEqual(
    lecture.map((r) => r.std),
    [2.640701e-3, 2.245584e-3, 2.045741e-3, 1.983132e-3, 1.952381e-3],
  );
  closeTo(parseLines(gain1, 'ours, gain 1: '), lecture, 0.02, 'gain 1 vs the lecture');
  const worst = /^largest relative difference of the stds: (\S+)$/m.exec(gain1);
  assert.ok(worst && +worst[1] < 0.02, `largest relative difference ${worst?.[1]}`);

  // The healthy picture the markdown describes: every layer's gradient within a factor 2 of the others.
  for (const when of ['step 0:', 'after 1,001 steps:']) {
    const m = new RegExp(`^${when}\\s+std (\\S+) to (\\S+), widest / narrowest (\\d+\\.\\d\\d)$`, 'm').exec(out);
    assert.ok(m, `the spread line ${when}`);
    assert.ok(+m[3] >= 1 && +m[3] < 2, `${when} widest / narrowest ${m[3]}`);
    assert.ok(Math.abs(+m[2] / +m[1] - +m[3]) < 0.01);
  }

  assert.deepEqual(nb.figures, [
    '[Plotly figure: Gradient distribution after 1,001 steps]',
    '[Plotly figure: Gradient distribution at initialisation (step 0)]',
    '[Plotly figure: Tanh output gradients: step 0 and after 1,001 steps]',
  ]);
  assert.match(nb.markdown, /^# 07 · /m);
  assert.match(nb.markdown, /notebook 10/);
}
