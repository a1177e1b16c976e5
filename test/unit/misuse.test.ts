// Misuse, as a learner meets it: every public function and setting given a wrong argument says which
// argument, the value it got and what is allowed, in the library's words, before anything is allocated;
// and the library still works afterwards (a batch too large for the WebAssembly backend does not abort it).
// One table: each case with the exact message expected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend, backendFromEnv } from '../../lib/env/backend';
import { loadNames } from '../../lib/data/names';
import { buildDataset, buildVocabulary, splitDataset, Split, Dataset } from '../../lib/data/dataset';
import { Generator } from '../../lib/tensor/random';
import { evaluate, meanStdOver, sgdStep, train, TrainOptions } from '../../lib/train/loop';
import { sampleNames } from '../../lib/train/sample';
import { BatchNorm1d, Embedding, Linear, Tanh } from '../../lib/nn/layers';
import { DeepNetwork, stageNetwork } from '../../lib/nn/models';
import { crossEntropy } from '../../lib/tensor/ops';
import { readProfile } from '../../lib/env/profile';
import { compiling, fusing } from '../../lib/compile/step';
import { NAMES_FILE, ROOT } from '../helpers/paths';

let split: Split;
let words: string[];
before(async () => {
  await initBackend();
  words = await loadNames({ file: NAMES_FILE });
  split = splitDataset(words, 3, 42);
});

const SEED = 2147483647;
const empty: Dataset = { X: new Int32Array(0), Y: new Int32Array(0), size: 0, blockSize: 3 };

/** A fresh batch-norm network of the lecture and the training options of a short run. */
function run(overrides: Partial<TrainOptions> = {}): TrainOptions {
  const g = new Generator(SEED);
  const net = stageNetwork('batchnorm', g);
  return {
    parameters: net.parameters,
    loss: net.loss,
    data: split.train,
    steps: 3,
    learningRate: () => 0.1,
    generator: g,
    printEvery: 0,
    progress: false,
    ...overrides,
  };
}

/** Run `f` with these environment variables (undefined: unset), then put them back. */
function withEnv<T>(env: Record<string, string | undefined>, f: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const set = (e: Record<string, string | undefined>) =>
    Object.entries(e).forEach(([k, v]) => {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    });
  set(env);
  try {
    return f();
  } finally {
    set(saved);
  }
}

const PYTORCH_SEEDS = "an integer from -2**63 to 2**64 - 1 (PyTorch's range of seeds)";
const DISPOSED =
  'was disposed (dispose() freed its tensors): build a new one, or call dispose() only once you are done with it.';

