// What 09-update-ratio must show: the lecture's 1,001 steps with the update:data ratios recorded (equal
// to PyTorch's), the chart of the 2-D weights with its guide line at -3, and the network without batch
// norm, whose last layer is the outlier.
import assert from 'node:assert/strict';
import { ExecutedNotebook } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';
import { EXPECTED } from '../../helpers/expected';
import { shownFigures } from '../../helpers/figures';

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;
  const E = EXPECTED.deep_network;
  assert.match(out, /run profile: quick/);
  assert.match(out, new RegExp(`^      0/   1001: ${lecture.torch.deepNetwork.lossStep0.toFixed(4)}$`, 'm'));
  assert.match(out, new RegExp(`^   1000/   1001: ${lecture.torch.deepNetwork.lossStep1000.toFixed(4)}$`, 'm'));
  assert.match(out, /^1001 steps recorded, 19 parameters each$/m);

  assert.deepEqual(nb.figures, [
    '[Plotly figure: update:data ratio over 1,001 steps, with batch norm]',
    '[Plotly figure: update:data ratio over 1,001 steps, without batch norm]',
  ]);
  const figs = shownFigures(nb);
  for (const f of figs) {
    const guide = f.data.find((t) => t.name === 'guide (-3)');
    assert.ok(guide, `${f.title} has the guide line`);
    assert.deepEqual(guide!.y, [-3, -3]);
    assert.deepEqual(guide!.x, [0, 1000]);
    const lines = f.data.filter((t) => t !== guide);
    assert.equal(lines.length, 7, `${f.title}: C and the six Linear weights`);
    for (const t of lines) {
      assert.equal(t.y!.length, 1001);
      assert.ok(
        t.y!.every((v) => Number.isFinite(v) && v > -7 && v < 1),
        `${t.name}: ratios in a sane range`,
      );
    }
  }
  assert.deepEqual(
    figs[0].data.slice(0, 7).map((t) => t.name),
    [
      '0 C (27, 10)',
      '1 layer0.weight (30, 100)',
      '4 layer3.weight (100, 100)',
      '7 layer6.weight (100, 100)',
      '10 layer9.weight (100, 100)',
      '13 layer12.weight (100, 100)',
      '16 layer15.weight (100, 27)',
    ],
  );

  // The recorded ratios against PyTorch's, at every step of the chart: log10 of a ratio of stds, where
  // float32 rounding differences (measured ~1e-6 relative after 1,001 steps) are ~1e-6 in log10.
  // 1e-3 (0.2% in the ratio) fails on any real difference: a step of another minibatch, the std taken
  // before the update, another learning rate (a whole unit per factor 10).
  const torchUd = E.ud_log10.per_step as number[][];
  const idx = [0, 1, 4, 7, 10, 13, 16];
  figs[0].data.slice(0, 7).forEach((t, j) => {
    let worst = 0;
    t.y!.forEach((v, s) => {
      worst = Math.max(worst, Math.abs(v - torchUd[s][idx[j]]));
    });
    assert.ok(worst < 1e-3, `${t.name}: largest difference to PyTorch's ud ${worst}`);
  });
  // The table of step 0 and step 1000, printed with 4 decimals.
  assert.equal(nb.tables.length, 1);
  const rows = nb.tables[0].split('\n').filter((l) => /^(C|layer\d+\.weight) /.test(l));
  assert.equal(rows.length, 7);
  rows.forEach((r, j) => {
    const v = r
      .trim()
      .split(/\s{2,}/)
      .slice(2)
      .map(Number);
    assert.equal(v.length, 4, r);
    assert.ok(Math.abs(v[0] - v[1]) <= 2e-4 && Math.abs(v[2] - v[3]) <= 2e-4, `ours vs PyTorch: ${r}`);
    assert.ok(Math.abs(v[1] - torchUd[0][idx[j]]) < 1e-4 && Math.abs(v[3] - torchUd[1000][idx[j]]) < 1e-4, r);
  });

  // Without batch norm, the last layer's line is above all the others at every printed step.
  const steps = [
    ...out.matchAll(/^step +(\d+): last layer (-?\d+\.\d+), the other weights (-?\d+\.\d+) to (-?\d+\.\d+)$/gm),
  ];
  assert.deepEqual(
    steps.map((m) => Number(m[1])),
    [0, 10, 100, 500, 1000],
  );
  for (const m of steps) {
    assert.ok(Number(m[2]) > Number(m[4]) + 0.5, `step ${m[1]}: last layer ${m[2]} far above the others (max ${m[4]})`);
  }
  const lastAt = steps.map((m) => Number(m[2]));
  assert.ok(lastAt[0] > lastAt[4] + 0.5, "the last layer's ratio comes down as it learns");
}
