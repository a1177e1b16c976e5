// Vocabulary, examples and the lecture's seeded split, against the sizes PyTorch/CPython gave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import { buildDataset, buildVocabulary, splitDataset } from '../../lib/data/dataset';
import { loadNames } from '../../lib/data/names';
import { NAMES_FILE, TORCH_REFERENCE } from '../helpers/paths';

const ref = JSON.parse(fs.readFileSync(TORCH_REFERENCE, 'utf8'));

test('vocabulary: "." is 0 and a..z are 1..26', async () => {
  const vocab = buildVocabulary(await loadNames({ file: NAMES_FILE }));
  assert.equal(vocab.size, 27);
  assert.equal(vocab.itos[0], '.');
  assert.equal(vocab.stoi.get('a'), 1);
  assert.equal(vocab.stoi.get('z'), 26);
});

test('"emma" with block size 3 gives the five examples of the lecture', () => {
  const vocab = buildVocabulary(['emma', 'abcdefghijklmnopqrstuvwxyz']);
  const d = buildDataset(['emma'], 3, vocab);
  const rows = Array.from(
    { length: d.size },
    (_, i) => Array.from(d.X.slice(3 * i, 3 * i + 3), (ix) => vocab.itos[ix]).join('') + '>' + vocab.itos[d.Y[i]],
  );
  assert.deepEqual(rows, ['...>e', '..e>m', '.em>m', 'emm>a', 'mma>.']);
});

test('the seeded 80/10/10 split has the sizes of the lecture', async () => {
  const words = await loadNames({ file: NAMES_FILE });
  const { train, dev, test: testSplit } = splitDataset(words, 3, 42);
  assert.deepEqual([train.size, dev.size, testSplit.size], ref.split_sizes_train_dev_test);
  assert.equal(train.X.length, train.size * 3);
});

test('an unknown character is a clear error', () => {
  const vocab = buildVocabulary(['abc']);
  assert.throws(() => buildDataset(['abz'], 3, vocab), /character "z" of "abz" is not in the vocabulary/);
});
