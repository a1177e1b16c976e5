// Shared by the checks of 06 and 07: the lecture's 1,001-step training of the deep network.
import assert from 'node:assert/strict';
import { lecture } from '../../../lib/lecture';

/** The parameter count, the step-0 print (torch's loss) and the step-1,000 print (torch's, up to float32 drift). */
export function checkDeepTraining(out: string): void {
  assert.match(out, /run profile: quick/);
  assert.match(out, /^47024 parameters$/m);
  assert.equal(lecture.torch.deepNetwork.lossStep0.toFixed(4), '3.2870');
  assert.match(out, /^ {6}0\/ {3}1001: 3\.2870$/m);
  const last = /^ {3}1000\/ {3}1001: (\d\.\d{4})$/m.exec(out);
  assert.ok(last, 'the step-1,000 line');
  const torchLoss = lecture.torch.deepNetwork.lossStep1000;
  assert.ok(Math.abs(+last[1] - torchLoss) <= 5e-3, `step 1000 loss ${last[1]} vs torch ${torchLoss}`);
}
