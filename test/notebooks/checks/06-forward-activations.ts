// What 06-forward-activations must show: the deep network (47,024 parameters, step-0 loss 3.2870)
// trained for the lecture's 1,001 steps, the lecture's per-layer lines for each Tanh layer with
// numbers in range and close to PyTorch's (`mm.lecture.torch`, after 1,001 steps), the same at step 0, the
// lecture's own printed lines reproduced with gain 1, and the histogram figures.
import assert from 'node:assert/strict';
import { ExecutedNotebook } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';
import { checkDeepTraining } from './deep-training';

const tanhOf = (key: 'step0' | 'after1001Steps') =>
  lecture.torch.deepNetwork[key].forward
    .filter((r) => r.type === 'Tanh')
    .map((r) => ({ ...r, saturated_percent: r.saturated_percent ?? NaN }));

const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));

/** The text output of the first code cell whose source contains `marker`. */
function cellOutput(nb: ExecutedNotebook, marker: string): string {
  const cell = nb.cells.find((c) => c.cell_type === 'code' && join(c.source).includes(marker));
  assert.ok(cell, `a code cell containing ${marker}`);
  return (cell.outputs ?? []).map((o) => join(o.text) + join(o.data?.['text/plain'])).join('\n');
}

const LINE = /^(?:.*?)layer (\d+) \(\s*Tanh\): mean ([+-]\d+\.\d\d), std (\d+\.\d\d), saturated: (\d+\.\d\d)%$/gm;

/** The lecture's lines `layer 2 (      Tanh): mean -0.00, std 0.63, saturated: 2.78%` in `text`. */
function parseLines(text: string, prefix = '') {
  const rows: { index: number; mean: number; std: number; saturated: number }[] = [];
  for (const m of text.matchAll(LINE)) {
    if (!m[0].startsWith(prefix)) continue;
    rows.push({ index: +m[1], mean: +m[2], std: +m[3], saturated: +m[4] });
  }
  return rows;
}

/** Rows `layer 2 (Tanh)  0.6323  0.6323  2.62%  2.62%` of a table: ours and PyTorch's std and saturation. */
function parseTable(table: string) {
  return table.split('\n').flatMap((line) => {
    const m = /^layer (\d+) \(Tanh\)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+)%\s*$/.exec(line);
    return m ? [{ index: +m[1], std: +m[2], torchStd: +m[3], saturated: +m[4], torchSaturated: +m[5] }] : [];
  });
}

