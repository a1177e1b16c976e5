/**
 * The few tensor operations the lecture uses that TensorFlow.js spells differently from PyTorch.
 * Each says which PyTorch expression it stands for.
 */
import * as tf from '@tensorflow/tfjs';
import { Generator } from './random';
import { ArgumentError, fail } from '../check';
import { largestIndex } from '../train/guard';

/** `torch.randn(shape, generator=g)`: the same numbers, as a float32 tensor. */
export function randn(g: Generator, shape: number[]): tf.Tensor {
  return tf.tensor(g.randn(...shape), shape, 'float32');
}

/** A trainable parameter (`requires_grad = True`) holding `value`; takes ownership of it. */
export function parameter(value: tf.Tensor, name?: string): tf.Variable {
  const v = tf.variable(value, true, name ? `${name}_${Math.random().toString(36).slice(2, 8)}` : undefined);
  value.dispose();
  return v;
}

/** A non-trainable buffer (PyTorch's `register_buffer`) holding `value`; takes ownership of it. */
export function buffer(value: tf.Tensor): tf.Variable {
  const v = tf.variable(value, false);
  value.dispose();
  return v;
}

/**
 * `x.std(axis, keepdim)`: the *unbiased* standard deviation, s = sqrt(sum((x - mean)^2) / (n - 1)).
 * Its gradient is written out: ds/dx = (x - mean) / ((n - 1) * s). (One recorded operation instead of
 * six: TensorFlow.js spends more time per operation than on the arithmetic of these small tensors.)
 */
export function std(x: tf.Tensor, axis: number, keepDims = false): tf.Tensor {
  const n = x.shape[axis] as number;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const xc = input.sub(input.mean(axis, true));
    const s = xc
      .square()
      .sum(axis, true)
      .div(n - 1)
      .sqrt();
    save([xc, s]);
    return {
      value: keepDims ? s : s.squeeze([axis]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [c, sd] = saved;
        const g = keepDims ? dy : dy.expandDims(axis);
        return c.mul(g.div(sd.mul(n - 1)));
      },
    };
  });
  return f(x);
}

/** `x.var(axis, keepdim)`: the *unbiased* variance, sum((x - mean)^2) / (n - 1). */
export function variance(x: tf.Tensor, axis: number, keepDims = false): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[axis] as number;
    return x
      .sub(x.mean(axis, true))
      .square()
      .sum(axis, keepDims)
      .div(n - 1);
  });
}

/**
 * `C[X].view(B, -1)`: look up the embedding of every context character and concatenate them.
 * A gather; its gradient sums the rows of dout into the rows of C they came from (UnsortedSegmentSum,
 * which lib/env/kernel-fixes.ts registers for the WebAssembly backend).
 */
export function embed(C: tf.Tensor, X: tf.Tensor): tf.Tensor2D {
  if (!(C instanceof tf.Tensor) || C.rank !== 2) fail('embed', 'the table C', C, 'a 2-D tensor [vocabSize, nEmbd]');
  if (!(X instanceof tf.Tensor) || X.rank !== 2 || X.dtype !== 'int32')
    fail('embed', 'X', X, 'an int32 tensor [batch, blockSize] of character indices');
  const [B, T] = X.shape as [number, number];
  const [V, D] = C.shape as [number, number];
  // An index past the table would silently embed as zeros (TensorFlow.js's gather does not check).
  const largest = largestIndex(X, 'maxX');
  if (largest >= V) {
    throw new ArgumentError(
      `embed: the data holds the character index ${largest}, but the embedding table has ${V} rows, one per ` +
        `character: build it for the data's vocabulary (at least ${largest + 1} characters, vocab.size), e.g. vocabSize: vocab.size.`,
    );
  }
  return tf.tidy(() => tf.gather(C, X.reshape([B * T])).reshape([B, T * D]));
}

/**
 * `F.cross_entropy(logits, Y)`: the mean over the batch of -log softmax(logits)[i, Y[i]], computed
 * stably as logsumexp(logits[i]) - logits[i, Y[i]]. Its gradient is written out:
 * d loss / d logits = (softmax(logits) - one_hot(Y)) / B.
 */
export function crossEntropy(logits: tf.Tensor, Y: tf.Tensor): tf.Scalar {
  if (!(logits instanceof tf.Tensor) || logits.rank !== 2)
    fail('crossEntropy', 'logits', logits, 'a 2-D tensor [batch, vocabSize]');
  if (!(Y instanceof tf.Tensor) || Y.rank !== 1 || Y.dtype !== 'int32' || Y.shape[0] !== logits.shape[0]) {
    fail('crossEntropy', 'Y', Y, `an int32 tensor [${logits.shape[0]}] of target indices, one per row of the logits`);
  }
  const [B, V] = logits.shape as [number, number];
  // A target past the last column would silently count as a probability of 0 (one_hot of it is all zeros).
  const largest = largestIndex(Y, 'maxY');
  if (largest >= V) {
    throw new ArgumentError(
      `crossEntropy: the targets hold the character index ${largest}, but the logits have ${V} columns, one per ` +
        `character: the output layer needs one output per character of the data's vocabulary (at least ${largest + 1}, vocab.size).`,
    );
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const l = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const oneHot = tf.oneHot(Y as tf.Tensor1D, V).toFloat();
    const z = l.sub(l.max(1, true)); // shifted: the largest logit is 0
    const lse = z.exp().sum(1, true).log(); // log of the softmax denominator
    const loss = lse.sub(z.mul(oneHot).sum(1, true)).mean() as tf.Scalar;
    save([z, lse, oneHot]);
    return {
      value: loss,
      // softmax - one_hot, computed only when a gradient is asked for (not in evaluation)
      gradFunc: (dy: tf.Tensor, [zs, lses, oh]: tf.Tensor[]) => zs.sub(lses).exp().sub(oh).mul(dy.div(B)),
    };
  });
  return f(logits) as tf.Scalar;
}

/**
 * `with torch.no_grad(): ...`: run `f` without recording it for the gradient (for side jobs such as
 * the running estimates of batch norm, which nothing in the loss depends on). Runs inside a
 * custom-gradient operation, where TensorFlow.js records nothing.
 */
export function noGrad(f: () => void): void {
  tf.customGrad(() => {
    f();
    return { value: tf.scalar(0), gradFunc: () => [] };
  })().dispose();
}

/** Read a scalar tensor into a number (a synchronous read from the backend). */
export function item(t: tf.Tensor): number {
  return t.dataSync()[0];
}

/**
 * The number a scalar expression gives, with every tensor it made released:
 * `mm.num(() => logits.abs().max())`, where PyTorch writes `logits.abs().max().item()`.
 */
export function num(f: () => tf.Tensor): number {
  if (typeof f !== 'function') fail('num', 'f', f, 'a function that returns a scalar tensor, e.g. () => x.abs().max()');
  return tf.tidy(() => {
    const t = f();
    if (!(t instanceof tf.Tensor) || t.size !== 1) {
      fail(
        'num',
        'f()',
        t instanceof tf.Tensor ? `a tensor of shape [${t.shape.join(', ')}]` : t,
        'a tensor of one element',
      );
    }
    return t.dataSync()[0];
  });
}
