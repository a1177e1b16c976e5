// What 03-kaiming-init must show (quick profile): the std of x @ w for several scales of w, the
// 1/sqrt(fan_in) rule, the gains table, the library's Kaiming draw, and the stage network with
// Kaiming init (the lecture's step-0 loss and parameter count), trained, with its losses recorded.
import assert from 'node:assert/strict';
import { ExecutedNotebook, esc, escapeRegExp } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';
import { EXPECTED } from '../../helpers/expected';

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;

  // x: 1000 x 10 unit gaussian, 10,000 values: the std of a sample std is about 1/sqrt(2 * 10000) = 0.007,
  // so +-0.03 is over 4 sigma.
  const xStd = nb.group('x').std;
  assert.ok(Math.abs(xStd - 1) < 0.03, `std of x ${xStd}`);

  // y = x @ (w * s), w 10 x 200 unit gaussian: Var(y) = 10 s^2. The estimate over 1000 x 200 values is
  // not 200,000 independent samples: given w, the variance is mean_j |w_j|^2 (chi-square with 10 degrees
  // of freedom over 200 columns: relative std sqrt(20/200)/10 = 3.2%), plus the 1000 rows of x
  // (relative std sqrt(20/1000)/10 = 1.4%): about 3.5% on the variance, 1.75% on the std. We allow 8%
  // (over 4 sigma).
  const expectStd = (label: string, scale: number) => {
    const y = nb.group(`y = x @ (w * ${label})`);
    const target = Math.sqrt(10) * scale;
    assert.ok(Math.abs(y['sqrt(10) * scale'] - target) < 1e-12, `the target shown for ${label}`);
    assert.ok(
      Math.abs(y.std / target - 1) < 0.08,
      `std of y for scale ${label}: ${y.std}, expected about ${target.toFixed(4)}`,
    );
    return y.std;
  };
  const s1 = expectStd('1', 1);
  const sInv = expectStd('1/sqrt(10)', 1 / Math.sqrt(10));
  expectStd('0.2', 0.2);
  expectStd('5', 5);
  // The same w times different scales: the stds are proportional up to float32 rounding (about 1e-7
  // relative; the 4 printed decimals used to need 2e-3).
  assert.ok(Math.abs(s1 / sInv - Math.sqrt(10)) < 1e-5, `std ratio scale 1 / scale 1/sqrt(10) = ${s1 / sInv}`);

  // 1/sqrt(fan_in) keeps the std at 1 for every fan-in (1000 x 200 outputs each; same tolerance argument).
  for (const fanIn of [10, 30, 100, 1000]) {
    const s = nb.number(`fan_in ${fanIn}: std of x @ (w / sqrt(fan_in))`);
    assert.ok(Math.abs(s - 1) < 0.08, `fan_in ${fanIn}: std ${s}`);
  }

  // Ten tanh layers: gain 1 shrinks the activations, 5/3 keeps them steady, 3 saturates them.
  const lastStd = (label: string) => {
    const g = nb.group(`gain ${label}: std per layer`);
    return { last: g['10:'], saturated: g['last layer saturated (|a| > 0.97), %'] };
  };
  const g1 = lastStd('1'),
    g53 = lastStd('5/3'),
    g3 = lastStd('3');
  assert.ok(g1.last < 0.35, `gain 1: last std ${g1.last}`);
  assert.ok(g53.last > 0.55 && g53.last < 0.75, `gain 5/3: last std ${g53.last}`);
  assert.ok(g3.saturated > 20 && g53.saturated < 15, `saturation gain 3 ${g3.saturated}%, 5/3 ${g53.saturated}%`);

  // The gains table, against torch's calculate_gain.
  const gains = nb.tables.find((t) => t.startsWith('Recommended gains'));
  assert.ok(gains, 'the gains table');
  const cg = EXPECTED.calculate_gain;
  const row = (name: string, formula: string, value: number) =>
    assert.match(
      gains,
      new RegExp(
        `^${name.replace(/[{}/()]/g, '\\$&')} +${formula.replace(/[()/^+]/g, '\\$&')} +${value.toFixed(4).replace('.', '\\.')} *$`,
        'm',
      ),
    );
  row('Linear / Identity', '1', cg.linear);
  row('Sigmoid', '1', cg.sigmoid);
  row('Tanh', '5/3', cg.tanh);
  row('ReLU', 'sqrt(2)', cg.relu);
  row('Leaky Relu', 'sqrt(2 / (1 + negative_slope^2))', cg.leaky_relu);
  row('SELU', '3/4', cg.selu);
  assert.deepEqual(
    nb.group('calculateGain'),
    { tanh: cg.tanh, relu: cg.relu },
    "calculateGain is torch's, to the last bit",
  );

  // kaimingNormal draws the lecture's W1 (std of the actual draws 0.3107), up to float32 rounding.
  assert.equal(nb.number('target std (5/3) / sqrt(30)'), 5 / 3 / Math.sqrt(30));
  const kaiming = nb.group('kaimingNormal([30, 200])');
  assert.ok(Math.abs(kaiming.std - 0.3107) < 5e-4, `std of the draws ${kaiming.std}`);
  assert.ok(kaiming['max |difference| from randn * (5/3) / sqrt(30)'] < 1e-6);

  // The stage network: parameter count and the lecture's step-0 loss (torch's value, 4 decimals).
  assert.equal(lecture.torch.stageParameterCounts.kaiming, 11897);
  assert.equal(nb.number('parameters'), 11897);
  assert.equal(lecture.torch.stageStep0Losses.kaiming.toFixed(4), '3.3179');
  assert.match(out, /^ {6}0\/ {3}2000: 3\.3179$/m);
  assert.match(out, /^ {3}1000\/ {3}2000: \d\.\d{4}$/m);
  const sat = nb.group('at init')['|h| > 0.99, % of the values'];
  assert.ok(sat > 1 && sat < 30, `saturation at init ${sat}%`);

  // Trained: 2,000 steps bring the loss from 3.3 to about 2.3-2.4.
  const { train, dev } = nb.group('Kaiming init');
  assert.ok(train > 2.1 && train < 2.6, `train loss ${train}`);
  assert.ok(dev > 2.1 && dev < 2.6 && Math.abs(dev - train) < 0.15, `dev loss ${dev}`);
  const losses = nb.tables.find((t) => t.startsWith('Loss after training'));
  assert.ok(losses, 'the loss table');
  assert.match(
    losses,
    new RegExp(`^ours, Kaiming init \\(quick profile, 2000 steps\\) +${esc(train)} +${esc(dev)}`, 'm'),
  );
  assert.match(
    losses,
    new RegExp(
      `^lecture, Kaiming init +${escapeRegExp(lecture.finalLossText('kaiming', 'train'))} +${escapeRegExp(lecture.finalLossText('kaiming', 'dev'))}`,
      'm',
    ),
  );
  assert.match(
    losses,
    new RegExp(
      `^lecture, W1 \\* 0\\.2 \\(notebook 02\\) +${escapeRegExp(lecture.finalLossText('fix_tanh', 'train'))} +${escapeRegExp(lecture.finalLossText('fix_tanh', 'dev'))}`,
      'm',
    ),
  );

  assert.deepEqual(nb.figures, [
    '[Plotly figure: Histograms of x and of y = x @ (w * scale)]',
    '[Plotly figure: std of y = x @ (w * scale) against the scale of w]',
    '[Plotly figure: Kaiming init: hpreact and h at initialisation]',
    '[Plotly figure: Training loss with Kaiming init]',
  ]);
}
