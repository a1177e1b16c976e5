/** The values torch 2.13 produced (test/reference/torch_reference.py -> test/fixtures/torch-expected.json). */
import * as fs from 'fs';
import * as path from 'path';

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', name), 'utf8'));

export const EXPECTED = fixture('torch-expected.json');
/** Init draws and diagnostics from torch 2.13 (test/reference/init_diagnostics_reference.py). */
export const INIT_DIAGNOSTICS = fixture('init-diagnostics.json');

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
