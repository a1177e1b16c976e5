// What 04-batchnorm must show (quick profile): batch norm built step by step on hpreact, why b1 is
// dropped, epsilon, the lecture's network trained with it (step-0 loss, parameter count), its running
// estimates against a calibration over the whole training set, the forward pass on a slider, and the
// summary of every stage (01 to 03 ran before it in the same run), each labelled as the lecture's network.
import assert from 'node:assert/strict';
import * as path from 'path';
import { ExecutedNotebook, esc, escapeRegExp } from '../../helpers/executed';
import { lecture } from '../../../lib/lecture';
import type { Stage } from '../../../lib/nn/models';
import { loadCheckpoint } from '../../../lib/nn/checkpoint';
import { shownFigures } from '../../helpers/figures';
import { EXPECTED } from '../../helpers/expected';

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;

  // Parameters C, W1, W2, b2, bngain, bnbias (no b1), as torch counts them.
  assert.equal(EXPECTED.stages_step0_loss.batchnorm.b1_drawn, false);
  assert.equal(lecture.torch.stageParameterCounts.batchnorm, 12097);
  assert.equal(nb.number('parameters'), 12097);

  // Step 1: per-neuron statistics over the batch, then standardised to mean 0, std 1.
  assert.match(out, /hpreact \[32,200\], its mean \[1,200\] and std \[1,200\]/);
  const standardised = nb.group('after standardising');
  assert.ok(standardised['largest |mean|'] < 1e-5);
  assert.ok(standardised['largest |std - 1|'] < 1e-5);
  // Step 2: gain 1 and bias 0 change nothing at init.
  assert.ok(
    nb.number('bngain [1,200], bnbias [1,200]; at init out equals the standardised hpreact: max |difference|') < 1e-6,
  );

  // b1 cancels: the output does not move and its gradient is zero up to rounding, unlike bnbias's.
  assert.ok(nb.number('with b1 added: max |change of the output|') < 1e-5);
  const grad = nb.group('largest |gradient|');
  assert.ok(grad.b1 < 1e-7);
  assert.ok(grad.bnbias > 1e-4);

  // Epsilon: a batch of 32 identical examples has std ~0; without eps garbage (NaN or values of size 1),
  // with eps 1e-5 practically 0.
  assert.ok(nb.number('std of hpreact over the batch: at most') < 1e-4);
  const values = (label: string) => {
    const m = out.match(new RegExp(`^${label}: (.*), \\.\\.\\.$`, 'm'));
    assert.ok(m, label);
    return m[1].split(', ').map(Number);
  };
  const noEps = values('without eps');
  assert.ok(
    noEps.some((v) => Number.isNaN(v) || Math.abs(v) > 0.1),
    `without eps: ${noEps}`,
  );
  const withEps = values('with eps = 1e-5');
  assert.ok(
    withEps.every((v) => Math.abs(v) < 1e-2),
    `with eps: ${withEps}`,
  );

  // The lecture's step-0 loss of this network (b1 not drawn), in the quick profile's format.
  assert.equal(lecture.torch.stageStep0Losses.batchnorm.toFixed(4), '3.3239');
  assert.equal(EXPECTED.batchnorm_stage.loss_step0.toFixed(4), '3.3239');
  assert.match(out, /^ {6}0\/ {3}2000: 3\.3239$/m);
  assert.match(out, /^ {3}1000\/ {3}2000: \d\.\d{4}$/m);

  // Trained 2,000 steps; evaluation with the running estimates.
  const { train, dev } = nb.group('running estimates');
  assert.ok(train > 2.1 && train < 2.7, `train loss ${train}`);
  assert.ok(dev > 2.1 && dev < 2.7 && Math.abs(dev - train) < 0.15, `dev loss ${dev}`);
  const losses = nb.tables.find((t) => t.startsWith('Loss after training, with the running estimates'));
  assert.ok(losses, 'the loss table');
  assert.match(
    losses,
    new RegExp(`^ours, batch norm \\(quick profile, 2000 steps\\) +${esc(train)} +${esc(dev)}`, 'm'),
  );
  assert.match(
    losses,
    new RegExp(
      `^lecture, batch norm +${escapeRegExp(lecture.finalLossText('batchnorm', 'train'))} +${escapeRegExp(lecture.finalLossText('batchnorm', 'dev'))}`,
      'm',
    ),
  );

  // Calibration: the running estimates are close to the whole-training-set statistics but, after only
  // 2,000 steps, still carry 0.999^2000 = 13.5% of their initial zeros and ones: differences of a few
  // tenths for the neurons with the largest means and stds, never 0.
  const dMean = nb.group('mean')['max |calibrated - running|'];
  const dStd = nb.group('std')['max |calibrated - running|'];
  assert.ok(dMean > 0.01 && dMean < 0.6, `mean difference ${dMean}`);
  assert.ok(dStd > 0.01 && dStd < 0.6, `std difference ${dStd}`);
  const { train: trainCal, dev: devCal } = nb.group('calibrated');
  assert.ok(Math.abs(trainCal - train) < 0.05 && Math.abs(devCal - dev) < 0.05, `calibrated ${trainCal} / ${devCal}`);
  assert.ok(trainCal < train + 0.005, `calibrated statistics should not be worse on train: ${trainCal} vs ${train}`);
  const cal = nb.tables.find((t) => t.startsWith('Batch norm: running against calibrated statistics (quick profile)'));
  assert.ok(cal, 'the calibration table');
  assert.match(cal, new RegExp(`^running estimates +${esc(train)} +${esc(dev)}`, 'm'));
  assert.match(cal, new RegExp(`^calibrated on the whole training set +${esc(trainCal)} +${esc(devCal)}`, 'm'));

  // The slider: a Plotly slider over 21 precomputed training steps (restyle, no kernel needed).
  const sliderTitle = nb.figures.find((f) => f.includes('(slider)'));
  assert.ok(sliderTitle, 'the slider figure');
  const neuron = Number(sliderTitle.match(/neuron (\d+) over training/)![1]);
  assert.ok(neuron >= 0 && neuron < 200);
  const slider = shownFigures(nb).find((f) => f.title === sliderTitle)!;
  const sliders = slider.layout.sliders as { steps: { label: string; method: string }[] }[];
  assert.equal(sliders.length, 1, 'the figure has "sliders" in its layout');
  assert.equal(sliders[0].steps.filter((s) => s.method === 'restyle').length, 21, 'one restyle step per snapshot');
  assert.equal(sliders[0].steps[0].label, '0');
  assert.equal(sliders[0].steps[20].label, '2000');
  const shown = nb.group('the slider');
  assert.deepEqual([shown.neuron, shown['after steps'], shown['slider steps']], [neuron, 2000, 21]);

  // The checkpoint, in the runner's output folder (dist/test/ for the tests, never dist/ itself).
  assert.deepEqual(nb.group('04-batchnorm.safetensors'), {
    tensors: 8,
    numbers: 12497,
    'tensors read back identical': 8,
  });
  const file = path.join(nb.dir, '04-batchnorm.safetensors');
  const { tensors, metadata } = loadCheckpoint(file);
  assert.deepEqual(metadata, { notebook: '04-batchnorm', profile: 'quick', steps: '2000' });
  assert.deepEqual(
    Object.entries(tensors).map(([k, t]) => `${k} ${t.shape}`),
    [
      'C 27,10',
      'W1 30,200',
      'W2 200,27',
      'b2 27',
      'bngain 1,200',
      'bnbias 1,200',
      'bnmean_running 1,200',
      'bnstd_running 1,200',
    ],
  );
  Object.values(tensors).forEach((t) => t.dispose());

  assert.deepEqual(nb.figures, [
    '[Plotly figure: Training loss with batch normalization]',
    '[Plotly figure: Running estimates against the calibrated statistics (one point per neuron)]',
    `[Plotly figure: Batch norm forward pass of neuron ${neuron} over training (slider)]`,
  ]);

  // The loss log of every stage: the lecture's column always; ours for every stage, since the runner
  // ran 01 to 03 before with the same results file, each labelled as the lecture's network (the
  // notebooks' own cells build the same networks as lib/nn/models.ts's stageNetwork).
  const summary = nb.tables.find((t) => t.startsWith('The loss log: every stage, ours beside the lecture'));
  assert.ok(summary, 'the summary table');
  const rows: [string, Stage][] = [
    ['original', 'original'],
    ['fix softmax confidently wrong', 'fix_softmax'],
    ['fix tanh layer too saturated at init', 'fix_tanh'],
    ['Kaiming init', 'kaiming'],
    ['batch norm', 'batchnorm'],
  ];
  const ours = "\\d\\.\\d{4} +\\d\\.\\d{4} +quick +the lecture's";
  for (const [name, stage] of rows) {
    const lt = escapeRegExp(lecture.finalLossText(stage, 'train'));
    const ld = escapeRegExp(lecture.finalLossText(stage, 'dev'));
    const cell = name === 'batch norm' ? `${esc(train)} +${esc(dev)} +quick +the lecture's` : ours;
    assert.match(summary, new RegExp(`^${name} {2,}.+? {2,}${cell} +${lt} +${ld} *$`, 'm'), name);
  }
}