/** [what the learner did, what it does, the message expected (a string: exactly; a RegExp: matched)]. */
const CASES: [string, () => unknown, string | RegExp][] = [
  // train
  ['train with steps -5', () => train(run({ steps: -5 })), 'train: steps must be an integer >= 0, got -5'],
  ['train with steps 2.5', () => train(run({ steps: 2.5 })), 'train: steps must be an integer >= 0, got 2.5'],
  ['train with steps NaN', () => train(run({ steps: NaN })), 'train: steps must be an integer >= 0, got NaN'],
  ['train with batchSize 0', () => train(run({ batchSize: 0 })), 'train: batchSize must be an integer >= 1, got 0'],
  [
    'train with batchSize 2.5',
    () => train(run({ batchSize: 2.5 })),
    'train: batchSize must be an integer >= 1, got 2.5',
  ],
  [
    'train with a number as learningRate',
    () => train(run({ learningRate: 0.1 as unknown as () => number })),
    'train: learningRate must be a function of the step, e.g. (i) => (i < 100000 ? 0.1 : 0.01), got 0.1',
  ],
  [
    'train with a learning rate that becomes NaN',
    () => train(run({ learningRate: (i) => (i < 2 ? 0.1 : NaN) })),
    'train: learningRate(2) must be a finite number (the learning rate of that step), got NaN',
  ],
  [
    'train with printEvery -1',
    () => train(run({ printEvery: -1 })),
    'train: printEvery must be an integer >= 0, got -1',
  ],
  [
    'train without a generator',
    () => train(run({ generator: undefined as unknown as Generator })),
    'train: generator must be a Generator (new mm.Generator(seed)), got undefined',
  ],
  [
    'train with no parameters',
    () => train(run({ parameters: [] })),
    'train: parameters must be a non-empty array of tf.Variable (mm.parameter, or net.parameters()), got []',
  ],
  [
    'train on an empty data set',
    () => train(run({ data: empty })),
    'train: data is empty (0 examples): nothing to train on or evaluate. Check the names it was built from (an empty list, or a split of too few names).',
  ],
  [
    "train on data whose vocabulary is larger than the network's",
    () => {
      // Names with capitals: a vocabulary of 53 characters, 'A'..'Z' before 'a'..'z'.
      const upper = buildDataset(['Emma', 'Zoe'], 3, buildVocabulary([...words, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ']));
      const g = new Generator(SEED);
      const net = new DeepNetwork({ generator: g });
      return train({
        parameters: net.parameters(),
        loss: net.loss,
        data: upper,
        steps: 2,
        learningRate: () => 0.1,
        generator: g,
        printEvery: 0,
        progress: false,
      });
    },
    /^Embedding\(27, 10\): the data holds the character index 4\d, but the embedding table has 27 rows, one per character: build it for the data's vocabulary \(at least 4\d characters, vocab\.size\), e\.g\. vocabSize: vocab\.size\.$/,
  ],
  [
    "evaluate the lecture's MLP on data with a larger vocabulary",
    () => {
      const net = stageNetwork('kaiming', new Generator(SEED));
      return evaluate(
        net.loss,
        buildDataset(['Ada', 'bob'], 3, buildVocabulary([...words, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'])),
      );
    },
    /^embed: the data holds the character index 4\d, but the embedding table has 27 rows/,
  ],
  [
    'crossEntropy with a target past the last logit',
    () => crossEntropy(tf.zeros([2, 27]), tf.tensor1d([3, 30], 'int32')),
    "crossEntropy: the targets hold the character index 30, but the logits have 27 columns, one per character: the output layer needs one output per character of the data's vocabulary (at least 31, vocab.size).",
  ],
  [
    'crossEntropy with float targets',
    () => crossEntropy(tf.zeros([2, 27]), tf.tensor1d([3, 4])),
    'crossEntropy: Y must be an int32 tensor [2] of target indices, one per row of the logits, got a tensor of shape [2]',
  ],
  [
    'train parameters of a disposed network',
    () => {
      const o = run();
      o.parameters[1].dispose();
      return train(o);
    },
    /^train: parameters\[1\] \(W1_\w+\) was disposed: train the parameters of a network that is still there \(build it again after dispose\(\)\)\.$/,
  ],
  // sgdStep and evaluate
  [
    'sgdStep with lr NaN',
    () => {
      const o = run();
      return sgdStep({ ...o, lr: NaN });
    },
    'sgdStep: lr must be a finite number, got NaN',
  ],
  [
    'sgdStep with a row past the data',
    () => {
      const o = run();
      return sgdStep({ ...o, lr: 0.1, ix: Int32Array.from([0, 1e9]) });
    },
    `sgdStep: ix[1] must be a row of the data set, from 0 to ${182625 - 1}, got 1000000000`,
  ],
  [
    'sgdStep with batchSize 0',
    () => {
      const o = run();
      return sgdStep({ ...o, lr: 0.1, batchSize: 0 });
    },
    'sgdStep: batchSize must be an integer >= 1, got 0',
  ],
  ['evaluate an empty split', () => evaluate(run().loss, empty), /^evaluate: data is empty \(0 examples\)/],
  ['evaluate with chunk 0', () => evaluate(run().loss, split.dev, 0), 'evaluate: chunk must be an integer >= 1, got 0'],
  // meanStdOver (notebook 04's calibration)
  [
    'meanStdOver with the data first',
    () => meanStdOver(split.dev as never, split.dev),
    /^meanStdOver: f must be a function \(X \[rows, blockSize\]\) => a tensor \[rows, columns\], e\.g\. .*, got an object$/,
  ],
  [
    'meanStdOver with chunk 0',
    () => meanStdOver((X) => X.toFloat(), split.dev, 0),
    'meanStdOver: chunk must be an integer >= 1, got 0',
  ],
  [
    'meanStdOver of one example',
    () => meanStdOver((X) => X.toFloat(), { X: new Int32Array(3), Y: Int32Array.of(1), size: 1, blockSize: 3 }),
    'meanStdOver: data has 1 example: an unbiased std needs at least 2.',
  ],
  [
    'meanStdOver of a function that gives one value per chunk',
    () => meanStdOver((X) => X.toFloat().mean(), split.dev, 1024),
    'meanStdOver: f(X) for X of shape [1024, 3] must be a tensor [1024, columns] (one row per example), got a tensor of shape []',
  ],
  [
    'meanStdOver of a function whose columns change',
    () => meanStdOver((X) => (X.shape[0] === 1024 ? X : X.slice([0, 0], [-1, 2])).toFloat(), split.dev, 1024),
    /^meanStdOver: f\(X\) gave 2 columns for rows 22528 to 22654, but 3 for the first rows: f must give the same columns for every row\.$/,
  ],
  // data
  [
    'splitDataset with blockSize 0',
    () => splitDataset(words, 0),
    'splitDataset: blockSize must be an integer >= 1, got 0',
  ],
  [
    'buildDataset of a string instead of names',
    () => buildDataset('emma' as unknown as string[], 3),
    'buildDataset: words must be an array of names (strings), got "emma"',
  ],
  // Generator
  ['new Generator(1.5)', () => new Generator(1.5), `new Generator(seed): seed must be ${PYTORCH_SEEDS}, got 1.5`],
  ['new Generator(NaN)', () => new Generator(NaN), `new Generator(seed): seed must be ${PYTORCH_SEEDS}, got NaN`],
  [
    'new Generator(2**64)',
    () => new Generator(2 ** 64),
    `new Generator(seed): seed must be ${PYTORCH_SEEDS}, got 18446744073709552000`,
  ],
  [
    'new Generator(-(2n**63n) - 1n)',
    () => new Generator(-(2n ** 63n) - 1n),
    `new Generator(seed): seed must be ${PYTORCH_SEEDS}, got -9223372036854775809n`,
  ],
  [
    'new Generator("42")',
    () => new Generator('42' as unknown as number),
    `new Generator(seed): seed must be ${PYTORCH_SEEDS}, got "42"`,
  ],
  [
    'manualSeed(Infinity)',
    () => new Generator(1).manualSeed(Infinity),
    `Generator.manualSeed: seed must be ${PYTORCH_SEEDS}, got Infinity`,
  ],
  // layers
  [
    'Linear(30, 200) on [32, 31]',
    () => new Linear(30, 200, { generator: new Generator(1) }).call(tf.zeros([32, 31])),
    'Linear(30, 200) expects input of shape [batch, 30], got [32, 31]',
  ],
  [
    'Linear(30, 200) on a rank-1 input',
    () => new Linear(30, 200, { generator: new Generator(1) }).call(tf.zeros([30])),
    'Linear(30, 200) expects input of shape [batch, 30], got [30]',
  ],
  [
    'Linear(30, 2.5)',
    () => new Linear(30, 2.5, { generator: new Generator(1) }),
    'Linear: fanOut must be an integer >= 1, got 2.5',
  ],
  [
    'Linear without a generator',
    () => new Linear(30, 200, {} as { generator: Generator }),
    'Linear: options.generator must be a Generator (new mm.Generator(seed)), got undefined',
  ],
  [
    'a Linear layer after dispose()',
    () => {
      const l = new Linear(30, 200, { generator: new Generator(1) });
      l.dispose();
      return l.call(tf.zeros([32, 30]));
    },
    `Linear(30, 200) ${DISPOSED}`,
  ],
  [
    'BatchNorm1d(200) on a rank-1 input',
    () => new BatchNorm1d(200).call(tf.zeros([200])),
    'BatchNorm1d(200) expects input of shape [batch, 200], got [200]',
  ],
  [
    'BatchNorm1d(200) with momentum 2',
    () => new BatchNorm1d(200, { momentum: 2 }),
    'BatchNorm1d: options.momentum must be a number from 0 to 1, got 2',
  ],
  [
    'a BatchNorm1d layer after dispose()',
    () => {
      const l = new BatchNorm1d(3);
      l.dispose();
      return l.call(tf.zeros([4, 3]));
    },
    `BatchNorm1d(3) ${DISPOSED}`,
  ],
  [
    'Tanh on character indices',
    () => new Tanh().call(tf.tensor2d([[1, 2]], [1, 2], 'int32')),
    'Tanh() expects input of shape [batch, features] (float32), got [1, 2]',
  ],
  [
    'a Tanh layer after dispose()',
    () => {
      const l = new Tanh();
      l.dispose();
      return l.call(tf.zeros([2, 2]));
    },
    `Tanh() ${DISPOSED}`,
  ],
  [
    'Embedding on a rank-1 input',
    () => new Embedding(27, 10, { generator: new Generator(1) }).call(tf.tensor1d([1, 2, 3], 'int32')),
    'Embedding(27, 10) expects input of shape [batch, blockSize] (int32 character indices), got [3]',
  ],
  [
    'a DeepNetwork after dispose()',
    () => {
      const net = new DeepNetwork({ generator: new Generator(1) });
      net.dispose();
      return net.loss(tf.zeros([2, 3], 'int32') as tf.Tensor2D, tf.zeros([2], 'int32') as tf.Tensor1D, true);
    },
    'this DeepNetwork was disposed (dispose() freed its tensors): build a new one with new mm.DeepNetwork(...), or call dispose() only once you are done with it.',
  ],
  [
    'train the parameters of a disposed DeepNetwork',
    () => {
      const net = new DeepNetwork({ generator: new Generator(1) });
      net.dispose();
      return train(run({ parameters: net.parameters(), loss: net.loss }));
    },
    /^this DeepNetwork was disposed/,
  ],
  [
    'new DeepNetwork with nHidden 0',
    () => new DeepNetwork({ generator: new Generator(1), nHidden: 0 }),
    'new DeepNetwork: options.nHidden must be an integer >= 1, got 0',
  ],
  // sampling
  [
    'sampleNames with the wrong block size',
    () => {
      const net = new DeepNetwork({ generator: new Generator(1) });
      net.train(false);
      return sampleNames((X) => net.logits(X), {
        generator: new Generator(1),
        itos: buildVocabulary(words).itos,
        blockSize: 4,
        count: 1,
      });
    },
    "sampleNames: the network's logits failed on a context of blockSize 4 (a tensor [1, 4]): Linear(30, 100) expects input of shape [batch, 30], got [1, 40]. options.blockSize must be the block size the network was built for (the data's blockSize).",
  ],
  [
    'sampleNames with another vocabulary',
    () => {
      const net = new DeepNetwork({ generator: new Generator(1) });
      net.train(false);
      return sampleNames((X) => net.logits(X), {
        generator: new Generator(1),
        itos: ['.', 'a', 'b'],
        blockSize: 3,
        count: 1,
      });
    },
    'sampleNames: logits(X) must give one logit per character of options.itos, [1, 3], got [1, 27]: pass the itos of the vocabulary the network was built for.',
  ],
  // settings
  [
    'MAKEMORE_PROFILE=fast',
    () => withEnv({ MAKEMORE_PROFILE: 'fast' }, readProfile),
    "MAKEMORE_PROFILE=fast is not allowed: use full (the lecture's 200,000 steps per training run) or quick (a few thousand steps, for tests and a quick look), or leave it unset (the same as full).",
  ],
  [
    'MAKEMORE_BACKEND=gpu',
    () => withEnv({ MAKEMORE_BACKEND: 'gpu' }, backendFromEnv),
    'MAKEMORE_BACKEND=gpu is not allowed: use tensorflow (native TensorFlow, installed by tools/install-native-tensorflow.sh), wasm (WebAssembly) or cpu (plain JavaScript), or leave it unset (the first that loads of tensorflow, wasm, cpu).',
  ],
  [
    'MAKEMORE_COMPILE=yes',
    () => withEnv({ MAKEMORE_COMPILE: 'yes' }, compiling),
    'MAKEMORE_COMPILE=yes is not allowed: use 1 (compile training steps) or 0 (run them eagerly on TensorFlow.js), or leave it unset (the same as 1).',
  ],
  [
    'MAKEMORE_FUSE=2',
    () => withEnv({ MAKEMORE_FUSE: '2' }, fusing),
    'MAKEMORE_FUSE=2 is not allowed: use 1 (fuse the elementwise kernels of a compiled step) or 0 (one loop per kernel), or leave it unset (the same as 1).',
  ],
  [
    'MAKEMORE_NAMES set to ""',
    () => withEnv({ MAKEMORE_NAMES: '' }, () => loadNames()),
    'MAKEMORE_NAMES is set but empty: set it to the path of names.txt (a file), or unset it to use data/names.txt, downloaded on first use.',
  ],
  [
    'MAKEMORE_NAMES set to a folder',
    () => withEnv({ MAKEMORE_NAMES: path.dirname(NAMES_FILE) }, () => loadNames()),
    `MAKEMORE_NAMES=${path.dirname(NAMES_FILE)} is a folder: set it to the path of names.txt (a file), or unset it to use data/names.txt, downloaded on first use. (There is one in it: MAKEMORE_NAMES=${NAMES_FILE}.)`,
  ],
];

for (const [what, f, expected] of CASES) {
  test(`misuse: ${what}`, async () => {
    await assert.rejects(
      async () => {
        await f();
      },
      (e: Error) => {
        if (typeof expected === 'string') assert.equal(e.message, expected);
        else assert.match(e.message, expected);
        return true;
      },
    );
  });
}

test('misuse: a MAKEMORE_NAMES file with CRLF line endings is named as the cause, and kept', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-crlf-'));
  const file = path.join(dir, 'names.txt');
  fs.writeFileSync(file, fs.readFileSync(NAMES_FILE, 'utf8').replace(/\n/g, '\r\n'));
  await assert.rejects(
    withEnv({ MAKEMORE_NAMES: file }, () => loadNames()),
    (e: Error) => {
      assert.equal(
        e.message,
        `MAKEMORE_NAMES=${file} has Windows line endings (CRLF): with LF line endings it is the expected names.txt. ` +
          `Convert it (e.g. \`sed -i 's/\\r$//' ${file}\` or \`dos2unix ${file}\`; with git, \`git config core.autocrlf false\` before checking it out keeps LF), or use a copy with LF line endings.`,
      );
      assert.doesNotMatch(e.message, /delete/i);
      return true;
    },
  );
  assert.ok(fs.existsSync(file), 'the file is kept');
});

test('misuse: a wrong file in MAKEMORE_NAMES is not to be deleted, it is theirs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-wrong-'));
  const file = path.join(dir, 'names.txt');
  fs.writeFileSync(file, 'emma\nolivia\n');
  await assert.rejects(
    withEnv({ MAKEMORE_NAMES: file }, () => loadNames()),
    (e: Error) => {
      assert.match(e.message, /^MAKEMORE_NAMES=.* is not the expected names\.txt: 12 bytes/);
      assert.match(e.message, /Point MAKEMORE_NAMES at a copy of names\.txt/);
      assert.doesNotMatch(e.message, /delete/i);
      return true;
    },
  );
});

test('misuse: a batch too large for the backend is refused before allocating, and the backend keeps working', async () => {
  // The deep network needs about 37 KB per example in a step: 200,000 examples are 7 GB, past the
  // WebAssembly backend's 4 GiB (which it cannot recover from) and past what a laptop has.
  const g = new Generator(SEED);
  const net = new DeepNetwork({ generator: g });
  const opts = {
    parameters: net.parameters(),
    loss: net.loss,
    data: split.train,
    steps: 2,
    learningRate: () => 0.1,
    generator: g,
    printEvery: 0,
    progress: false,
  };
  const before = net.parameters().map((p) => p.dataSync().slice());
  await assert.rejects(train({ ...opts, batchSize: 200000 }), (e: Error) => {
    assert.match(
      e.message,
      /^train: batchSize must be at most [\d,]+ for this network, got 200000: a step on 200,000 examples needs about [\d.]+ GB \(\d+ KB per example, measured on a step of 128\), and (the \w+ backend can hold|this machine has) [\d.]+ GB( of memory)?\. Nothing was allocated\.$/,
    );
    return true;
  });
  net.parameters().forEach((p, k) => assert.deepEqual(p.dataSync(), before[k], 'the parameters are untouched'));
  const r = await train({ ...opts, batchSize: 32 });
  assert.equal(r.lossi.length, 2);
  assert.ok(r.lossi.every(Number.isFinite));
  net.dispose();
});

test("misuse: a batch of the whole training set fits the lecture's MLP and is not refused", () => {
  // Full-batch gradient descent is a fair experiment: the check measures, it does not guess low.
  const net = stageNetwork('batchnorm', new Generator(SEED));
  const v = evaluate(net.loss, split.train, split.train.size);
  assert.ok(v > 3 && v < 3.6, `loss ${v}`);
  net.dispose();
});

test('misuse: seeds PyTorch accepts are accepted, negative ones as seed + 2**64', () => {
  assert.equal(new Generator(-1).initialSeed(), 2n ** 64n - 1n);
  assert.equal(new Generator(2n ** 64n - 1n).initialSeed(), 2n ** 64n - 1n);
  assert.equal(new Generator(-(2n ** 63n)).initialSeed(), 2n ** 63n);
  assert.deepEqual(new Generator(-1).randint(0, 1000, [3]), new Generator(2n ** 64n - 1n).randint(0, 1000, [3]));
});

test('misuse: importing the library with a wrong MAKEMORE_PROFILE fails at once with the one message', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', "require('./lib/index')"], {
    cwd: ROOT,
    env: { ...process.env, MAKEMORE_PROFILE: 'fast' },
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.equal((r.stderr.match(/MAKEMORE_PROFILE=fast is not allowed/g) ?? []).length, 1, r.stderr);
});

after(() => {
  delete process.env.MAKEMORE_COMPILE;
});
