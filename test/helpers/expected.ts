/** The values torch 2.13 produced (test/reference/torch_reference.py -> test/fixtures/torch-expected.json). */
import * as fs from 'fs';
import * as path from 'path';

export const EXPECTED = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'torch-expected.json'), 'utf8'));

/** Largest |a - b| over two arrays of the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
