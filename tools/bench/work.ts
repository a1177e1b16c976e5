/**
 * One benchmark work item on one TensorFlow.js backend, in this process; prints one JSON line.
 *   node --import tsx tools/bench/work.ts <work> <repeats>
 * The backend comes from MAKEMORE_BACKEND (set by tools/bench/run.js). Works:
 *   bn-mlp      the batch-norm MLP of the stage table: ms per training step (batch 32)
 *   deep-ud     the deep network (47,024 parameters) with update:data tracking: ms per step
 *   eval-train  evaluation of the whole training split (182,625 examples) with the batch-norm MLP: ms
 *   edited      the lecture's MLP as a learner edits it in a notebook, written out here by hand (ReLU,
 *               a second hidden layer, a layer norm from tf.moments): ms per training step (batch 32)
 *   probe       the deep network, one step at a time keeping every gradient (retainGrad and
 *               lib/train/loop.ts's sgdStepKeepingGrads, as the experiments notebook takes its last step): ms per step
 *   notebook    the full profile of one stage notebook: 200,000 steps of the batch-norm MLP, then
 *               train and dev evaluation: s
 * The training works time their steps after the first; the first (which traces, compiles and checks
 * the step) is timed on its own and reported as `firstStepMs`. tools/bench/torch_work.py does the same.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { loadData } from '../../lib/data/names';
import { sgdStepKeepingGrads } from '../../lib/train/loop';
import { retainGrad } from '../../lib/nn/layers';
import { DeepNetwork, stageNetwork } from '../../lib/nn/models';
import { crossEntropy, embed, parameter, randn } from '../../lib/tensor/ops';
import { Generator } from '../../lib/tensor/random';
import { LossFn, evaluate, train } from '../../lib/train/loop';
import { compiling } from '../../lib/compile/step';

const SEED = 2147483647;

/**
 * The `edited` network, as a learner would write it in a notebook cell (no lib/nn/models.ts):
 *   C [27, 10]; h1 = relu(C[X].view(B, 30) @ W1 + b1); hpre = h1 @ W2 + b2;
 *   hnorm = (hpre - mean) / sqrt(var + 1e-5) over axis 1 (biased variance, tf.moments);
 *   h2 = relu(lngain * hnorm + lnbias); logits = h2 @ W3 + b3; cross-entropy.
 * Drawn from g in this order: C (plain randn, as the lecture's table), W1, W2, W3 (randn / sqrt(fan_in));
 * the biases are zeros, the gain ones. tools/bench/torch_work.py writes the same network.
 */
function editedMLP(g: Generator): { parameters: tf.Variable[]; loss: LossFn } {
  const V = 27,
    nEmbd = 10,
    T = 3,
    nHidden = 200;
  const C = parameter(randn(g, [V, nEmbd]), 'C');
  const W1 = parameter(
    tf.tidy(() => randn(g, [nEmbd * T, nHidden]).div(Math.sqrt(nEmbd * T))),
    'W1',
  );
  const b1 = parameter(tf.zeros([nHidden]), 'b1');
  const W2 = parameter(
    tf.tidy(() => randn(g, [nHidden, nHidden]).div(Math.sqrt(nHidden))),
    'W2',
  );
  const b2 = parameter(tf.zeros([nHidden]), 'b2');
  const lngain = parameter(tf.ones([1, nHidden]), 'lngain');
  const lnbias = parameter(tf.zeros([1, nHidden]), 'lnbias');
  const W3 = parameter(
    tf.tidy(() => randn(g, [nHidden, V]).div(Math.sqrt(nHidden))),
    'W3',
  );
  const b3 = parameter(tf.zeros([V]), 'b3');
  const loss: LossFn = (X, Y) => {
    const embcat = embed(C, X);
    const h1 = tf.relu(embcat.matMul(W1).add(b1));
    const hpre = h1.matMul(W2).add(b2);
    const { mean, variance } = tf.moments(hpre, 1, true);
    const hnorm = hpre.sub(mean).div(variance.add(1e-5).sqrt());
    const h2 = tf.relu(lngain.mul(hnorm).add(lnbias));
    const logits = h2.matMul(W3).add(b3);
    return crossEntropy(logits, Y);
  };
  return { parameters: [C, W1, b1, W2, b2, lngain, lnbias, W3, b3], loss };
}

/**
 * The first step alone (it traces and compiles the step, or warms TensorFlow.js), then `steps` more:
 * the first step's loss and milliseconds, and the others' milliseconds per step.
 */
async function timed(first: () => Promise<number> | number, rest: (steps: number) => Promise<void>, steps: number) {
  let t0 = performance.now();
  const firstLoss = await first();
  const firstMs = performance.now() - t0;
  t0 = performance.now();
  await rest(steps);
  return { firstLoss, first: firstMs, perStep: (performance.now() - t0) / steps };
}

/** `train` for some steps (the lecture's loop), continuing the generator's stream: the first step's loss. */
const training =
  (options: Omit<Parameters<typeof train>[0], 'steps' | 'printEvery' | 'progress'>) => async (steps: number) =>
    10 ** (await train({ ...options, steps, printEvery: 0, progress: false })).lossi[0];

