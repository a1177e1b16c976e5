// Training against PyTorch: step-0 losses of every stage, one full SGD step of the batch-norm
// network, no tensor leaks, and a clear stop on a NaN loss.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { loadNames } from '../../lib/data/names';
import { splitDataset, Split } from '../../lib/data/dataset';
import { Generator } from '../../lib/tensor/random';
import { train, evaluate } from '../../lib/train/loop';
import { formatStep } from '../../lib/train/progress';
import { sampleNames } from '../../lib/train/sample';
import { crossEntropy } from '../../lib/tensor/ops';
import { countParameters } from '../../lib/nn/layers';
import { NAMES_FILE } from '../helpers/paths';
import { EXPECTED, maxAbs, maxAbsDiff } from '../helpers/expected';
import { stageNetwork, Stage } from '../../lib/nn/models';

let split: Split;
before(async () => {
  await initBackend();
  split = splitDataset(await loadNames({ file: NAMES_FILE }), 3, 42);
});

const SEED = 2147483647;

async function firstSteps<S extends Stage>(stage: S, steps: number, lr = 0.1) {
  const g = new Generator(SEED);
  const net = stageNetwork(stage, g);
  const losses: number[] = [];
  await train({
    parameters: net.parameters,
    loss: net.loss,
    data: split.train,
    steps,
    learningRate: () => lr,
    generator: g,
    printEvery: 0,
    progress: false,
    afterStep: (_, l) => losses.push(l),
  });
  return { net, losses };
}

// float32 losses: torch and tfjs sum in different orders, so the last bits differ. 1e-5 on a loss
// of about 3 is a few float32 ulps of the summands; the lecture prints 4 decimals.
const LOSS_TOL = 1e-5;

for (const [stage, key] of [
  ['original', 'original'],
  ['fix_softmax', 'fix_softmax'],
  ['fix_tanh', 'fix_tanh'],
  ['kaiming', 'kaiming'],
  ['batchnorm', 'batchnorm'],
] as [Stage, string][]) {
  test(`step-0 loss of the "${stage}" stage equals PyTorch's`, async () => {
    const { net, losses } = await firstSteps(stage, 1);
    const expected = EXPECTED.stages_step0_loss[key].loss;
    assert.ok(Math.abs(losses[0] - expected) < LOSS_TOL * Math.max(1, expected), `${losses[0]} vs ${expected}`);
    net.dispose();
  });
}

test("the batch-norm stage prints the lecture's step-0 line", async () => {
  const { net, losses } = await firstSteps('batchnorm', 1);
  assert.equal(formatStep(0, 200000, losses[0]), '      0/ 200000: 3.3239');
  net.dispose();
});

test("one SGD step of the batch-norm network gives PyTorch's updated parameters", async () => {
  const bn = EXPECTED.batchnorm_stage;
  const step0 = bn.steps[0];
  const { net, losses } = await firstSteps('batchnorm', 2);
  // After two steps we compare the step-1 loss; the parameters after step 0 are checked on a fresh run.
  assert.ok(Math.abs(losses[1] - bn.loss_step1) < LOSS_TOL, `step-1 loss ${losses[1]} vs ${bn.loss_step1}`);
  net.dispose();

  const again = await firstSteps('batchnorm', 1);
  for (const name of bn.parameter_order as string[]) {
    const ours = again.net.named[name].dataSync();
    const theirs = step0.params_after_update[name].data as number[];
    const grad = step0.grads[name].data as number[];
    // The update is p - 0.1 * grad: the error allowed is float32 rounding of p plus a relative 1e-4
    // of the step (gradients are sums of 32 to 6,000 float32 terms, in another order than PyTorch's).
    const tol = 4 * 1.2e-7 * maxAbs(theirs) + 1e-4 * 0.1 * maxAbs(grad) + 1e-9;
    const diff = maxAbsDiff(ours, theirs);
    assert.ok(diff <= tol, `${name}: max |ours - torch| = ${diff.toExponential(2)} > ${tol.toExponential(2)}`);
  }
  const running = maxAbsDiff(again.net.bnmeanRunning.dataSync(), step0.bnmean_running_after.data);
  assert.ok(running < 1e-6, `running mean differs by ${running}`);
  const runningStd = maxAbsDiff(again.net.bnstdRunning.dataSync(), step0.bnstd_running_after.data);
  assert.ok(runningStd < 1e-6, `running std differs by ${runningStd}`);
  again.net.dispose();
});

test('the number of live tensors is the same after every step', async () => {
  const g = new Generator(SEED);
  const net = stageNetwork('batchnorm', g);
  const counts: number[] = [];
  await train({
    parameters: net.parameters,
    loss: net.loss,
    data: split.train,
    steps: 20,
    learningRate: () => 0.1,
    generator: g,
    printEvery: 0,
    progress: false,
    trackUpdateRatios: true,
    afterStep: () => counts.push(tf.memory().numTensors),
  });
  assert.equal(new Set(counts).size, 1, `live tensors per step: ${counts.join(', ')}`);
  const before = tf.memory().numTensors;
  evaluate(net.loss, split.dev);
  assert.equal(tf.memory().numTensors, before, 'evaluate leaks no tensor');
  net.dispose();
});

