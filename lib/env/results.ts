/**
 * Results that one notebook hands to a later one (each runs in its own kernel): the final train
 * and dev losses of each stage, for the summary table at the end of the batch-norm notebook.
 *
 * One file per run profile, `dist/results-<profile>.json`, written by `npm start` and by notebooks run
 * in JupyterLab alike (`MAKEMORE_RESULTS` names another file: the tests use their own). Written
 * atomically. Each result carries the label of the network that produced it (lib/nn/fingerprint.ts), so
 * that a result of an edited network is not shown as the lecture's stage.
 * Other files a notebook makes (checkpoints) go beside it: `outputFile(name)`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { DIST_DIR } from './paths';
import { PROFILE } from './profile';
import { ArgumentError } from '../check';
import { NetworkLabel, labelNow, labelOf, networkDifference } from '../nn/fingerprint';
import { Stage, STAGES, stageNetwork } from '../nn/models';
import { Dataset } from '../data/dataset';
import { Generator } from '../tensor/random';

/** The values recorded for a stage (train, dev losses), its profile and the network that produced them. */
export interface Result {
  [value: string]: unknown;
  profile?: string;
  network?: NetworkLabel;
}
export type Results = Record<string, Result>;

export function resultsFile(): string {
  const file = process.env.MAKEMORE_RESULTS;
  if (file === undefined) return path.join(DIST_DIR, `results-${PROFILE}.json`);
  if (file.trim() === '') {
    throw new ArgumentError(
      'MAKEMORE_RESULTS is set but empty: set it to a JSON file for the results, or unset it ' +
        `to use dist/results-<profile>.json.`,
    );
  }
  return file;
}

/**
 * Where a notebook writes a file it makes, e.g. a checkpoint: beside the runner's results file (the
 * runner's output folder, so a test run into dist/test/ leaves dist/ alone), else in dist/.
 */
export function outputFile(name: string): string {
  if (typeof name !== 'string' || name === '' || path.basename(name) !== name) {
    throw new Error(
      `outputFile: name must be a file name without a folder, e.g. '04-batchnorm.safetensors', got ${JSON.stringify(name)}.`,
    );
  }
  return path.join(path.dirname(resultsFile()), name);
}

export function readResults(): Results {
  const file = resultsFile();
  if (!fs.existsSync(file)) return {};
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(
      `${file} is not valid JSON (${(e as Error).message}): delete it, then run the earlier notebooks again.`,
    );
  }
}

/**
 * Merge `values` under `key` (e.g. recordResult('batchnorm', { train: 2.0668, dev: 2.1048 }, parameters)),
 * labelled by the network of `parameters` (as `train` first trained them).
 */
export function recordResult(key: string, values: Record<string, number | string>, parameters?: tf.Variable[]): void {
  const file = resultsFile();
  const network = parameters ? (labelOf(parameters) ?? labelNow(parameters)) : undefined;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Notebooks may run side by side (npm start runs two at a time): read, change and write under a lock.
  withLock(`${file}.lock`, () => {
    const all = readResults();
    all[key] = { ...all[key], ...values, profile: PROFILE, network };
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(all, null, 1));
    fs.renameSync(tmp, file);
  });
}

/** Run `f` holding a lock file (created exclusively; one left by a process that died is taken after 10 s). */
function withLock(lock: string, f: () => void): void {
  const start = Date.now();
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() - start > 10000) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // a short synchronous pause
    }
  }
  try {
    f();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

const lecture = new WeakMap<Dataset, Map<Stage, NetworkLabel>>();

/**
 * The label of the lecture's network at `stage` (lib/nn/models.ts's `stageNetwork`, seed 2147483647),
 * its first step on `train`, the training split, as `mm.train` would take it.
 */
export function lectureNetwork(stage: Stage, train: Dataset): NetworkLabel {
  let byStage = lecture.get(train);
  if (!byStage) lecture.set(train, (byStage = new Map()));
  let label = byStage.get(stage);
  if (!label) {
    const g = new Generator(2147483647);
    const net = stageNetwork(stage, g);
    try {
      label = labelNow(net.parameters);
      const ix = g.randint(0, train.size, [32]);
      label.firstLoss = tf.tidy(() => {
        const T = train.blockSize;
        const X = tf.tensor2d(
          Int32Array.from(Array.from(ix).flatMap((r) => Array.from(train.X.subarray(r * T, r * T + T)))),
          [32, T],
          'int32',
        );
        return net
          .loss(
            X,
            tf.tensor1d(
              Int32Array.from(ix, (r) => train.Y[r]),
              'int32',
            ),
            true,
          )
          .dataSync()[0];
      });
    } finally {
      net.dispose();
    }
    byStage.set(stage, label);
  }
  return label;
}

/**
 * Which network a result of `stage` comes from, for a table: "the lecture's", "edited: ..." (how it
 * differs), or "unknown" for a result without a label.
 */
export function resultNetwork(result: Result | undefined, stage: Stage, train: Dataset): string {
  if (!result) return '-';
  if (!STAGES.includes(stage))
    throw new ArgumentError(`resultNetwork: stage must be one of ${STAGES.join(', ')}, got ${JSON.stringify(stage)}`);
  if (!result.network) return 'unknown (recorded without its network)';
  const diff = networkDifference(result.network, lectureNetwork(stage, train));
  return diff ? `edited: ${diff}` : "the lecture's";
}
