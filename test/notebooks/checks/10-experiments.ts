// What 10-experiments must show: each experiment's grid of the four pictures with the lecture's printed
// lines, the effects the markdown describes (as numbers), the bonus statistics of a linear layer, and
// the deep network trained with batch norm: its losses and 20 sampled names.
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { ExecutedNotebook } from '../../helpers/executed';
import { EXPECTED } from '../../helpers/expected';
import { shownFigures } from '../../helpers/figures';
import { paramLines } from './08-parameter-gradients';

const EXPERIMENTS = [
  'gain 5/3, no batch norm',
  'gain 1, no batch norm',
  'gain 0.5, no batch norm',
  'gain 3, no batch norm',
  'fully linear (no tanh), gain 1',
  'learning rate 0.001 (too small)',
  'learning rate 1.0 (too large)',
  'batch norm, gain 5/3',
  'batch norm, gain 0.2',
  'batch norm, gain 3',
];
const SUBPLOTS = [
  'forward: activations',
  'backward: activation gradients',
  'weight gradients',
  'update:data ratio (log10)',
];
const SHAPES = ['(27, 10)', '(30, 100)', '(100, 100)', '(100, 100)', '(100, 100)', '(100, 100)', '(100, 27)'];

const { venvPython } = require('../../../tools/common');

const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));
const num = (s: string) => Number(s);

/** Everything printed by the code cells whose source contains `marker`. */
function cellOutput(nb: ExecutedNotebook, marker: string): string {
  const cells = nb.cells.filter((c) => c.cell_type === 'code' && join(c.source).includes(marker));
  assert.ok(cells.length > 0, `a cell with ${marker}`);
  return cells
    .flatMap((c) => c.outputs ?? [])
    .map((o) => join(o.text) + join(o.data?.['text/plain']))
    .join('\n');
}

