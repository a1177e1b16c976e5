// What 05-layers must show: the layers next to torch.nn, the deep network built by hand (47,024
// parameters), one minibatch through it with PyTorch's step-0 statistics and loss 3.2870, the
// unbiased-variance note, and mm.DeepNetwork equal to the hand-built network.
import assert from 'node:assert/strict';
import * as fs from 'fs';
import { ExecutedNotebook, join } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';
import { EXPECTED } from '../../helpers/expected';

const STEP0 = EXPECTED.deep_network.step0;

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;

  // The comparison table: ours next to torch.nn and the lecture's classes.
  const compare = nb.tables.find((t) => t.startsWith('The layers of "PyTorch-ifying the code"'));
  assert.ok(compare, 'the comparison table with torch.nn is shown');
  for (const s of [
    'new mm.Linear(fanIn, fanOut, { bias, generator })',
    'torch.nn.Linear(in_features, out_features, bias=True)',
    'new mm.BatchNorm1d(dim, { eps, momentum })',
    'runningMean, runningVar',
    'mm.retainGrad(layers), then layer.outGrad',
    'layer.out.retain_grad(), then layer.out.grad',
    'biased (divides by n) to normalise',
  ]) {
    assert.ok(compare.includes(s), `comparison table mentions ${s}`);
  }
  // The source of BatchNorm1d's forward pass (mm.showSource), a TypeScript block in Markdown.
  const source = nb.outputs
    .map((o) => join(o.data?.['text/markdown']))
    .find((m) => m.startsWith('`BatchNorm1d.forward` in `lib/nn/layers.ts`'));
  assert.ok(source, 'the source of BatchNorm1d.forward is shown');
  assert.match(source, /^```typescript\nforward\(x: tf\.Tensor\): tf\.Tensor \{$/m);
  assert.match(source, /const xhat = xc\.div\(sd\);/);
  assert.match(
    source,
    /dx = gamma \/ \(n \* sd\) \* \(n \* dy - sum\(dy\) - n \/ \(n - 1\) \* xhat \* sum\(dy \* xhat\)\)/,
  );
  assert.match(source, /\n\}\n```\n$/);
  // The export highlights it (nbconvert's Markdown renderer, Pygments).
  const html = fs.readFileSync(nb.htmlFile, 'utf8');
  assert.ok(
    /<div class="highlight"><pre><span><\/span><span class="nx">forward<\/span>/.test(html),
    'the export shows the source highlighted',
  );

  // The parameter count, printed as the lecture prints it, and the per-layer table.
  assert.match(out, /^47024$/m);
  assert.equal(lecture.torch.deepNetwork.parameterCount, 47024);
  const params = nb.tables.find((t) => t.startsWith('Parameters of the deep network'));
  assert.ok(params);
  assert.match(params, /^0\s+Linear\s+weight \[30, 100\]\s+3000\s*$/m);
  assert.match(params, /^16\s+BatchNorm1d\s+gamma \[27\], beta \[27\]\s+54\s*$/m);
  assert.match(params, /^\s+total\s+47024\s*$/m);

  // One minibatch through the layers: shapes and the statistics PyTorch gives at step 0.
  const fwd = nb.tables.find((t) => t.startsWith('One minibatch of 32 through the layers'));
  assert.ok(fwd);
  const rows = new Map<number, { type: string; shape: string; mean: number; std: number }>();
  for (const line of fwd.split('\n')) {
    const m = /^(\d+)\s+(\w+)\s+(\[[\d, ]+\])\s+(-?[\d.]+)\s+([\d.]+)\s*$/.exec(line);
    if (m) rows.set(+m[1], { type: m[2], shape: m[3], mean: +m[4], std: +m[5] });
  }
  assert.equal(rows.size, 17, 'a row for each of the 17 layers');
  assert.match(fwd, /C\[Xb\]\.view\(32, -1\)\s+\[32, 30\]/);
  for (const r of STEP0.forward as { index: number; type: string; mean: number; std: number }[]) {
    const row = rows.get(r.index)!;
    assert.equal(row.type, r.type);
    assert.equal(row.shape, r.index === 15 || r.index === 16 ? '[32, 27]' : '[32, 100]');
    // printed with 4 decimals: within 1e-4 of torch's plus rounding
    assert.ok(Math.abs(row.std - r.std) <= 1.5e-4, `layer ${r.index} std ${row.std} vs torch ${r.std}`);
    assert.ok(Math.abs(row.mean - r.mean) <= 1.5e-4, `layer ${r.index} mean ${row.mean} vs torch ${r.mean}`);
  }
  assert.equal(STEP0.loss.toFixed(4), '3.2870');
  // torch's loss of this minibatch, up to float32 rounding (the 4 printed decimals allowed 5e-5).
  assert.ok(
    Math.abs(nb.number('loss at step 0') - STEP0.loss) < 1e-5,
    `loss at step 0: ${nb.number('loss at step 0')} vs torch ${STEP0.loss}`,
  );

  // Unbiased (lecture) vs biased (torch.nn) batch variance.
  const bnStd = nb.group('std after batch norm');
  const unbiased = bnStd['unbiased batch variance (the lecture, ours)'];
  const biased = bnStd['biased batch variance (torch.nn.BatchNorm1d)'];
  assert.equal(unbiased.toFixed(4), '0.9844');
  assert.ok(biased >= 1 && biased < 1.001, `biased: ${biased}`);
  // Normalised by the unbiased variance, the std is sqrt(31/32) of the biased one's (eps aside): 32 rows.
  assert.ok(Math.abs(unbiased / biased - Math.sqrt(31 / 32)) < 1e-4, `unbiased / biased = ${unbiased / biased}`);

  // The library's DeepNetwork is the same network.
  assert.deepEqual(nb.group('mm.DeepNetwork'), { parameters: 47024, tensors: 19 });
  assert.ok(
    out.includes(`  ${lecture.torch.deepNetwork.parameterNames.join(', ')}`),
    "parameter names as PyTorch's state_dict",
  );
  assert.equal(nb.number('largest difference from the hand-built parameters'), 0);
  assert.equal(nb.number("first minibatch: indices equal to the hand-built one's"), 32);
  assert.equal(
    nb.number('mm.DeepNetwork loss at step 0'),
    nb.number('loss at step 0'),
    'the same loss, to the last bit',
  );

  assert.deepEqual(nb.figures, []);
  assert.match(nb.markdown, /^# 05 · /m);
}
