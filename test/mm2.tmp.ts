import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
(async () => {
  await initBackend();
  const X = tf.randomNormal([32, 200]);
  const W2 = tf.randomNormal([200, 27]);
  const dy = tf.randomNormal([32, 27]);
  const W1 = tf.randomNormal([30, 200]);
  const bench = (name: string, f: () => tf.Tensor) => {
    for (let i = 0; i < 100; i++) tf.tidy(f);
    const n = 3000; const t0 = performance.now();
    for (let i = 0; i < n; i++) tf.tidy(f);
    console.log(name.padEnd(40), ((performance.now() - t0) / n * 1000).toFixed(1), 'us');
  };
  bench('transpose 200x27', () => W2.transpose());
  bench('dy @ W2.transpose()', () => dy.matMul(W2.transpose()));
  bench('X.transpose() @ dy', () => X.transpose().matMul(dy));
  bench('dy200 @ W1.transpose()', () => X.matMul(W1.transpose()));
  bench('tanh', () => X.tanh());
  bench('sigmoid', () => X.sigmoid());
  bench('exp', () => X.exp());
  bench('2*sigmoid(2x)-1', () => X.mul(2).sigmoid().mul(2).sub(1));
  bench('sum0 via ones@X', () => tf.ones([1, 32]).matMul(X));
  bench('sum0', () => X.sum(0));
  bench('square', () => X.square());
  bench('mul', () => X.mul(X));
  bench('sub bcast', () => X.sub(X.slice([0, 0], [1, 200])));
})();
