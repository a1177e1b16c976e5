/**
 * One benchmark work item on one TensorFlow.js backend, in this process; prints one JSON line.
 *   node --import tsx tools/bench/work.ts <work> <repeats>
 * The backend comes from MAKEMORE_BACKEND (set by tools/bench/run.js). Works:
 *   bn-mlp      the batch-norm MLP of the stage table: ms per training step (batch 32)
 *   deep-ud     the deep network (47,024 parameters) with update:data tracking: ms per step
 *   eval-train  evaluation of the whole training split (182,625 examples) with the batch-norm MLP: ms
 *   notebook    the full profile of one stage notebook: 200,000 steps of the batch-norm MLP, then
 *               train and dev evaluation: s
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { loadData } from '../../lib/data';
import { DeepNetwork, stageNetwork } from '../../lib/models';
import { Generator } from '../../lib/random';
import { evaluate, train } from '../../lib/train';

const SEED = 2147483647;

async function main() {
  const [work, repeatsArg] = process.argv.slice(2);
  const repeats = Number(repeatsArg ?? 5);
  const backend = await initBackend();
  const data = await loadData();
  const samples: number[] = [];
  let unit = 'ms/step';
  let liveTensors = 0;
  let fused: boolean | undefined;
  for (let r = 0; r < repeats; r++) {
    const g = new Generator(SEED);
    if (work === 'bn-mlp' || work === 'notebook') {
      const net = stageNetwork('batchnorm', g);
      const steps = work === 'notebook' ? 200000 : 1000;
      const t0 = performance.now();
      const res = await train({ parameters: net.parameters, loss: net.loss, data: data.train, steps, generator: g,
        learningRate: (i) => (i < steps / 2 ? 0.1 : 0.01), printEvery: 0, progress: false });
      fused = res.fused;
      if (work === 'notebook') {
        evaluate(net.loss, data.train);
        evaluate(net.loss, data.dev);
        samples.push((performance.now() - t0) / 1000);
        unit = 's';
      } else {
        samples.push((res.seconds * 1000) / steps);
      }
      liveTensors = tf.memory().numTensors;
      net.dispose();
    } else if (work === 'deep-ud') {
      const net = new DeepNetwork({ generator: g });
      const steps = 200;
      const res = await train({ parameters: net.parameters(), loss: net.loss, data: data.train, steps, generator: g,
        learningRate: () => 0.1, printEvery: 0, progress: false, trackUpdateRatios: true });
      samples.push((res.seconds * 1000) / steps);
      fused = res.fused;
      liveTensors = tf.memory().numTensors;
      net.dispose();
    } else if (work === 'eval-train') {
      const net = stageNetwork('batchnorm', g);
      await train({ parameters: net.parameters, loss: net.loss, data: data.train, steps: 10, generator: g,
        learningRate: () => 0.1, printEvery: 0, progress: false });
      const t0 = performance.now();
      evaluate(net.loss, data.train);
      samples.push(performance.now() - t0);
      unit = 'ms';
      liveTensors = tf.memory().numTensors;
      net.dispose();
    } else {
      throw new Error(`unknown work ${work}: use bn-mlp, deep-ud, eval-train or notebook`);
    }
  }
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ work, backend, unit, samples, peakMiB, liveTensors, fused }));
}

main().catch((e) => { console.error(e.message); process.exit(1); });