function inRange(s: { saturated: number; std: number; mean: number }, where: string) {
  assert.ok(
    Number.isFinite(s.saturated) && s.saturated >= 0 && s.saturated <= 100,
    `${where}: saturated ${s.saturated}% in [0, 100]`,
  );
  assert.ok(s.std > 0 && s.std < 1, `${where}: a tanh output std ${s.std} in (0, 1)`);
  assert.ok(Math.abs(s.mean) <= 0.05, `${where}: mean ${s.mean} near 0`);
}

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;
  checkDeepTraining(out);

  // After 1,001 steps: the lecture's lines for the five Tanh layers (2, 5, 8, 11, 14).
  const torchAfter = tanhOf('after1001Steps');
  const after = parseLines(cellOutput(nb, 'Activation distribution after 1,001 steps'));
  assert.deepEqual(
    after.map((r) => r.index),
    [2, 5, 8, 11, 14],
  );
  after.forEach((r, k) => {
    inRange(r, `layer ${r.index} after 1,001 steps`);
    // std printed with 2 decimals (±0.005); 1,001 float32 steps drift from PyTorch's by well under 2%.
    assert.ok(
      Math.abs(r.std - torchAfter[k].std) <= 0.005 + 0.02 * torchAfter[k].std,
      `layer ${r.index}: std ${r.std} vs torch ${torchAfter[k].std}`,
    );
    // each value is 1/3,200 = 0.03125 points; allow 1 point (32 values crossing 0.97) of drift.
    assert.ok(
      Math.abs(r.saturated - torchAfter[k].saturated_percent) <= 1,
      `layer ${r.index}: saturated ${r.saturated}% vs torch ${torchAfter[k].saturated_percent}%`,
    );
  });
  // The same with 4 decimals in the table next to PyTorch's.
  const table = nb.tables.find((t) => t.startsWith("Tanh outputs after 1,001 steps: ours and PyTorch's"));
  assert.ok(table);
  const rows = parseTable(table);
  assert.equal(rows.length, 5);
  rows.forEach((r, k) => {
    assert.equal(r.index, torchAfter[k].index);
    assert.ok(
      Math.abs(r.std - torchAfter[k].std) <= 0.02 * torchAfter[k].std,
      `table: layer ${r.index} std ${r.std} vs torch ${torchAfter[k].std}`,
    );
    assert.ok(r.saturated >= 0 && r.saturated <= 100 && Math.abs(r.saturated - torchAfter[k].saturated_percent) <= 1);
    assert.equal(r.torchStd, +torchAfter[k].std.toFixed(4));
  });

  // The lecture's printed lines (its last run used gain 1.0), reproduced by our gain-1 run.
  const gain1 = cellOutput(nb, 'gain: 1');
  const ours1 = parseLines(gain1, 'ours, gain 1: ');
  const lecture = parseLines(gain1, 'the lecture:  ');
  assert.deepEqual(
    lecture.map((r) => [r.index, r.std, r.saturated]),
    [
      [2, 0.63, 2.78],
      [5, 0.64, 2.56],
      [8, 0.65, 2.25],
      [11, 0.65, 1.69],
      [14, 0.65, 1.88],
    ],
  );
  assert.equal(ours1.length, 5);
  ours1.forEach((r, k) => {
    inRange(r, `gain 1, layer ${r.index}`);
    assert.equal(r.std, lecture[k].std, `gain 1, layer ${r.index}: std as the lecture's`);
    assert.ok(
      Math.abs(r.saturated - lecture[k].saturated) <= 0.5,
      `gain 1, layer ${r.index}: saturated ${r.saturated}% vs the lecture's ${lecture[k].saturated}%`,
    );
  });
  assert.match(gain1, /^[0-5] of 5 lines identical$/m);

  // Step 0: one forward pass, PyTorch's to the printed digit.
  const torch0 = tanhOf('step0');
  const init = parseLines(cellOutput(nb, 'Activation distribution at initialisation (step 0)'));
  assert.deepEqual(
    init.map((r) => r.index),
    [2, 5, 8, 11, 14],
  );
  init.forEach((r, k) => {
    inRange(r, `layer ${r.index} at step 0`);
    assert.ok(
      Math.abs(r.std - torch0[k].std) <= 0.0051,
      `step 0 layer ${r.index}: std ${r.std} vs torch ${torch0[k].std}`,
    );
    assert.ok(
      Math.abs(r.saturated - torch0[k].saturated_percent) <= 0.0051,
      `step 0 layer ${r.index}: saturated ${r.saturated}% vs torch ${torch0[k].saturated_percent}%`,
    );
  });
  const table0 = nb.tables.find((t) => t.startsWith("Tanh outputs at step 0: ours and PyTorch's"));
  assert.ok(table0);
  parseTable(table0).forEach((r, k) =>
    assert.ok(Math.abs(r.std - torch0[k].std) <= 1e-3 * torch0[k].std + 5e-5, `table step 0: layer ${r.index}`),
  );

  // The healthy picture the markdown describes: stds within 10% of each other, a few percent saturated.
  for (const when of ['step 0:', 'after 1,001 steps:']) {
    const m = new RegExp(
      `^${when}\\s+std (\\d\\.\\d\\d) to (\\d\\.\\d\\d), saturated (\\d+\\.\\d\\d)% to (\\d+\\.\\d\\d)%$`,
      'm',
    ).exec(out);
    assert.ok(m, `the spread line ${when}`);
    assert.ok(+m[2] / +m[1] < 1.1 && +m[1] > 0.55 && +m[2] < 0.7, `${when} std ${m[1]} to ${m[2]}`);
    assert.ok(+m[3] >= 0 && +m[4] <= 5, `${when} saturated ${m[3]}% to ${m[4]}%`);
  }

  assert.deepEqual(nb.figures, [
    '[Plotly figure: Activation distribution after 1,001 steps]',
    '[Plotly figure: Activation distribution at initialisation (step 0)]',
    '[Plotly figure: Tanh outputs: step 0 and after 1,001 steps]',
  ]);
  assert.match(nb.markdown, /^# 06 · /m);
  assert.match(nb.markdown, /notebook 10/);
}