async function main() {
  const [work, repeatsArg] = process.argv.slice(2);
  const repeats = Number(repeatsArg ?? 5);
  const backend = await initBackend();
  const data = await loadData();
  const samples: number[] = [];
  const firsts: number[] = [];
  let unit = 'ms/step';
  let liveTensors = 0;
  let compiled: boolean | undefined = compiling();
  let kernelTimes: Record<string, number> | undefined;
  let firstLoss: number | undefined;
  for (let r = 0; r < repeats; r++) {
    const g = new Generator(SEED);
    if (work === 'notebook') {
      const net = stageNetwork('batchnorm', g);
      const steps = 200000;
      const t0 = performance.now();
      const res = await train({
        parameters: net.parameters,
        loss: net.loss,
        data: data.train,
        steps,
        generator: g,
        learningRate: (i) => (i < steps / 2 ? 0.1 : 0.01),
        printEvery: 0,
        progress: false,
      });
      compiled = res.compiled;
      evaluate(net.loss, data.train);
      evaluate(net.loss, data.dev);
      samples.push((performance.now() - t0) / 1000);
      unit = 's';
      net.dispose();
      continue;
    }
    if (work === 'eval-train') {
      const net = stageNetwork('batchnorm', g);
      await train({
        parameters: net.parameters,
        loss: net.loss,
        data: data.train,
        steps: 10,
        generator: g,
        learningRate: () => 0.1,
        printEvery: 0,
        progress: false,
      });
      const t0 = performance.now();
      evaluate(net.loss, data.train);
      samples.push(performance.now() - t0);
      unit = 'ms';
      net.dispose();
      continue;
    }
    // The training works: `steps` steps after the first, whose time (trace and compile) is reported apart.
    let run: (steps: number) => Promise<number> | number;
    let steps: number;
    let done: () => void;
    if (work === 'bn-mlp' || work === 'edited') {
      const net = work === 'bn-mlp' ? stageNetwork('batchnorm', g) : editedMLP(g);
      steps = 1000;
      run = training({
        parameters: net.parameters,
        loss: net.loss,
        data: data.train,
        generator: g,
        learningRate: (i) => (work === 'bn-mlp' && i >= steps / 2 ? 0.01 : 0.1),
      });
      done = () => net.parameters.forEach((p) => p.dispose());
    } else if (work === 'deep-ud') {
      const net = new DeepNetwork({ generator: g });
      steps = 200;
      run = training({
        parameters: net.parameters(),
        loss: net.loss,
        data: data.train,
        generator: g,
        learningRate: () => 0.1,
        trackUpdateRatios: true,
      });
      done = () => net.dispose();
    } else if (work === 'probe') {
      const net = new DeepNetwork({ generator: g });
      retainGrad(net.layers);
      const parameters = net.parameters();
      steps = 50;
      run = (n) => {
        let first = NaN;
        for (let i = 0; i < n; i++) {
          const s = sgdStepKeepingGrads({ parameters, loss: net.loss, data: data.train, generator: g, lr: 0.1 });
          if (i === 0) first = s.loss;
          tf.dispose(s.grads);
        }
        return first;
      };
      done = () => net.dispose();
    } else {
      throw new Error(`unknown work ${work}: use bn-mlp, deep-ud, eval-train, edited, probe or notebook`);
    }
    const t = await timed(
      () => run(1),
      async (n) => {
        await run(n);
      },
      steps,
    );
    firstLoss = t.firstLoss;
    firsts.push(t.first);
    samples.push(t.perStep);
    liveTensors = tf.memory().numTensors;
    done();
  }
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  // One more run of the training works, timing each kind of kernel of the compiled step.
  if (compiled && (work === 'bn-mlp' || work === 'deep-ud' || work === 'edited'))
    kernelTimes = await profileKernels(work, data);
  console.log(
    JSON.stringify({
      work,
      backend,
      unit,
      samples,
      firstStepMs: firsts.length ? firsts : undefined,
      peakMiB,
      liveTensors,
      compiled,
      firstLoss,
      kernelTimes,
    }),
  );
}

/** Milliseconds per step in each kind of kernel (`train`'s profileKernels), over 200 steps. */
async function profileKernels(work: string, data: Awaited<ReturnType<typeof loadData>>) {
  const g = new Generator(SEED);
  const net = work === 'bn-mlp' ? stageNetwork('batchnorm', g) : work === 'edited' ? editedMLP(g) : undefined;
  const deep = net ? undefined : new DeepNetwork({ generator: g });
  const res = await train({
    parameters: net ? net.parameters : deep!.parameters(),
    loss: net ? net.loss : deep!.loss,
    data: data.train,
    steps: 200,
    generator: g,
    learningRate: () => 0.1,
    printEvery: 0,
    progress: false,
    trackUpdateRatios: work === 'deep-ud',
    profileKernels: true,
  });
  net?.parameters.forEach((p) => p.dispose());
  deep?.dispose();
  return res.kernelTimes;
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
