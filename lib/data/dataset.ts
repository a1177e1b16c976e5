/**
 * From names to training examples, as in makemore: the vocabulary, the (context -> next char)
 * dataset, and the seeded 80/10/10 split of the lecture.
 */
import { PyRandom } from '../tensor/random';
import { checkInteger, fail } from '../check';

/** A list of names: an array of strings (`where` names the function). */
function checkWords(where: string, words: string[]): void {
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) fail(where, 'words', words, 'an array of names (strings)');
}

/** '.' is index 0 (start and end of a name), 'a'..'z' are 1..26. */
export interface Vocabulary {
  itos: string[];
  stoi: Map<string, number>;
  size: number;
}

export function buildVocabulary(words: string[]): Vocabulary {
  checkWords('buildVocabulary', words);
  const chars = [...new Set(words.join(''))].sort();
  const itos = ['.', ...chars];
  const stoi = new Map(itos.map((c, i) => [c, i] as [string, number]));
  return { itos, stoi, size: itos.length };
}

/**
 * Examples of `blockSize` previous characters (row-major in X, padded with '.') and the
 * character that follows (Y). Every name ends with '.'.
 */
export interface Dataset {
  X: Int32Array;
  Y: Int32Array;
  size: number;
  blockSize: number;
}

export function buildDataset(words: string[], blockSize: number, vocabulary?: Vocabulary): Dataset {
  checkWords('buildDataset', words);
  checkInteger('buildDataset', 'blockSize', blockSize, 1);
  const vocab = vocabulary ?? buildVocabulary(words);
  const X: number[] = [];
  const Y: number[] = [];
  for (const w of words) {
    const context: number[] = new Array(blockSize).fill(0);
    for (const ch of w + '.') {
      const ix = vocab.stoi.get(ch);
      if (ix === undefined) throw new Error(`character ${JSON.stringify(ch)} of "${w}" is not in the vocabulary`);
      X.push(...context);
      Y.push(ix);
      context.shift();
      context.push(ix);
    }
  }
  return { X: Int32Array.from(X), Y: Int32Array.from(Y), size: Y.length, blockSize };
}

export interface Split {
  train: Dataset;
  dev: Dataset;
  test: Dataset;
}

/** The lecture's split: `random.seed(seed); random.shuffle(words)`, then 80% / 10% / 10% of words. */
export function splitDataset(words: string[], blockSize = 3, seed = 42, vocabulary?: Vocabulary): Split {
  checkWords('splitDataset', words);
  const vocab = vocabulary ?? buildVocabulary(words);
  checkInteger('splitDataset', 'blockSize', blockSize, 1);
  if (!Number.isInteger(seed)) fail('splitDataset', 'seed', seed, 'an integer (random.seed of the shuffle)');
  const shuffled = [...words];
  const rng = new PyRandom();
  rng.seed(seed);
  rng.shuffle(shuffled);
  const n1 = Math.trunc(0.8 * shuffled.length);
  const n2 = Math.trunc(0.9 * shuffled.length);
  return {
    train: buildDataset(shuffled.slice(0, n1), blockSize, vocab),
    dev: buildDataset(shuffled.slice(n1, n2), blockSize, vocab),
    test: buildDataset(shuffled.slice(n2), blockSize, vocab),
  };
}