for (const compile of ['1', '0']) {
  test(`a NaN loss stops training with an error naming the step; every parameter and running statistic as after the last step (${compile === '1' ? 'compiled' : 'eager'})`, async () => {
    const saved = process.env.MAKEMORE_COMPILE;
    process.env.MAKEMORE_COMPILE = compile;
    try {
      const g = new Generator(SEED);
      const net = stageNetwork('batchnorm', g);
      // A variable the loss reads at every step (a JavaScript value would be a constant of the compiled
      // step): set to NaN after step 2. The forward pass has assigned the running statistics by then.
      const poison = tf.variable(tf.scalar(1), false);
      const poisoned = (X: tf.Tensor2D, Y: tf.Tensor1D, training: boolean) =>
        net.loss(X, Y, training).mul(poison) as tf.Scalar;
      let before: ArrayLike<number>[] = [];
      const watched = [...net.parameters, net.bnmeanRunning, net.bnstdRunning];
      await assert.rejects(
        train({
          parameters: net.parameters,
          loss: poisoned,
          data: split.train,
          steps: 10,
          learningRate: () => 0.1,
          generator: g,
          printEvery: 0,
          progress: false,
          afterStep: (i) => {
            if (i !== 2) return;
            before = watched.map((v) => v.dataSync().slice());
            poison.assign(tf.scalar(NaN));
          },
        }),
        (e: Error) => {
          assert.equal(
            e.message,
            "The loss is NaN at step 3 (learning rate 0.1): training stopped before this step's update. " +
              'Every parameter and buffer (running statistics included) holds its value from after step 2. Lower the learning rate or check the initialisation.',
          );
          return true;
        },
      );
      watched.forEach((v, k) => assert.deepEqual(v.dataSync(), before[k], `variable ${k} is as after step 2`));
      const tensors = tf.memory().numTensors;
      poison.dispose();
      net.dispose();
      assert.ok(tf.memory().numTensors < tensors);
    } finally {
      if (saved === undefined) delete process.env.MAKEMORE_COMPILE;
      else process.env.MAKEMORE_COMPILE = saved;
    }
  });
}

test('evaluation uses the running statistics and matches a single full-batch pass', async () => {
  const { net } = await firstSteps('batchnorm', 5);
  const chunked = evaluate(net.loss, split.dev, 5000);
  const whole = evaluate(net.loss, split.dev, split.dev.size);
  // A float32 mean over 22,655 losses carries ~1e-5 of rounding; the chunked sum is accumulated in double.
  assert.ok(Math.abs(chunked - whole) < 1e-4, `${chunked} vs ${whole}`);
  assert.ok(chunked > 3 && chunked < 3.5, `dev loss after 5 steps ${chunked}`);
  net.dispose();
});

test('crossEntropy equals F.cross_entropy, loss and gradient, also for huge logits', () => {
  for (const c of EXPECTED.cross_entropy as {
    name: string;
    logits: { shape: number[]; data: number[] };
    targets: number[];
    loss: number;
    grad_logits: { data: number[] };
  }[]) {
    const logits = tf.tensor2d(c.logits.data, c.logits.shape as [number, number]);
    const Y = tf.tensor1d(c.targets, 'int32');
    const loss = crossEntropy(logits, Y).dataSync()[0];
    const grad = tf
      .grad((l: tf.Tensor) => crossEntropy(l, Y))(logits)
      .dataSync();
    // float32: a few ulps of the loss. The gradient is (softmax - onehot) / B, entries of size up to 1;
    // exp and log in float32 leave ~1e-7 of error in softmax, so 2.5e-7 absolute (we see 1.2e-7).
    assert.ok(Math.abs(loss - c.loss) <= 4e-7 * Math.max(1, Math.abs(c.loss)), `${c.name}: loss ${loss} vs ${c.loss}`);
    assert.ok(
      maxAbsDiff(grad, c.grad_logits.data) <= 2.5e-7,
      `${c.name}: gradient differs by ${maxAbsDiff(grad, c.grad_logits.data)}`,
    );
  }
});

test("the stage networks have the lecture's parameter counts, and leave no tensor when disposed", () => {
  for (const [stage, n] of [
    ['original', 11897],
    ['kaiming', 11897],
    ['batchnorm', 12097],
  ] as [Stage, number][]) {
    const before = tf.memory().numTensors;
    const net = stageNetwork(stage, new Generator(SEED));
    assert.equal(countParameters(net.parameters), n, stage);
    net.dispose();
    assert.equal(tf.memory().numTensors, before, `${stage} leaves no tensor`);
  }
});

test("sampling names from the bigram model gives PyTorch's names (makemore part 1: cexze, momasurailezitynn, ...)", () => {
  const ref = EXPECTED.multinomial_sampling;
  const P = tf.tensor2d(ref.P.data, ref.P.shape as [number, number]);
  const itos = ['.', ...'abcdefghijklmnopqrstuvwxyz'];
  // A "network" whose logits are log P[last character]: softmax(log p) = p.
  const logits = (X: tf.Tensor2D) => tf.tidy(() => P.gather(X.slice([0, 2], [1, 1]).reshape([1])).log());
  for (const seed of [2147483647, 2147483657]) {
    const names = sampleNames(logits, {
      generator: new Generator(seed),
      itos,
      blockSize: 3,
      count: 5,
      exponentialForSingleSample: true,
    });
    assert.deepEqual(names, ref[`seed_${seed}`].names);
  }
});
