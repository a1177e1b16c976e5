// Results handed from notebook to notebook: one file per profile for the runner and JupyterLab alike,
// and each result labelled by the network that produced it, so that an edited network does not pass
// for the lecture's stage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { loadNames } from '../../lib/data/names';
import { splitDataset, Split } from '../../lib/data/dataset';
import { Generator } from '../../lib/tensor/random';
import { train } from '../../lib/train/loop';
import { crossEntropy, embed, parameter, randn } from '../../lib/tensor/ops';
import { stageNetwork, STAGES } from '../../lib/nn/models';
import { PROFILE } from '../../lib/env/profile';
import { readResults, recordResult, resultNetwork, resultsFile } from '../../lib/env/results';
import { NAMES_FILE, ROOT } from '../helpers/paths';

let split: Split;
const saved = process.env.MAKEMORE_RESULTS;
before(async () => {
  await initBackend();
  split = splitDataset(await loadNames({ file: NAMES_FILE }), 3, 42);
  process.env.MAKEMORE_RESULTS = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-results-')), 'results.json');
});
after(() => {
  if (saved === undefined) delete process.env.MAKEMORE_RESULTS;
  else process.env.MAKEMORE_RESULTS = saved;
});

const SEED = 2147483647;

/** The kaiming stage as notebook 03 writes it: W1 scaled in one multiplication (the library's network takes two). */
function notebookKaiming(scale = 5 / 3 / Math.sqrt(30), forward: 'tanh' | 'relu' = 'tanh') {
  const g = new Generator(SEED);
  const C = parameter(randn(g, [27, 10]));
  const W1 = parameter(tf.tidy(() => randn(g, [30, 200]).mul(scale)));
  const b1 = parameter(tf.tidy(() => randn(g, [200]).mul(0.01)));
  const W2 = parameter(tf.tidy(() => randn(g, [200, 27]).mul(0.01)));
  const b2 = parameter(tf.tidy(() => randn(g, [27]).mul(0)));
  const parameters = [C, W1, b1, W2, b2];
  const loss = (X: tf.Tensor2D, Y: tf.Tensor1D) => {
    const h = embed(C, X).matMul(W1).add(b1);
    return crossEntropy((forward === 'tanh' ? h.tanh() : h.relu()).matMul(W2).add(b2), Y);
  };
  return { g, parameters, loss };
}

async function trainAndRecord(key: string, net: ReturnType<typeof notebookKaiming>) {
  await train({
    parameters: net.parameters,
    loss: net.loss,
    data: split.train,
    steps: 3,
    learningRate: () => 0.1,
    generator: net.g,
    printEvery: 0,
    progress: false,
  });
  recordResult(key, { train: 2.5, dev: 2.6 }, net.parameters);
  net.parameters.forEach((p) => p.dispose());
  return readResults()[key];
}

test('the results file is dist/results-<profile>.json unless MAKEMORE_RESULTS names another', () => {
  const file = process.env.MAKEMORE_RESULTS;
  delete process.env.MAKEMORE_RESULTS;
  try {
    assert.equal(resultsFile(), path.join(ROOT, 'dist', `results-${PROFILE}.json`));
  } finally {
    process.env.MAKEMORE_RESULTS = file;
  }
  assert.equal(resultsFile(), file);
});

test("a result of the lecture's network is labelled as the lecture's stage, also when written out as notebook 03 does", async () => {
  const r = await trainAndRecord('kaiming', notebookKaiming());
  assert.equal(r.profile, PROFILE);
  assert.equal(r.train, 2.5);
  assert.equal(resultNetwork(r, 'kaiming', split.train), "the lecture's");
  assert.match(resultNetwork(r, 'fix_tanh', split.train), /^edited: parameter 1 \[30, 200\] starts from other values$/);
});

test("an edited network does not pass for the lecture's stage: another init, another forward pass", async () => {
  const init = await trainAndRecord('kaiming', notebookKaiming(0.3));
  assert.equal(resultNetwork(init, 'kaiming', split.train), 'edited: parameter 1 [30, 200] starts from other values');
  const relu = await trainAndRecord('kaiming', notebookKaiming(undefined, 'relu'));
  assert.match(
    resultNetwork(relu, 'kaiming', split.train),
    /^edited: its first step's loss is \d\.\d{4}, the lecture's network's 3\.\d{4} \(another forward pass\)$/,
  );
});

test('every stage network of the library is its own lecture stage and no other', async () => {
  for (const stage of STAGES) {
    const g = new Generator(SEED);
    const net = stageNetwork(stage, g);
    await train({
      parameters: net.parameters,
      loss: net.loss,
      data: split.train,
      steps: 1,
      learningRate: () => 0.1,
      generator: g,
      printEvery: 0,
      progress: false,
    });
    recordResult(stage, { train: 3, dev: 3 }, net.parameters);
    net.dispose();
    const r = readResults()[stage];
    for (const other of STAGES) {
      assert.equal(resultNetwork(r, other, split.train) === "the lecture's", other === stage, `${stage} as ${other}`);
    }
  }
});

test('a result recorded without its network says so', () => {
  recordResult('original', { train: 2, dev: 2 });
  assert.equal(
    resultNetwork(readResults().original, 'original', split.train),
    'unknown (recorded without its network)',
  );
  assert.equal(resultNetwork(undefined, 'original', split.train), '-');
});
