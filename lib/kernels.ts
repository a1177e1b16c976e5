/**
 * A faster gradient for matrix products on TensorFlow.js's WebAssembly backend.
 *
 * The gradient of y = a @ b is da = dy @ b^T and db = a^T @ dy. TensorFlow.js computes these with
 * the transpose flags of matMul, which the WebAssembly backend runs 2 to 5 times slower than a plain
 * product (measured on 32x200 and 200x27 matrices: about 300 us against 60 us). Transposing first,
 * then multiplying, gives the same numbers much faster. Registered once, for every backend.
 */
import * as tf from '@tensorflow/tfjs';

/** Swap the last two axes (a matrix transpose; batched for rank 3 and more). */
function t(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
  return x.transpose(perm);
}

/** mat(x, transposed): x or its transpose, materialised. */
const mat = (x: tf.Tensor, transposed: boolean) => (transposed ? t(x) : x);

let registered = false;

export function registerFastGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs?: tf.NamedAttrMap) => {
      const g = dy as tf.Tensor;
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      // y = A @ B with A = op(a), B = op(b): dA = dy @ B^T, dB = A^T @ dy; then undo op on a and b.
      const A = mat(a, transposeA);
      const B = mat(b, transposeB);
      return {
        a: () => { const dA = tf.matMul(g, t(B)); return transposeA ? t(dA) : dA; },
        b: () => { const dB = tf.matMul(t(A), g); return transposeB ? t(dB) : dB; },
      };
    },
  });
}
