// Checkpoints as safetensors files: a round trip both ways with Python's safetensors (the pip
// package, in .venv), and clear errors for truncated or foreign files and for bad arguments.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { load, loadCheckpoint, save } from '../../lib/nn/checkpoint';
import { NAMES_FILE, ROOT } from '../helpers/paths';
import { DeepNetwork } from '../../lib/nn/models';
import { BatchNorm1d } from '../../lib/nn/layers';
import { Generator } from '../../lib/tensor/random';
import { outputFile } from '../../lib/env/results';

const { venvPython } = require('../../tools/common');

before(async () => {
  await initBackend();
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-ckpt-'));

/** Run Python code in the project's .venv (safetensors and numpy pinned in tools/requirements.txt). */
function python(code: string, ...args: string[]): string {
  const r = spawnSync(venvPython(), ['-c', code, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test("TypeScript writes, Python's safetensors reads the same names, dtypes, shapes, values and metadata", () => {
  const file = path.join(tmp(), 'sub', 'ts.safetensors');
  const W = tf.tensor2d([
    [1.5, -2.25, 3e-8],
    [0, Math.PI, -1e30],
  ]);
  const idx = tf.tensor1d([0, -7, 2147483647], 'int32');
  const s = tf.scalar(0.1);
  const empty = tf.zeros([0, 3]);
  save(file, { W1: W, idx, scalar: s, empty }, { profile: 'quick', steps: '2000' });
  assert.deepEqual(
    fs.readdirSync(path.dirname(file)),
    ['ts.safetensors'],
    'written atomically, no temporary file left',
  );
  const out = python(
    `
import json, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file
t = load_file(sys.argv[1])
with safe_open(sys.argv[1], framework="np") as f:
    meta = f.metadata()
print(json.dumps({k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.astype(np.float64).ravel().tolist()} for k, v in t.items()} | {"__metadata__": meta}))
`,
    file,
  );
  const got = JSON.parse(out);
  assert.deepEqual(got.__metadata__, { profile: 'quick', steps: '2000' });
  assert.deepEqual(got.W1.shape, [2, 3]);
  assert.equal(got.W1.dtype, 'float32');
  assert.deepEqual(got.W1.values, Array.from(W.dataSync()), 'float32 values bit for bit');
  assert.deepEqual(got.idx, { dtype: 'int32', shape: [3], values: [0, -7, 2147483647] });
  assert.deepEqual(got.scalar, { dtype: 'float32', shape: [], values: [Math.fround(0.1)] });
  assert.deepEqual(got.empty, { dtype: 'float32', shape: [0, 3], values: [] });
  // The header is padded to a multiple of 8 bytes, as safetensors' own writer does.
  assert.equal(Number(fs.readFileSync(file).readBigUInt64LE(0)) % 8, 0);
});

test("Python's safetensors writes, TypeScript reads: names, dtypes, shapes, values, metadata", () => {
  const file = path.join(tmp(), 'py.safetensors');
  python(
    `
import sys
import numpy as np
from safetensors.numpy import save_file
w = np.random.default_rng(0).standard_normal((30, 100)).astype(np.float32)
save_file({"layer0.weight": w, "counts": np.arange(-3, 9, dtype=np.int32).reshape(3, 4),
           "one": np.array(2.5, dtype=np.float32)}, sys.argv[1], metadata={"format": "pt"})
w.astype("<f4").tofile(sys.argv[1] + ".raw")
`,
    file,
  );
  const { tensors, metadata } = loadCheckpoint(file);
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual(Object.keys(tensors).sort(), ['counts', 'layer0.weight', 'one']);
  assert.deepEqual(tensors['layer0.weight'].shape, [30, 100]);
  assert.equal(tensors['layer0.weight'].dtype, 'float32');
  // The same values, as numpy wrote them raw (float32, little-endian).
  const raw = fs.readFileSync(file + '.raw');
  const expected = Float32Array.from({ length: 3000 }, (_, i) => raw.readFloatLE(4 * i));
  assert.deepEqual(Array.from(tensors['layer0.weight'].dataSync()), Array.from(expected));
  assert.equal(tensors.counts.dtype, 'int32');
  assert.deepEqual(tensors.counts.arraySync(), [
    [-3, -2, -1, 0],
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ]);
  assert.deepEqual(tensors.one.shape, []);
  assert.equal(tensors.one.dataSync()[0], 2.5);
  Object.values(tensors).forEach((t) => t.dispose());
});

test('a round trip through our own writer and reader gives back every value', () => {
  const file = path.join(tmp(), 'rt.safetensors');
  const a = tf.randomNormal([7, 5]);
  const b = tf.tensor1d([1, 2, 3], 'int32');
  save(file, { a, b });
  const back = load(file);
  assert.deepEqual(Object.keys(back), ['a', 'b']);
  assert.deepEqual(Array.from(back.a.dataSync()), Array.from(a.dataSync()));
  assert.deepEqual(back.b.arraySync(), [1, 2, 3]);
  assert.deepEqual(loadCheckpoint(file).metadata, {});
});

test('a truncated file is refused with a clear error, wherever it was cut', () => {
  const dir = tmp();
  const file = path.join(dir, 'whole.safetensors');
  save(file, { W: tf.ones([10, 10]), b: tf.zeros([10]) }, { note: 'x' });
  const whole = fs.readFileSync(file);
  const headerEnd = 8 + Number(whole.readBigUInt64LE(0));
  for (const [cut, why] of [
    [4, /has 4 bytes, fewer than the 8 of the header's length/],
    [20, /header of \d+ bytes, but the file has 20 bytes in all \(a truncated file/],
    [headerEnd + 100, /tensor "\w" ends at byte \d+ of the data, which has 100 bytes \(the file is truncated\)/],
    [whole.length - 1, /the file is truncated/],
  ] as [number, RegExp][]) {
    const cutFile = path.join(dir, `cut-${cut}.safetensors`);
    fs.writeFileSync(cutFile, whole.subarray(0, cut));
    assert.throws(
      () => load(cutFile),
      (e: Error) => {
        assert.ok(e.message.startsWith(`load: ${cutFile} is not a safetensors file we can read: `), e.message);
        assert.match(e.message, why);
        return true;
      },
    );
  }
});

test('foreign files are refused with a clear error: a text file, JSON, another dtype, bytes after the data', () => {
  const dir = tmp();
  assert.throws(
    () => load(NAMES_FILE),
    /load: .*names\.txt is not a safetensors file we can read: its first 8 bytes give a header of \d+ bytes, but the file has 228145 bytes/,
  );
  const header = (h: object, data = Buffer.alloc(0)) => {
    const json = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json, data]);
  };
  const cases: [string, Buffer, RegExp][] = [
    [
      'not-json',
      Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{oops')]),
      /its header is not JSON/,
    ],
    ['array', header([1, 2]), /its header is not a JSON object/],
    [
      'f64',
      header({ x: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)),
      /tensor "x" has dtype "F64"; allowed: F32 or I32/,
    ],
    [
      'gap',
      header({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, Buffer.alloc(8)),
      /tensor "x" \(F32 \[1\], 4 bytes\) is at bytes 4 to 8 of the data, where bytes 0 to 4 were expected/,
    ],
    [
      'extra',
      header({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(12)),
      /8 bytes follow the last tensor/,
    ],
    [
      'shape',
      header({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, Buffer.alloc(4)),
      /tensor "x" has no valid shape and data_offsets/,
    ],
    ['meta', header({ __metadata__: { n: 1 } }), /its __metadata__ is not a record of strings/],
  ];
  for (const [name, bytes, why] of cases) {
    const file = path.join(dir, `${name}.safetensors`);
    fs.writeFileSync(file, bytes);
    assert.throws(() => load(file), why, name);
  }
  assert.throws(() => load(path.join(dir, 'missing.safetensors')), /ENOENT/);
});

test('bad arguments to save name the argument, the value and what is allowed', () => {
  const file = path.join(tmp(), 'x.safetensors');
  assert.throws(() => save('', { a: tf.ones([1]) }), /save: file must be a path, got ""/);
  assert.throws(
    () => save(file, [tf.ones([1])] as never),
    /save: tensors must be a record of name -> tf\.Tensor, e\.g\. \{ W1, b1 \}, got an array/,
  );
  assert.throws(() => save(file, { a: [1, 2] } as never), /save: tensors\.a must be a tf\.Tensor, got object/);
  assert.throws(
    () => save(file, { a: tf.tensor1d([true], 'bool') }),
    /save: tensors\.a has dtype bool; allowed: float32 \(F32\) or int32 \(I32\)/,
  );
  assert.throws(() => save(file, { __metadata__: tf.ones([1]) }), /save: "__metadata__" cannot be a tensor's name/);
  assert.throws(
    () => save(file, { a: tf.ones([1]) }, { steps: 2000 } as never),
    /save: metadata\.steps must be a string \(safetensors keeps strings only\), got number 2000/,
  );
  const gone = tf.ones([1]);
  gone.dispose();
  assert.throws(() => save(file, { gone }), /save: tensors\.gone has been disposed/);
  assert.ok(!fs.existsSync(file), 'nothing written');
});

test("the deep network's state dict: saved, loaded into a new network, the same logits; a network of another shape is refused", () => {
  const file = path.join(tmp(), 'deep.safetensors');
  const net = new DeepNetwork({ generator: new Generator(2147483647) });
  // Running statistics that are not the initial zeros and ones, so that the buffers are checked too.
  const layer1 = net.layers[1] as BatchNorm1d;
  layer1.runningMean.assign(tf.randomNormal([100]));
  const dict = net.stateDict();
  assert.deepEqual(Object.keys(dict).slice(0, 7), [
    'C',
    'layer0.weight',
    'layer1.gamma',
    'layer1.beta',
    'layer1.running_mean',
    'layer1.running_var',
    'layer3.weight',
  ]);
  assert.equal(Object.keys(dict).length, 1 + 6 * 5);
  save(file, dict);
  const other = new DeepNetwork({ generator: new Generator(1) });
  tf.tidy(() => other.loadStateDict(load(file)));
  net.train(false);
  other.train(false);
  const X = tf.tensor2d(
    [
      [0, 0, 0],
      [1, 2, 3],
      [26, 5, 9],
    ],
    [3, 3],
    'int32',
  );
  assert.deepEqual(Array.from(other.logits(X).dataSync()), Array.from(net.logits(X).dataSync()));
  const smaller = new DeepNetwork({ generator: new Generator(1), hiddenLayers: 4 });
  assert.throws(
    () => tf.tidy(() => smaller.loadStateDict(load(file))),
    /loadStateDict: the tensors do not fit this network: not in the network layer15\.weight, layer16\.gamma, layer16\.beta, layer16\.running_mean, layer16\.running_var\./,
  );
  assert.throws(
    () => other.loadStateDict({}),
    /loadStateDict: the tensors do not fit this network: missing C, layer0\.weight, layer1\.gamma/,
  );
  const wider = new DeepNetwork({ generator: new Generator(1), nHidden: 50 });
  assert.throws(
    () => tf.tidy(() => wider.loadStateDict(load(file))),
    /loadStateDict: layer0\.weight is float32 \[30,100\], the network's is float32 \[30,50\]/,
  );
  [net, other, smaller, wider].forEach((n) => n.dispose());
});

test("notebooks write their files beside the runner's results (MAKEMORE_RESULTS), else in dist/", () => {
  const saved = process.env.MAKEMORE_RESULTS;
  try {
    process.env.MAKEMORE_RESULTS = path.join(os.tmpdir(), 'out', 'results.json');
    assert.equal(outputFile('04-batchnorm.safetensors'), path.join(os.tmpdir(), 'out', '04-batchnorm.safetensors'));
    delete process.env.MAKEMORE_RESULTS;
    assert.equal(outputFile('x.safetensors'), path.join(ROOT, 'dist', 'x.safetensors'));
    assert.throws(
      () => outputFile('../x.safetensors'),
      /outputFile: name must be a file name without a folder, e\.g\. '04-batchnorm\.safetensors', got "\.\.\/x\.safetensors"/,
    );
    assert.throws(() => outputFile(''), /got ""/);
  } finally {
    if (saved === undefined) delete process.env.MAKEMORE_RESULTS;
    else process.env.MAKEMORE_RESULTS = saved;
  }
});
