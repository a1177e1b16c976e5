/**
 * Results that one notebook hands to a later one (each runs in its own kernel): the final train
 * and dev losses of each stage, for the summary table at the end of the batch-norm notebook.
 *
 * Kept as JSON in `MAKEMORE_RESULTS` (set by the notebook runner to `<out>/results.json`), else in
 * `dist/results-<profile>.json`. Written atomically. Other files a notebook makes (checkpoints) go to
 * the same folder: `outputFile(name)`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { PROJECT_ROOT } from './names';
import { PROFILE } from './profile';

export type Results = Record<string, Record<string, number | string>>;

export function resultsFile(): string {
  return process.env.MAKEMORE_RESULTS ?? path.join(PROJECT_ROOT, 'dist', `results-${PROFILE}.json`);
}

/**
 * Where a notebook writes a file it makes, e.g. a checkpoint: beside the runner's results file (the
 * runner's output folder, so a test run into dist/test/ leaves dist/ alone), else in dist/.
 */
export function outputFile(name: string): string {
  if (typeof name !== 'string' || name === '' || path.basename(name) !== name) {
    throw new Error(`outputFile: name must be a file name without a folder, e.g. '04-batchnorm.safetensors', got ${JSON.stringify(name)}.`);
  }
  return path.join(path.dirname(resultsFile()), name);
}

export function readResults(): Results {
  const file = resultsFile();
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}): delete it, then run the earlier notebooks again.`);
  }
}

/** Merge `values` under `key` (e.g. recordResult('batchnorm', { train: 2.0668, dev: 2.1048 })). */
export function recordResult(key: string, values: Record<string, number | string>): void {
  const file = resultsFile();
  const all = readResults();
  all[key] = { ...all[key], ...values, profile: PROFILE };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(all, null, 1));
  fs.renameSync(tmp, file);
}
