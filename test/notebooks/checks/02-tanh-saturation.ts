// What 02-tanh-saturation must show (quick profile): the hidden layer at step 0 with the softmax fix
// (torch's hpreact statistics and 60.95% saturated), the vanishing local gradient of tanh, the
// activation functions, the tanh fix (0.98% saturated, step-0 loss 3.3135), its training and tables.
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ExecutedNotebook, esc, escapeRegExp } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';
import { EXPECTED } from '../../helpers/expected';

const num = (s: string) => Number(s);

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;
  const stages = EXPECTED.stages_step0_loss;

  // Step-0 lines: the one-step look with the softmax fix, the one-step look with the tanh fix, then
  // the training run of the tanh fix (the same step 0). Quick total: 2000.
  const step0 = [...out.matchAll(/^ {6}0\/ {3}2000: ([0-9.]+)$/gm)].map((m) => m[1]);
  assert.deepEqual(
    step0,
    [stages.fix_softmax.loss, stages.fix_tanh.loss, stages.fix_tanh.loss].map((v: number) => v.toFixed(4)),
  );
  assert.deepEqual(step0, ['3.3221', '3.3135', '3.3135']);
  assert.equal([...out.matchAll(/^ {3}1000\/ {3}2000: [0-9.]+$/gm)].length, 1, 'one training run prints step 1000');

  // hpreact of the step-0 minibatch, against torch: our statistics are computed in double from the same
  // float32 values, torch's in float32 (1.7e-7 apart at most, measured), so 2e-6 leaves room for another
  // order of summation and is 75 times stricter than the 1.5e-4 that the 4 printed decimals allowed.
  const pre = nb.groups('hpreact', 2);
  for (const [m, stage] of [
    [pre[0], stages.fix_softmax],
    [pre[1], stages.fix_tanh],
  ] as const) {
    assert.ok(Math.abs(m.mean - stage.hpreact_mean) <= 2e-6, `hpreact mean ${m.mean} vs torch ${stage.hpreact_mean}`);
    assert.ok(Math.abs(m.std - stage.hpreact_std) <= 2e-6, `hpreact std ${m.std} vs torch ${stage.hpreact_std}`);
  }

  // Saturation |h| > 0.99 on the same minibatch: a count out of 6,400, torch's as a float32 mean (60.953121
  // for 3901 / 64 = 60.953125): equal up to float32 rounding. Dead neurons: none.
  const sat = nb.numbers('|h| > 0.99, % of the 32 x 200 activations', 2);
  assert.ok(
    Math.abs(sat[0] - stages.fix_softmax.h_saturated_099_percent) < 1e-5,
    `${sat[0]}% vs torch ${stages.fix_softmax.h_saturated_099_percent}%`,
  );
  assert.ok(
    Math.abs(sat[1] - stages.fix_tanh.h_saturated_099_percent) < 1e-5,
    `${sat[1]}% vs torch ${stages.fix_tanh.h_saturated_099_percent}%`,
  );
  assert.deepEqual(
    sat.map((v) => v.toFixed(2)),
    ['60.95', '0.98'],
  );
  assert.deepEqual(nb.numbers('dead neurons (white in all 32 rows)'), [0, 0]);

  // The local gradient of tanh: 1 - t^2 by the formula equals tf.grad, and vanishes as |t| -> 1.
  const tanhTable = nb.tables.find((t) => t.startsWith('The local gradient of tanh'));
  assert.ok(tanhTable, 'the table of the tanh gradient');
  const rows = [...tanhTable.matchAll(/^([0-9.]+)\s+([0-9.]+)\s+([0-9.e-]+)\s+([0-9.e-]+)\s*$/gm)].map((m) => [
    num(m[1]),
    num(m[2]),
    num(m[3]),
    num(m[4]),
  ]);
  assert.equal(rows.length, 8);
  assert.deepEqual(rows[0], [0, 0, 1, 1]);
  assert.deepEqual(rows[4].slice(0, 2), [2.6467, 0.99]);
  assert.ok(Math.abs(rows[4][2] - 0.0199) < 1e-4, `|t| = 0.99 lets through 1.99%: ${rows[4]}`);
  for (const [x, t, formula, autodiff] of rows) {
    assert.ok(Math.abs(Math.tanh(x) - t) < 2e-6, `tanh(${x}) = ${t}`);
    assert.ok(
      Math.abs(formula - autodiff) <= 1e-3 * Math.max(formula, autodiff) + 1e-12,
      `1 - t^2 = tf.grad at x = ${x}`,
    );
  }
  for (let k = 1; k < rows.length; k++)
    assert.ok(rows[k][2] <= rows[k - 1][2], 'the local gradient shrinks as x grows');
  assert.equal(rows[7][2], 0, 'tanh(10) is 1 in float32: no gradient at all');

  assert.deepEqual(nb.figures, [
    '[Plotly figure: h = tanh(hpreact) after the softmax fix: piled up at -1 and 1]',
    '[Plotly figure: hpreact after the softmax fix: far too broad for tanh]',
    '[Plotly figure: h.abs() > 0.99 after the softmax fix (white: saturated)]',
    '[Plotly figure: Activation functions (left) and their derivatives (right): where the derivative is 0, no gradient flows]',
    '[Plotly figure: h.abs() > 0.99 after the tanh fix (W1 * 0.2, b1 * 0.01)]',
    '[Plotly figure: h before and after the tanh fix]',
    '[Plotly figure: hpreact before and after the tanh fix]',
    '[Plotly figure: Training with the softmax and tanh fixes]',
  ]);

  // Before and after, beside torch.
  const cmp = nb.tables.find((t) => t.startsWith('The hidden layer at step 0'));
  assert.ok(cmp, 'the table before/after the tanh fix');
  const before = cmp.match(
    /^softmax fix only \(W1 \* 1, b1 \* 1\)\s+([0-9.]+)\s+5\.1807\s+60\.95%\s+60\.95%\s+0\s+([0-9.]+)\s*$/m,
  );
  const after = cmp.match(
    /^tanh fix \(W1 \* 0\.2, b1 \* 0\.01\)\s+([0-9.]+)\s+1\.0018\s+0\.98%\s+0\.98%\s+0\s+([0-9.]+)\s*$/m,
  );
  assert.ok(before && after, `rows of the comparison table:\n${cmp}`);
  assert.equal(before[1], pre[0].std.toFixed(4));
  assert.equal(after[1], pre[1].std.toFixed(4));
  assert.ok(num(before[2]) > 0.1 && num(before[2]) < 0.25, `mean 1 - h^2 before the fix: ${before[2]}`);
  assert.ok(num(after[2]) > 0.5 && num(after[2]) < 0.75, `mean 1 - h^2 after the fix: ${after[2]}`);

  // Final losses of the tanh fix, the table beside the lecture's, and the recorded result (the numbers shown).
  const fin = nb.group('fix tanh');
  for (const v of [fin.train, fin.dev]) assert.ok(v > 2.0 && v < 2.8, `loss after 2,000 steps: ${v}`);
  const table = nb.tables.find((t) => t.startsWith('Final losses'));
  assert.ok(table, 'the table of final losses');
  assert.match(table, /^Final losses after 2,000 steps \(quick profile\), beside the lecture's after 200,000$/m);
  assert.match(
    table,
    new RegExp(
      `^fix tanh\\s+also W1 \\* 0\\.2, b1 \\* 0\\.01\\s+${esc(fin.train)}\\s+${esc(fin.dev)}\\s+${escapeRegExp(lecture.finalLossText('fix_tanh', 'train'))}\\s+${escapeRegExp(lecture.finalLossText('fix_tanh', 'dev'))}\\s*$`,
      'm',
    ),
  );
  const results = JSON.parse(fs.readFileSync(path.join(nb.dir, 'results-quick.json'), 'utf8'));
  assert.equal(results.fix_tanh.profile, 'quick');
  assert.deepEqual([results.fix_tanh.train, results.fix_tanh.dev], [fin.train, fin.dev]);
  // The earlier stages come from notebook 01's results when it ran first (as in `npm test`).
  for (const [key, label] of [
    ['original', 'original'],
    ['fix_softmax', 'fix softmax'],
  ] as const) {
    const theirs = `${escapeRegExp(lecture.finalLossText(key, 'train'))}\\s+${escapeRegExp(lecture.finalLossText(key, 'dev'))}`;
    const ours = results[key]
      ? `${results[key].train.toFixed(4)}\\s+${results[key].dev.toFixed(4)}`
      : '\\(run 01 first\\)\\s+\\(run 01 first\\)';
    assert.match(table, new RegExp(`^${label}\\s+.*?\\s+${ours}\\s+${theirs}\\s*$`, 'm'));
  }
}
