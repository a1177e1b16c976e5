/**
 * The playground's Web Worker: trains the lecture's deep network with the project's own library, as
 * the notebooks do, and sends the page the printed lines and the four pictures while it trains.
 *
 * The steps are those of notebook 10's `experiment` (and the same numbers as notebook 06's run): the
 * network from the seed, `train` with the update:data ratios, each stretch of steps ending with one
 * `sgdStepKeepingGrads` that keeps the gradients for the third picture. The generator draws the same minibatches
 * in the same order whatever the stretches are, so the numbers do not depend on them.
 */
import * as tf from '@tensorflow/tfjs';
import kernelBytes from '../lib/assembly/build/kernels.wasm';
import kernelBytesFma from '../lib/assembly/build/kernels-fma.wasm';
import { useKernelModule } from '../lib/compile/simd';
import { buildVocabulary, splitDataset, Dataset } from '../lib/data/dataset';
import * as ex from '../lib/viz/pictures';
import { registerKernelFixes } from '../lib/env/kernel-fixes';
import { retainGrad } from '../lib/nn/layers';
import { DeepNetwork } from '../lib/nn/models';
import { lossCurve } from '../lib/viz/plots';
import { Generator } from '../lib/tensor/random';
import { sgdStepKeepingGrads, train } from '../lib/train/loop';
import { formatStep } from '../lib/train/progress';
import type { FromWorker, Pictures, ToWorker } from './messages';
import { Settings } from './settings';

/** names.txt, one name a line: put here by tools/build-playground.ts. */
declare const NAMES_TEXT: string;

/** The notebooks print the loss every 1,000 steps (notebook 06: steps 0 and 1,000 of 1,001). */
const PRINT_EVERY = 1000;
/** New pictures about twice a second (drawing them takes the page a while): each stretch of steps takes about this long. */
const STRETCH_MS = 500;

const send = (message: FromWorker) => self.postMessage(message);
const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

let stopAsked = false;

