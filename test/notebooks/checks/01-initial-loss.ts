// What 01-initial-loss must show (quick profile): the expected loss, the confidently-wrong demo,
// the lecture's step-0 losses of the original and the fixed network, the figures and the tables.
// Numbers are read from what the notebook shows with mm.show (nb.number, nb.group), not from its prose.
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ExecutedNotebook, esc, escapeRegExp } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;

  // -ln(1/27), computed in float32 by TensorFlow.js: torch's value up to float32 rounding.
  assert.equal(lecture.torch.expectedInitLoss.toFixed(4), '3.2958');
  const expected = nb.number('expected loss at initialisation, -ln(1/27)');
  assert.ok(
    Math.abs(expected - Math.log(27)) < 1e-6 && Math.abs(expected - lecture.torch.expectedInitLoss) < 1e-6,
    `-ln(1/27) = ${expected}`,
  );

  // Four logits, correct class 2: uniform gives ln 4 whatever the value, confident-wrong a large loss.
  const demo = nb.tables.find((t) => t.startsWith('Cross-entropy of four logits'));
  assert.ok(demo, 'the table of the four-class demo');
  assert.match(demo, /all equal \(uniform\)\s+0\.00, 0\.00, 0\.00, 0\.00\s+0\.2500\s+1\.3863/);
  assert.match(demo, /all equal, but large\s+5\.00, 5\.00, 5\.00, 5\.00\s+0\.2500\s+1\.3863/);
  assert.match(demo, /confident and right\s+0\.00, 0\.00, 5\.00, 0\.00\s+0\.9802\s+0\.0200/);
  assert.match(demo, /confident and wrong\s+0\.00, 5\.00, 0\.00, 0\.00\s+0\.0066\s+5\.0200/);
  assert.match(demo, /random, randn \* 10/);

  // Random logits over 27 classes: -ln(1/27) at scale 0, up to float32 rounding in the softmax and the mean
  // over 1,000 examples (4.6e-6 measured; the 4 printed decimals allowed 5e-5), then growing with the scale.
  const scaled = [0, 0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20].map((s) => nb.number(`scale ${s}`));
  assert.ok(Math.abs(scaled[0] - Math.log(27)) < 1e-5, `scale 0: ${scaled[0]}`);
  for (let k = 1; k < scaled.length; k++)
    assert.ok(scaled[k] > scaled[k - 1], `loss grows with the scale: ${scaled[k]}`);
  assert.ok(scaled[scaled.length - 1] > 30, 'scale 20 gives a loss above 30');

  // The original network: 11,897 parameters, huge logits, the lecture's step-0 loss.
  assert.equal(lecture.torch.stageParameterCounts.original, 11897);
  assert.equal(nb.number('parameters'), 11897);
  const [before, after] = nb.groups('logits of 1000 training examples', 2);
  assert.ok(before.std > 5 && before.loss > 15, `original logits are large: ${JSON.stringify(before)}`);
  assert.ok(after.std < 0.5 && after['largest |logit|'] < 1, `fixed logits are small: ${JSON.stringify(after)}`);
  assert.ok(Math.abs(after.loss - 3.2958) < 0.05, `fixed loss at init near -ln(1/27): ${after.loss}`);

  // Step-0 lines, the lecture's (torch's values, the same in both profiles), and the quick total of 2,000 steps.
  const step0 = [...out.matchAll(/^ {6}0\/ {3}2000: ([0-9.]+)$/gm)].map((m) => m[1]);
  assert.deepEqual(step0, [
    lecture.torch.stageStep0Losses.original.toFixed(4),
    lecture.torch.stageStep0Losses.fix_softmax.toFixed(4),
  ]);
  assert.deepEqual(step0, ['27.8817', '3.3221']);
  assert.equal([...out.matchAll(/^ {3}1000\/ {3}2000: [0-9.]+$/gm)].length, 2, 'a line every 1,000 steps');

  assert.deepEqual(nb.figures, [
    '[Plotly figure: Random logits, 27 classes: the larger their scale, the larger the loss]',
    '[Plotly figure: Original initialisation: the hockey stick]',
    '[Plotly figure: Softmax fix (W2 * 0.01, b2 * 0): no hockey stick]',
    '[Plotly figure: The first 1,000 steps: original vs. fixed output layer]',
  ]);

  // Final losses: shown, in the table beside the lecture's, and recorded for later notebooks.
  const orig = nb.group('original');
  const fixed = nb.group('fix softmax');
  for (const v of [orig.train, orig.dev]) assert.ok(v > 2.0 && v < 4.0, `original loss after 2,000 steps: ${v}`);
  for (const v of [fixed.train, fixed.dev]) assert.ok(v > 2.0 && v < 2.8, `fixed loss after 2,000 steps: ${v}`);
  assert.ok(fixed.train < orig.train && fixed.dev < orig.dev, 'the fix trains faster');

  const table = nb.tables.find((t) => t.startsWith('Final losses'));
  assert.ok(table, 'the table of final losses');
  assert.match(table, /^Final losses after 2,000 steps \(quick profile\), beside the lecture's after 200,000$/m);
  assert.match(table, /^stage\s+initialisation\s+train\s+dev\s+lecture train\s+lecture dev\s*$/m);
  assert.match(
    table,
    new RegExp(
      `^original\\s+all randn\\s+${esc(orig.train)}\\s+${esc(orig.dev)}\\s+${escapeRegExp(lecture.finalLossText('original', 'train'))}\\s+${escapeRegExp(lecture.finalLossText('original', 'dev'))}\\s*$`,
      'm',
    ),
  );
  assert.match(
    table,
    new RegExp(
      `^fix softmax\\s+W2 \\* 0\\.01, b2 \\* 0\\s+${esc(fixed.train)}\\s+${esc(fixed.dev)}\\s+${escapeRegExp(lecture.finalLossText('fix_softmax', 'train'))}\\s+${escapeRegExp(lecture.finalLossText('fix_softmax', 'dev'))}\\s*$`,
      'm',
    ),
  );

  // The recorded results are the numbers shown, to the last bit.
  const results = JSON.parse(fs.readFileSync(path.join(nb.dir, 'results-quick.json'), 'utf8'));
  assert.equal(results.original.profile, 'quick');
  assert.deepEqual([results.original.train, results.original.dev], [orig.train, orig.dev]);
  assert.deepEqual([results.fix_softmax.train, results.fix_softmax.dev], [fixed.train, fixed.dev]);
  // Each labelled by its network: C, W1, b1, W2, b2 and the first step's loss.
  assert.deepEqual(results.original.network.shapes, [[27, 10], [30, 200], [200], [200, 27], [27]]);
  assert.ok(
    results.original.network.firstLoss > 20 && results.fix_softmax.network.firstLoss < 3.4,
    'the step-0 losses of the two stages',
  );
}
