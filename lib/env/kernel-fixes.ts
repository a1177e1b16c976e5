/**
 * Two fixes to TensorFlow.js's kernel registry, through its public API (registered once):
 *
 * 1. `UnsortedSegmentSum` for the WebAssembly backend, which lacks it: it is the gradient of
 *    `tf.gather`, so without it no loss that gathers (e.g. `C.gather(X)`) can be trained there. Written
 *    in plain JavaScript on the backend's public `readSync` / `write` (compiled steps run it on the
 *    project's own kernel instead; see lib/compile/lower.ts).
 * 2. A faster gradient for matrix products on TensorFlow.js's WebAssembly backend.
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

/** y[segments, ...] = 0; y[ids[j], ...] += x[j, ...] (ids out of range are skipped, as TensorFlow.js's cpu backend does). */
function unsortedSegmentSum({
  inputs,
  backend,
  attrs,
}: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const be = backend as tf.KernelBackend;
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const segments = Number((attrs as { numSegments: number }).numSegments);
  const values = be.readSync(x.dataId) as Float32Array;
  const ids = be.readSync(segmentIds.dataId) as Int32Array;
  const inner = values.length / Math.max(1, ids.length);
  const out = new Float32Array(segments * inner);
  ids.forEach((id, j) => {
    if (id < 0 || id >= segments) return;
    for (let i = 0; i < inner; i++) out[id * inner + i] += values[j * inner + i];
  });
  const shape = [segments, ...x.shape.slice(segmentIds.shape.length)];
  return { dataId: be.write(out, shape, 'float32'), shape, dtype: 'float32' };
}

export function registerKernelFixes(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
    });
  }
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
        a: () => {
          const dA = tf.matMul(g, t(B));
          return transposeA ? t(dA) : dA;
        },
        b: () => {
          const dB = tf.matMul(t(A), g);
          return transposeB ? t(dB) : dB;
        },
      };
    },
  });
}
