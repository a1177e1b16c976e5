/** What the page and its training worker say to each other (postMessage). */
import type { Figure } from '../lib/viz/figure';
import type { Settings } from './settings';

export type ToWorker =
  | { type: 'train'; settings: Settings }
  /** Stop after the current stretch of steps (a fraction of a second), then report as at the end. */
  | { type: 'stop' };

/** The four pictures of lib/viz/pictures.ts and the loss curve, ready for Plotly. */
export interface Pictures {
  forward: Figure;
  backward: Figure;
  weights: Figure;
  update: Figure;
  loss: Figure;
}

export type FromWorker =
  /** What the worker is doing before the steps start (building the data set, compiling the step). */
  | { type: 'status'; text: string }
  /** A line the notebooks print (`      0/   1001: 3.2870`, `layer 2 (      Tanh): ...`). */
  | { type: 'print'; text: string }
  /** Steps done so far, and the pictures at the last of them. */
  | { type: 'progress'; done: number; steps: number; msPerStep: number; pictures: Pictures }
  /** Training is over: all the steps ran, or it was stopped. */
  | { type: 'finished'; done: number; steps: number; stopped: boolean; seconds: number }
  | { type: 'error'; message: string };
