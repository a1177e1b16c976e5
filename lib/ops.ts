/**
 * The few tensor operations the lecture uses that TensorFlow.js spells differently from PyTorch.
 * Each says which PyTorch expression it stands for.
 */
import * as tf from '@tensorflow/tfjs';
import { Generator } from './random';

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

/** `x.std(axis, keepdim)`: the *unbiased* standard deviation, sqrt(sum((x - mean)^2) / (n - 1)). */
export function std(x: tf.Tensor, axis: number, keepDims = false): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[axis] as number;
    const mean = x.mean(axis, true);
    return x.sub(mean).square().sum(axis, keepDims).div(n - 1).sqrt();
  });
}

/** `x.var(axis, keepdim)`: the *unbiased* variance, sum((x - mean)^2) / (n - 1). */
export function variance(x: tf.Tensor, axis: number, keepDims = false): tf.Tensor {
  return tf.tidy(() => {
    const n = x.shape[axis] as number;
    return x.sub(x.mean(axis, true)).square().sum(axis, keepDims).div(n - 1);
  });
}

/**
 * `C[X].view(B, -1)`: look up the embedding of every context character and concatenate them.
 * Computed as one_hot(X) @ C, which is exact (a sum of one row and zeros), because the gradient
 * of tf.gather needs a kernel (UnsortedSegmentSum) that the WebAssembly backend lacks.
 */
export function embed(C: tf.Tensor, X: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const [B, T] = X.shape as [number, number];
    const [V, D] = C.shape as [number, number];
    const oneHot = tf.oneHot(X.reshape([B * T]) as tf.Tensor1D, V);
    return oneHot.matMul(C as tf.Tensor2D).reshape([B, T * D]);
  });
}

/**
 * `F.cross_entropy(logits, Y)`: the mean over the batch of -log softmax(logits)[i, Y[i]],
 * computed as logsumexp(logits[i]) - logits[i, Y[i]] (stable for large logits).
 */
export function crossEntropy(logits: tf.Tensor, Y: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const [, V] = logits.shape as [number, number];
    const picked = logits.mul(tf.oneHot(Y as tf.Tensor1D, V)).sum(1);
    return tf.logSumExp(logits, 1).sub(picked).mean() as tf.Scalar;
  });
}

/** Read a scalar tensor into a number (a synchronous read from the backend). */
export function item(t: tf.Tensor): number {
  return t.dataSync()[0];
}