self.onmessage = (event: MessageEvent<ToWorker>) => {
  if (event.data.type === 'stop') stopAsked = true;
  else
    run(event.data.settings).catch((e) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
};

/** As lib/env/backend.ts's initBackend, but always TensorFlow.js's plain JavaScript backend (see README). */
async function setUp(): Promise<void> {
  tf.enableProdMode();
  registerKernelFixes();
  if (!(await tf.setBackend('cpu'))) throw new Error("TensorFlow.js's cpu backend did not start");
  // The browser picks: kernels-fma.wasm where it has relaxed SIMD (Chrome since 114), else kernels.wasm.
  useKernelModule(kernelBytes, kernelBytesFma);
}

/** The notebooks' training set: the names shuffled with seed 42, the first 80% (lib/data/names.ts loadData). */
function trainingSet(words: string[]): Dataset {
  const vocab = buildVocabulary(words);
  return splitDataset(words, 3, 42, vocab).train;
}

async function run(settings: Settings): Promise<void> {
  send({ type: 'status', text: 'starting TensorFlow.js and the WebAssembly kernels' });
  await setUp();
  const words = NAMES_TEXT.split('\n').filter((w) => w.length > 0);
  send({ type: 'status', text: `building the data set from ${words.length.toLocaleString('en')} names` });
  const trainSet = trainingSet(words);

  const { steps, learningRate: lr } = settings;
  const g = new Generator(settings.seed);
  const net = new DeepNetwork({
    generator: g,
    gain: settings.gain,
    batchNorm: settings.batchNorm,
    tanh: settings.tanh,
    hiddenLayers: settings.hiddenLayers,
    nHidden: settings.hiddenWidth,
  });
  retainGrad(net.layers); // for layer in layers: layer.out.retain_grad()
  const parameters = net.parameters();
  const names = net.parameterNames();
  const lossi: number[] = []; // log10 loss per step
  const ud: number[][] = []; // update:data ratios per step
  let lines: string[] = []; // the lecture's lines at the last step
  send({ type: 'status', text: 'step 0: tracing, compiling and checking the training step' });

  const t0 = performance.now();
  let done = 0;
  let msPerStep = 0;
  try {
    while (done < steps && !stopAsked) {
      // A stretch ends at every printed step (0, 1000, ...), whose loss its sgdStepKeepingGrads returns exactly,
      // and is long enough for about STRETCH_MS of work (10 steps first, to measure how long one takes).
      const nextPrinted = Math.ceil(done / PRINT_EVERY) * PRINT_EVERY;
      const wanted = done === 0 ? 1 : msPerStep === 0 ? 10 : Math.max(1, Math.round(STRETCH_MS / msPerStep));
      const n = Math.min(wanted, steps - done, nextPrinted - done + 1);
      const started = performance.now();
      try {
        if (n > 1) {
          const part = await train({
            parameters,
            loss: net.loss,
            data: trainSet,
            steps: n - 1,
            learningRate: () => lr,
            generator: g,
            printEvery: 0,
            progress: false,
            trackUpdateRatios: true,
          });
          lossi.push(...part.lossi);
          ud.push(...part.ud);
        }
        const last = sgdStepKeepingGrads({ parameters, loss: net.loss, data: trainSet, generator: g, lr });
        lossi.push(Math.log10(last.loss));
        ud.push(last.ud);
        done += n;
        if ((done - 1) % PRINT_EVERY === 0) send({ type: 'print', text: formatStep(done - 1, steps, last.loss) });
        if (done > 1) msPerStep = (performance.now() - started) / n; // (step 0 also compiles: not counted)
        const now = pictures(net, parameters, names, last.grads, ud, lossi);
        lines = now.lines;
        send({ type: 'progress', done, steps, msPerStep, pictures: now.pictures });
        Object.values(last.grads).forEach((t) => t.dispose());
      } catch (e) {
        // `train` counts the steps of its stretch from 0: say which steps of the whole run they were.
        const why = (e instanceof Error ? e.message : String(e)).replace(/ at step \d+/, '');
        throw new Error(n > 1 ? `Steps ${done} to ${done + n - 1}: ${why}` : `Step ${done}: ${why}`);
      }
      await pause(); // let a 'stop' message in
    }
    const seconds = (performance.now() - t0) / 1000;
    send({
      type: 'print',
      text: `${done.toLocaleString('en')} steps in ${seconds.toFixed(1)} s${done < steps ? ' (stopped)' : ''}`,
    });
    for (const text of lines) send({ type: 'print', text });
    send({ type: 'finished', done, steps, stopped: done < steps, seconds });
  } finally {
    net.dispose();
  }
}

/**
 * The four pictures of lib/viz/pictures.ts at the last step, the loss curve so far, and the lines the
 * notebooks print with the pictures (those of notebook 10's experiments).
 */
function pictures(
  net: DeepNetwork,
  parameters: tf.Variable[],
  names: string[],
  grads: tf.NamedTensorMap,
  ud: number[][],
  lossi: number[],
): { pictures: Pictures; lines: string[] } {
  const forward = ex.forwardPicture(net.layers, 'forward: activations');
  const backward = ex.backwardPicture(net.layers, 'backward: activation gradients');
  const weights = ex.parameterPicture(parameters, names, grads, 'weight gradients');
  const loss = lossCurve(lossi, { title: 'training loss (log10, per step)' });
  // Plain SVG lines rather than WebGL: a few thousand points draw fast enough, and a machine without
  // a GPU may have no WebGL.
  for (const trace of loss.data as { type?: string }[]) trace.type = 'scatter';
  return {
    pictures: {
      forward: forward.figure,
      backward: backward.figure,
      weights: weights.figure,
      loss,
      update: ex.updatePicture(ud, parameters, names, 'update:data ratio (log10)'),
    },
    lines: ['', 'forward:', ...forward.lines, '', 'backward:', ...backward.lines, '', 'weights:', ...weights.lines],
  };
}
