/**
 * The reference values the notebooks show beside ours, typed: what the lecture printed (its final losses,
 * its per-layer lines) and what PyTorch computed for the same seeds (torch 2.13: the step-0 losses of every
 * stage, the deep network's statistics). Read from `data/lecture.json`, which
 * `test/reference/lecture_json.py` writes; the notebooks (`mm.lecture`) and the tests read this module.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DATA_DIR } from './env/paths';
import type { Stage } from './nn/models';

/** A final loss as the lecture reports it, with the number of decimals it gives. */
export interface LectureLoss {
  train: number;
  dev: number;
  digits: number;
}

/** A row of the forward picture: a layer's output statistics (`saturated_percent` for Tanh layers). */
export interface TorchLayerRow {
  index: number;
  type: string;
  mean: number;
  std: number;
  saturated_percent?: number;
}

/** A row of the third picture: a parameter, its gradient and their ratio. */
export interface TorchParameterRow {
  name: string;
  shape: number[];
  ndim: number;
  grad_mean: number;
  grad_std: number;
  data_std: number;
  grad_data_ratio: number;
  update_data_log10: number;
}

/** The deep network's statistics at one moment. */
export interface TorchMoment {
  forward: TorchLayerRow[];
  /** the gradients at the Tanh layers' outputs */
  backward: TorchLayerRow[];
  parameters: TorchParameterRow[];
}

export interface Lecture {
  about: string;
  lecture: {
    source: string;
    /** after 200,000 steps, per stage of notebooks 01 to 04 */
    finalLosses: Record<Stage, LectureLoss>;
    /** the lecture's printed lines of its last run, made with gain 1 (see notebook 06) */
    gain1: { forwardLines: string[]; gradientLines: string[] };
  };
  torch: {
    version: string;
    seed: number;
    /** -ln(1/27) */
    expectedInitLoss: number;
    stageStep0Losses: Record<Stage | 'batchnorm_b1_drawn', number>;
    stageParameterCounts: Record<Stage | 'batchnorm_b1_drawn', number>;
    /** the deep network of notebooks 05 to 09 (gain 5/3, batch norm, 47,024 parameters) */
    deepNetwork: {
      parameterCount: number;
      parameterNames: string[];
      parameterShapes: number[][];
      lossStep0: number;
      lossStep1000: number;
      step0: TorchMoment;
      /** after the lecture's loop broke at `i >= 1000`: 1,001 steps */
      after1001Steps: TorchMoment;
      /** log10(std(lr * grad) / std(data)) of every parameter, by `parameterNames` */
      updateRatiosLog10: { step0: number[]; step1000: number[] };
    };
  };
}

/** `data/lecture.json`. */
export const LECTURE_FILE = path.join(DATA_DIR, 'lecture.json');

const values = JSON.parse(fs.readFileSync(LECTURE_FILE, 'utf8')) as Lecture;

/** The lecture's printed final loss of a stage on a split, with its digits: `'2.1245'`, `'2.07'`. */
function finalLossText(stage: Stage, split: 'train' | 'dev'): string {
  const loss = values.lecture.finalLosses[stage];
  return loss[split].toFixed(loss.digits);
}

/** `mm.lecture`: the lecture's values, PyTorch's values, and the lecture's losses as it printed them. */
export const lecture = { ...values.lecture, torch: values.torch, finalLossText };
