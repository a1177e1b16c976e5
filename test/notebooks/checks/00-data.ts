// What 00-data must show: the backend, the profile, the names and the lecture's split sizes.
import assert from 'node:assert/strict';
import { ExecutedNotebook } from '../../helpers/executed';

export function check(nb: ExecutedNotebook): void {
  const out = nb.printed;
  assert.match(out, /^TensorFlow\.js backend: (tensorflow|wasm|cpu)/m);
  assert.match(out, /run profile: quick/);
  assert.match(out, /32033 names/);
  assert.match(out, /train 182625 examples, dev 22655, test 22866/);
  assert.match(out, /mma ---> \./);
  assert.deepEqual(nb.figures, ["[Plotly figure: How often each character follows '.']"]);
}
