import { initBackend } from '../lib/backend';
import { loadData } from '../lib/data';
import { stageNetwork } from '../lib/models';
import { Generator } from '../lib/random';
import { train } from '../lib/train';
(async () => {
  await initBackend();
  const d = await loadData();
  const g = new Generator(2147483647);
  const net = stageNetwork('batchnorm', g);
  await train({ parameters: net.parameters, loss: net.loss, data: d.train, learningRate: () => 0.1, generator: g, printEvery: 0, progress: false, steps: 2000 });
})();
