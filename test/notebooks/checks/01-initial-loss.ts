// What 01-initial-loss must show (quick profile): the expected loss, the confidently-wrong demo,
// the lecture's step-0 losses of the original and the fixed network, the figures and the tables.
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ExecutedNotebook, escapeRegExp } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';

const num = (s: string) => Number(s);

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;
  assert.match(out, /run profile: quick/);

  // -ln(1/27)
  assert.equal(lecture.torch.expectedInitLoss.toFixed(4), '3.2958');
  assert.match(out, /expected loss at initialisation: -ln\(1\/27\) = 3\.2958\n/);

  // Four logits, correct class 2: uniform gives ln 4 whatever the value, confident-wrong a large loss.
  const demo = nb.tables.find((t) => t.startsWith('Cross-entropy of four logits'));
  assert.ok(demo, 'the table of the four-class demo');
  assert.match(demo, /all equal \(uniform\)\s+0\.00, 0\.00, 0\.00, 0\.00\s+0\.2500\s+1\.3863/);
  assert.match(demo, /all equal, but large\s+5\.00, 5\.00, 5\.00, 5\.00\s+0\.2500\s+1\.3863/);
  assert.match(demo, /confident and right\s+0\.00, 0\.00, 5\.00, 0\.00\s+0\.9802\s+0\.0200/);
  assert.match(demo, /confident and wrong\s+0\.00, 5\.00, 0\.00, 0\.00\s+0\.0066\s+5\.0200/);
  assert.match(demo, /random, randn \* 10/);

  // Random logits over 27 classes: -ln(1/27) at scale 0, then growing with the scale.
  const scaled = [...out.matchAll(/^scale ([0-9.]+): ([0-9.]+)$/gm)].map((m) => [num(m[1]), num(m[2])]);
  assert.equal(scaled.length, 12);
  assert.deepEqual(scaled[0], [0, 3.2958]);
  for (let k = 1; k < scaled.length; k++) assert.ok(scaled[k][1] > scaled[k - 1][1], `loss grows with the scale: ${scaled[k]}`);
  assert.ok(scaled[scaled.length - 1][1] > 30, 'scale 20 gives a loss above 30');

  // The original network: 11,897 parameters, huge logits, the lecture's step-0 loss.
  assert.equal(lecture.torch.stageParameterCounts.original, 11897);
  assert.match(out, /^parameters: 11897$/m);
  const logits = [...out.matchAll(/^logits of 1000 training examples: std ([0-9.]+), largest \|logit\| ([0-9.]+), loss ([0-9.]+)$/gm)];
  assert.equal(logits.length, 2, 'logits at init, before and after the fix');
  assert.ok(num(logits[0][1]) > 5 && num(logits[0][3]) > 15, `original logits are large: ${logits[0][0]}`);
  assert.ok(num(logits[1][1]) < 0.5 && num(logits[1][2]) < 1, `fixed logits are small: ${logits[1][0]}`);
  assert.ok(Math.abs(num(logits[1][3]) - 3.2958) < 0.05, `fixed loss at init near -ln(1/27): ${logits[1][0]}`);

  // Step-0 lines (torch's values, the same in both profiles) and the quick total of 2,000 steps.
  const step0 = [...out.matchAll(/^ {6}0\/ {3}2000: ([0-9.]+)$/gm)].map((m) => m[1]);
  assert.deepEqual(step0, [lecture.torch.stageStep0Losses.original.toFixed(4), lecture.torch.stageStep0Losses.fix_softmax.toFixed(4)]);
  assert.deepEqual(step0, ['27.8817', '3.3221']);
  assert.equal([...out.matchAll(/^ {3}1000\/ {3}2000: [0-9.]+$/gm)].length, 2, 'a line every 1,000 steps');

  assert.deepEqual(nb.figures, [
    '[Plotly figure: Random logits, 27 classes: the larger their scale, the larger the loss]',
    '[Plotly figure: Original initialisation: the hockey stick]',
    '[Plotly figure: Softmax fix (W2 * 0.01, b2 * 0): no hockey stick]',
    '[Plotly figure: The first 1,000 steps: original vs. fixed output layer]',
  ]);

  // Final losses: printed, in the table beside the lecture's, and recorded for later notebooks.
  const orig = out.match(/^original: train ([0-9.]+), dev ([0-9.]+)$/m);
  const fixed = out.match(/^fix softmax: train ([0-9.]+), dev ([0-9.]+)$/m);
  assert.ok(orig && fixed, 'final losses printed');
  for (const v of [orig[1], orig[2]]) assert.ok(num(v) > 2.0 && num(v) < 4.0, `original loss after 2,000 steps: ${v}`);
  for (const v of [fixed[1], fixed[2]]) assert.ok(num(v) > 2.0 && num(v) < 2.8, `fixed loss after 2,000 steps: ${v}`);
  assert.ok(num(fixed[1]) < num(orig[1]) && num(fixed[2]) < num(orig[2]), 'the fix trains faster');

  const table = nb.tables.find((t) => t.startsWith('Final losses'));
  assert.ok(table, 'the table of final losses');
  assert.match(table, /^Final losses after 2,000 steps \(quick profile\), beside the lecture's after 200,000$/m);
  assert.match(table, /^stage\s+initialisation\s+train\s+dev\s+lecture train\s+lecture dev\s*$/m);
  assert.match(table, new RegExp(`^original\\s+all randn\\s+${orig[1]}\\s+${orig[2]}\\s+${escapeRegExp(lecture.finalLossText('original', 'train'))}\\s+${escapeRegExp(lecture.finalLossText('original', 'dev'))}\\s*$`, 'm'));
  assert.match(table, new RegExp(`^fix softmax\\s+W2 \\* 0\\.01, b2 \\* 0\\s+${fixed[1]}\\s+${fixed[2]}\\s+${escapeRegExp(lecture.finalLossText('fix_softmax', 'train'))}\\s+${escapeRegExp(lecture.finalLossText('fix_softmax', 'dev'))}\\s*$`, 'm'));

  const results = JSON.parse(fs.readFileSync(path.join(nb.dir, 'results-quick.json'), 'utf8'));
  assert.equal(results.original.profile, 'quick');
  assert.equal(results.original.train.toFixed(4), orig[1]);
  assert.equal(results.original.dev.toFixed(4), orig[2]);
  assert.equal(results.fix_softmax.train.toFixed(4), fixed[1]);
  assert.equal(results.fix_softmax.dev.toFixed(4), fixed[2]);
  // Each labelled by its network: C, W1, b1, W2, b2 and the first step's loss.
  assert.deepEqual(results.original.network.shapes, [[27, 10], [30, 200], [200], [200, 27], [27]]);
  assert.ok(results.original.network.firstLoss > 20 && results.fix_softmax.network.firstLoss < 3.4, 'the step-0 losses of the two stages');
}
