import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
(async () => {
  await initBackend();
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['x@W1 32x30@30x200', [32, 30], [30, 200], false, false],
    ['h@W2 32x200@200x27', [32, 200], [200, 27], false, false],
    ['dy@W2^T 32x27 @ (200x27)^T', [32, 27], [200, 27], false, true],
    ['h^T@dy (32x200)^T @ 32x27', [32, 200], [32, 27], true, false],
    ['dy@W1^T 32x200 @ (30x200)^T', [32, 200], [30, 200], false, true],
    ['x^T@dy (32x30)^T @ 32x200', [32, 30], [32, 200], true, false],
    ['onehot 96x27@27x10', [96, 27], [27, 10], false, false],
    ['onehot^T (96x27)^T@96x10', [96, 27], [96, 10], true, false],
  ];
  for (const [name, a, b, ta, tb] of cases) {
    const A = tf.randomNormal(a), B = tf.randomNormal(b);
    for (let i = 0; i < 50; i++) tf.tidy(() => tf.matMul(A, B, ta, tb));
    const n = 2000; const t0 = performance.now();
    for (let i = 0; i < n; i++) tf.tidy(() => tf.matMul(A, B, ta, tb));
    console.log(name.padEnd(32), ((performance.now() - t0) / n * 1000).toFixed(1), 'us');
  }
  const X = tf.randomNormal([32, 200]);
  for (const [name, f] of [['sum axis0 32x200', () => X.sum(0)], ['mean axis0', () => X.mean(0)], ['add', () => X.add(X)], ['tanh', () => X.tanh()], ['sum axis1', () => X.sum(1)]] as [string, () => tf.Tensor][]) {
    const n = 5000; const t0 = performance.now();
    for (let i = 0; i < n; i++) tf.tidy(f);
    console.log(name.padEnd(32), ((performance.now() - t0) / n * 1000).toFixed(1), 'us');
  }
})();