/** The rows of a shown table (its text/plain), split on runs of 2+ spaces. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .slice(2)
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s{2,}/));
}

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;
  const E = EXPECTED.deep_network;

  // The figures: a grid per experiment, then the loss curve of the final training.
  assert.deepEqual(
    nb.figures,
    [...EXPERIMENTS, 'training loss of the deep network with batch norm'].map((t) => `[Plotly figure: ${t}]`),
  );
  const figs = shownFigures(nb);
  for (const f of figs.slice(0, EXPERIMENTS.length)) {
    const subtitles = (f.layout.annotations as { text: string }[]).map((a) => a.text);
    assert.deepEqual(subtitles, SUBPLOTS, `${f.title}: the four pictures`);
    const guide = f.data.find((t) => t.name === 'guide (-3)');
    assert.ok(guide, `${f.title}: the update:data picture has the guide line`);
    assert.deepEqual(guide!.y, [-3, -3]);
    assert.equal(guide!.xaxis, 'x4', 'the guide is in the fourth subplot');
    assert.equal(f.data.filter((t) => t.xaxis === 'x4').length, 8, `${f.title}: seven weights and the guide`);
    assert.equal(f.data.filter((t) => t.xaxis === 'x3').length, 7, `${f.title}: seven weight-gradient histograms`);
    for (const t of f.data.filter((t) => t.xaxis === 'x4' && t !== guide)) {
      assert.equal(t.y!.length, 200, `${f.title}: one ratio per quick step`);
      assert.ok(
        t.y!.every((v) => Number.isFinite(v)),
        `${f.title}: ${t.name} ratios finite`,
      );
    }
  }

  // Each experiment's steps, learning rate and last loss, and its printed statistics (the lecture's lines).
  for (const title of EXPERIMENTS) {
    const shown = nb.group(title);
    assert.equal(shown.steps, 200);
    assert.equal(shown['learning rate'], /too small/.test(title) ? 0.001 : /too large/.test(title) ? 1 : 0.1);
    // At learning rate 1.0 without batch norm the loss jumps between about 3.1 and 4.5 from step to step
    // (the point of that experiment): its last value depends on float32 rounding, so only its range counts.
    const high = /too large/.test(title) ? 5 : 3.6;
    assert.ok(shown['last loss'] > 2 && shown['last loss'] < high, `${title}: last loss ${shown['last loss']}`);
  }
  const saturations = [...out.matchAll(/saturated: (\S+)%$/gm)].map((m) => num(m[1]));
  assert.equal(saturations.length, 9 * 5, 'five Tanh layers in each of the nine experiments with tanh');
  for (const s of saturations) assert.ok(Number.isFinite(s) && s >= 0 && s <= 100, `saturated ${s}%`);
  const forwardStd = [
    ...out.matchAll(/^layer \d+ \(\s*(Tanh|Linear)\): mean [-+]\d\.\d\d, std (\d+\.\d\d)(, saturated|$)/gm),
  ];
  assert.equal(forwardStd.length, 50);
  assert.equal(forwardStd.filter((m) => m[1] === 'Linear').length, 5, 'the fully linear case shows its Linear layers');
  for (const m of forwardStd) assert.ok(num(m[2]) > 0.05 && num(m[2]) < 5, `forward std ${m[2]}`);
  const grads = [...out.matchAll(/^layer \d+ \(\s*(?:Tanh|Linear)\): mean [-+]\d\.\d{6}, std (\S+)$/gm)].map((m) =>
    num(m[1]),
  );
  assert.equal(grads.length, 50);
  for (const s of grads) assert.ok(s > 1e-5 && s < 1e-1, `gradient std ${s}`);
  const params = paramLines(out);
  assert.equal(params.length, 70);
  params.forEach((p, k) => {
    assert.equal(p.shape, SHAPES[k % 7]);
    assert.ok(Number.isFinite(p.ratio) && p.ratio > 0, `grad:data ratio ${p.ratio}`);
  });

  // The effects the markdown describes, from the summary table (quick: 200 steps, the lecture's seed).
  const summary = nb.tables.find((t) => t.startsWith('the experiments after 200 steps'));
  assert.ok(summary, 'the summary table');
  const rows = new Map(tableRows(summary!).map((r) => [r[0], r]));
  assert.deepEqual([...rows.keys()], EXPERIMENTS);
  const sat = (t: string) => num(rows.get(t)![2].replace('%', ''));
  const ud = (t: string) => num(rows.get(t)![3]);
  assert.equal(rows.get('fully linear (no tanh), gain 1')![2], '(no tanh)');
  assert.ok(sat('gain 3, no batch norm') > 30, 'gain 3 saturates a large share of the tanh outputs');
  assert.ok(sat('gain 0.5, no batch norm') < 1 && sat('gain 1, no batch norm') < 5, 'small gains hardly saturate');
  assert.ok(sat('gain 5/3, no batch norm') > sat('gain 1, no batch norm'));
  assert.ok(ud('learning rate 0.001 (too small)') < -4.5, 'lr 0.001: update:data far below -3');
  assert.ok(ud('learning rate 1.0 (too large)') > -2, 'lr 1.0: update:data far above -3');
  assert.ok(sat('learning rate 1.0 (too large)') > 30, 'lr 1.0 saturates the tanh');
  for (const t of ['batch norm, gain 5/3', 'batch norm, gain 0.2', 'batch norm, gain 3']) {
    assert.ok(sat(t) < 5, `${t}: batch norm keeps saturation low whatever the gain`);
  }
  assert.ok(
    ud('batch norm, gain 0.2') > ud('batch norm, gain 5/3') + 0.5,
    'small weights with batch norm: updates too large',
  );
  assert.ok(ud('batch norm, gain 3') < ud('batch norm, gain 5/3'), 'large weights with batch norm: smaller updates');

  // Why 5/3 for tanh and 1 for linear: the std of each hidden layer at initialisation.
  const init = nb.tables.find((t) => t.startsWith("std of each hidden layer's output at initialisation"));
  assert.ok(init);
  const initRows = new Map(tableRows(init!).map((r) => [r[0], r.slice(1).map(num)]));
  for (const v of initRows.get('tanh, gain 5/3')!) assert.ok(v > 0.6 && v < 0.8, `tanh 5/3: ${v}`);
  for (const v of initRows.get('no tanh, gain 1')!) assert.ok(v > 0.9 && v < 1.1, `linear 1: ${v}`);
  const shrink = initRows.get('tanh, gain 1')!;
  const grow = initRows.get('no tanh, gain 5/3')!;
  assert.ok(shrink[4] < shrink[0] * 0.7, 'tanh with gain 1 shrinks');
  assert.ok(grow[4] > 8, 'no tanh with gain 5/3 grows geometrically');

  // Bonus: the linear layer and the linear layer + batch norm.
  const lin = ['b = randn', 'b = randn / sqrt(1000)'].map((label) => {
    const g = nb.group(label);
    return [g['a std'], g['b std'], g['c std'], g['c grad std'], g['a grad std'], g['b grad std']];
  });
  const sq = Math.sqrt(1000);
  assert.ok(
    Math.abs(lin[0][2] / sq - 1) < 0.1 && Math.abs(lin[0][4] / sq - 1) < 0.1,
    'randn weights: c and a.grad grow by sqrt(1000)',
  );
  for (const v of [lin[1][2], lin[1][3], lin[1][4], lin[1][5]])
    assert.ok(Math.abs(v - 1) < 0.1, `scaled weights: ${v} near 1`);
  const { 'x std': xStd, 'out std': outStd } = nb.group('forward');
  const {
    'out grad std': outGrad,
    'x grad std': xGrad,
    'w grad std': wGrad,
    'inp grad std': inpGrad,
  } = nb.group('backward');
  assert.ok(Math.abs(xStd / sq - 1) < 0.1 && Math.abs(outStd - 1) < 1e-3 && Math.abs(outGrad - 1) < 0.1);
  assert.ok(
    Math.abs(xGrad * sq - 1) < 0.15 && Math.abs(wGrad * sq - 1) < 0.15 && Math.abs(inpGrad - 1) < 0.2,
    `${xGrad} ${wGrad} ${inpGrad}`,
  );

  // The final training: the lecture's first steps (step 0 and, lr 0.1 until 1,500, step 1000 too).
  assert.match(out, new RegExp(`^      0/   2000: ${E.loss_step0.toFixed(4)}$`, 'm'));
  assert.match(out, new RegExp(`^   1000/   2000: ${E.loss_step1000.toFixed(4)}$`, 'm'));
  const losses = [nb.number('train'), nb.number('val')];
  for (const l of losses) assert.ok(l > 2.0 && l < 2.7, `loss ${l} after 2,000 steps`);

  // The checkpoint: a new network loaded from it gives the trained network's train loss, and Python's
  // safetensors reads it with PyTorch's state_dict names.
  assert.deepEqual(
    nb.group('10-experiments.safetensors'),
    { tensors: 31, 'train loss of a new network loaded from it': losses[0] },
    "the reloaded network gives the trained network's train loss, to the last bit",
  );
  const r = spawnSync(
    venvPython(),
    [
      '-c',
      `import json, sys
from safetensors.numpy import load_file
print(json.dumps({k: list(v.shape) for k, v in load_file(sys.argv[1]).items()}))`,
      path.join(nb.dir, '10-experiments.safetensors'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const shapes = JSON.parse(r.stdout);
  assert.deepEqual(shapes['layer0.weight'], [30, 100]);
  assert.deepEqual(shapes['layer16.running_var'], [27]);
  assert.equal(Object.keys(shapes).length, 31);
  const count = Object.entries(shapes)
    .filter(([k]) => !k.includes('running'))
    .reduce((n, [, s]) => n + (s as number[]).reduce((a, b) => a * b, 1), 0);
  assert.equal(count, 47024, 'the 47,024 parameters of the lecture, and the running statistics');

  const sampled = cellOutput(nb, 'mm.sampleNames').trim().split('\n');
  assert.equal(sampled.length, 20, sampled.join(' '));
  for (const name of sampled) assert.match(name, /^[a-z]*\.$/);
  assert.ok(new Set(sampled).size > 10, 'the samples differ');

  // The way to the playground, from the export (dist/10-experiments.html beside dist/playground.html).
  assert.match(nb.markdown, /\[playground\]\(playground\.html\)/);
}
