/** Sampling names from a trained network, as the lecture's last cell does. */
import * as tf from '@tensorflow/tfjs';
import { Generator } from '../tensor/random';
import { ArgumentError, checkFunction, checkGenerator, checkInteger, checkOptions, fail } from '../check';

/**
 * Sample names as the lecture does: start from '...' and draw the next character from
 * softmax(logits) with `torch.multinomial(probs, 1, generator=g)` until '.' comes out.
 * `logits(X)` maps contexts [1, blockSize] to logits [1, vocabSize] in evaluation mode.
 */
export function sampleNames(
  logits: (X: tf.Tensor2D) => tf.Tensor,
  options: {
    generator: Generator;
    itos: string[];
    blockSize: number;
    count?: number;
    maxLength?: number;
    /** Draw as PyTorch 2.x does for one sample (argmax of p / Exponential(1)); default: torch 1.13's path. */
    exponentialForSingleSample?: boolean;
  },
): string[] {
  const where = 'sampleNames';
  checkFunction(
    where,
    'logits',
    logits,
    'a function (X [1, blockSize]) => logits [1, vocabSize], e.g. (X) => net.logits(X)',
  );
  checkOptions(where, options);
  checkGenerator(where, 'options.generator', options.generator);
  const { itos } = options;
  if (!Array.isArray(itos) || itos.length < 2 || !itos.every((c) => typeof c === 'string')) {
    fail(where, 'options.itos', itos, "the vocabulary's characters by index, e.g. vocab.itos (['.', 'a', ..., 'z'])");
  }
  const T = checkInteger(where, 'options.blockSize', options.blockSize, 1);
  const count = checkInteger(where, 'options.count', options.count ?? 20, 0);
  const maxLength = checkInteger(where, 'options.maxLength', options.maxLength ?? 100, 1);
  /** The network's probabilities for a context; the first call checks that it takes contexts of this block size. */
  let checked = false;
  const probsOf = (context: number[]) =>
    tf.tidy(() => {
      let out: tf.Tensor;
      try {
        out = logits(tf.tensor2d([context], [1, T], 'int32'));
      } catch (e) {
        // A shape the network refuses on the first call: most likely a block size it was not built for.
        if (checked || !/shape/.test((e as Error).message)) throw e;
        throw new ArgumentError(
          `${where}: the network's logits failed on a context of blockSize ${T} (a tensor [1, ${T}]): ` +
            `${(e as Error).message}. options.blockSize must be the block size the network was built for (the data's blockSize).`,
        );
      }
      if (!checked && (!(out instanceof tf.Tensor) || out.size !== itos.length)) {
        throw new ArgumentError(
          `${where}: logits(X) must give one logit per character of options.itos, [1, ${itos.length}], ` +
            `got ${out instanceof tf.Tensor ? `[${out.shape.join(', ')}]` : typeof out}: pass the itos of the vocabulary the network was built for.`,
        );
      }
      checked = true;
      return tf.softmax(out.reshape([1, itos.length])).dataSync();
    });
  const names: string[] = [];
  for (let n = 0; n < count; n++) {
    const context = new Array(T).fill(0);
    const out: string[] = [];
    for (let len = 0; len < maxLength; len++) {
      const probs = probsOf(context);
      const ix = options.generator.multinomial(probs, 1, true, {
        exponentialForSingleSample: options.exponentialForSingleSample,
      })[0];
      context.shift();
      context.push(ix);
      out.push(options.itos[ix]);
      if (ix === 0) break;
    }
    names.push(out.join(''));
  }
  return names;
}
