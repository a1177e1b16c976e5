import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { loadData } from '../lib/data';
import { stageNetwork, DeepNetwork } from '../lib/models';
import { Generator } from '../lib/random';
import { train } from '../lib/train';
(async () => {
  await initBackend();
  const d = await loadData();
  for (const kind of ['bn', 'deep']) {
    const g = new Generator(2147483647);
    const net = kind === 'bn' ? stageNetwork('batchnorm', g) : new DeepNetwork({ generator: g });
    const params = 'layers' in net ? (net as DeepNetwork).parameters() : (net as any).parameters;
    const opts = { parameters: params, loss: net.loss, data: d.train, learningRate: () => 0.1, generator: g, printEvery: 0, progress: false, trackUpdateRatios: kind === 'deep' };
    await train({ ...opts, steps: 20 });
    const info = await tf.profile(async () => { await train({ ...opts, steps: 1 }); });
    const t0 = performance.now();
    const steps = kind === 'bn' ? 1000 : 200;
    await train({ ...opts, steps });
    if (kind === "bn") console.log(info.kernels.map((k) => k.name).join(" "));
    console.log(kind, "kernels/step", info.kernels.length, 'ms/step', ((performance.now() - t0) / steps).toFixed(3));
  }
})();
