/**
 * lib/lecture.ts (`mm.lecture`): data/lecture.json holds the values of test/fixtures/torch-expected.json
 * that the notebooks show (test/reference/lecture_json.py extracts them), and the lecture's final losses
 * print with the lecture's digits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lecture, TorchMoment } from '../../lib/lecture';
import { STAGES } from '../../lib/nn/models';
import { EXPECTED } from '../helpers/expected';

const torchDeep = EXPECTED.deep_network;

test("the torch values are the fixture's", () => {
  assert.equal(lecture.torch.version, EXPECTED.torch_version);
  assert.equal(lecture.torch.seed, EXPECTED.seed);
  assert.equal(lecture.torch.expectedInitLoss, EXPECTED.expected_init_loss);
  for (const [stage, v] of Object.entries(EXPECTED.stages_step0_loss) as [
    keyof typeof lecture.torch.stageStep0Losses,
    { loss: number; n_parameters: number },
  ][]) {
    assert.equal(lecture.torch.stageStep0Losses[stage], v.loss, stage);
    assert.equal(lecture.torch.stageParameterCounts[stage], v.n_parameters, stage);
  }
  const deep = lecture.torch.deepNetwork;
  assert.equal(deep.parameterCount, torchDeep.n_parameters);
  assert.deepEqual(deep.parameterNames, torchDeep.parameter_names);
  assert.equal(deep.lossStep0, torchDeep.loss_step0);
  assert.equal(deep.lossStep1000, torchDeep.loss_step1000);
  const moments: [TorchMoment, typeof torchDeep.step0][] = [
    [deep.step0, torchDeep.step0],
    [deep.after1001Steps, torchDeep.lecture_break_at_i1000],
  ];
  for (const [ours, theirs] of moments) {
    assert.deepEqual(
      ours.forward.map((r) => r.std),
      theirs.forward.map((r: { std: number }) => r.std),
    );
    assert.deepEqual(
      ours.backward.map((r) => r.std),
      theirs.backward_tanh_grads.map((r: { std: number }) => r.std),
    );
    assert.deepEqual(
      ours.parameters.map((r) => r.grad_data_ratio),
      theirs.parameters.map((r: { grad_data_ratio: number }) => r.grad_data_ratio),
    );
  }
  assert.deepEqual(deep.updateRatiosLog10.step0, torchDeep.ud_log10.per_step[0]);
  assert.deepEqual(deep.updateRatiosLog10.step1000, torchDeep.ud_log10.per_step[1000]);
});

test("the lecture's final losses, as it printed them", () => {
  assert.deepEqual(
    STAGES.map((s) => `${lecture.finalLossText(s, 'train')} / ${lecture.finalLossText(s, 'dev')}`),
    ['2.1245 / 2.1682', '2.07 / 2.13', '2.0356 / 2.1027', '2.0377 / 2.1070', '2.0668 / 2.1048'],
  );
  assert.equal(lecture.gain1.forwardLines.length, 5);
  assert.equal(lecture.gain1.gradientLines[0], 'layer 2 (      Tanh): mean +0.000000, std 2.640701e-03');
});
