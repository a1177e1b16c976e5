/**
 * The lecture's four diagnostic pictures of the deep network, for one moment of training, so that
 * experiments (other gains, no tanh, other learning rates, batch norm or not) can be compared at a
 * glance:
 *   1. forward activations of the Tanh layers: mean, std, percent saturated (|t| > 0.97), histograms;
 *   2. backward gradients at the Tanh layers' outputs: mean, std, histograms;
 *   3. parameter gradients of the 2-D weights: mean, std, grad:data ratio, histograms;
 *   4. update:data ratio of the 2-D weights over the steps, with the guide line at -3.
 * The third picture needs the gradients of a step: take it with `sgdStepKeepingGrads` (../train/loop.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { Layer, Linear, Tanh } from '../nn/layers';
import { Figure } from './figure';
import * as diag from '../tensor/stats';
import { formatFixed, formatGradStats, formatLayerStats, formatParamStats, pyTuple } from './format';
import * as plots from './plots';

/**
 * The layers the first two pictures look at: the Tanh layers (all but a last one); in a network
 * without tanh (the fully linear case), the hidden Linear layers instead.
 */
export function watchedLayers(layers: Layer[]): number[] {
  const tanh = layers.map((l, i) => (l instanceof Tanh ? i : -1)).filter((i) => i >= 0 && i < layers.length - 1);
  if (tanh.length > 0) return tanh;
  return layers.map((l, i) => (l instanceof Linear ? i : -1)).filter((i) => i >= 0 && i < layers.length - 1);
}

export interface Picture {
  /** the lecture's printed lines */
  lines: string[];
  figure: Figure;
}

/** A layer's line without the saturation (a Linear output has no flat region to saturate). */
function formatMeanStd(index: number, kind: string, s: { mean: number; std: number }): string {
  return `layer ${index} (${kind.padStart(10)}): mean ${formatFixed(Math.fround(s.mean), 2, true)}, std ${formatFixed(Math.fround(s.std), 2)}`;
}

/** Picture 1: the watched layers' outputs (`layer.out`). */
export function forwardPicture(layers: Layer[], title = 'activation distribution'): Picture {
  const lines: string[] = [];
  const series: plots.HistogramSeries[] = [];
  for (const i of watchedLayers(layers)) {
    const layer = layers[i];
    if (!layer.out) throw new Error(`layer ${i} has no output yet: run a forward pass first`);
    const t = layer.out.dataSync();
    const s = diag.layerStats(layer.name, t);
    lines.push(layer instanceof Tanh ? formatLayerStats(i, layer.name, s) : formatMeanStd(i, layer.name, s));
    const h = diag.histogram(t);
    series.push({ name: `layer ${i} (${layer.name})`, edges: h.edges, values: h.hist });
  }
  return { lines, figure: plots.histograms(series, { title }) };
}

/** Picture 2: the gradients at the watched layers' outputs (`layer.outGrad`, needs `retainGrad`). */
export function backwardPicture(layers: Layer[], title = 'gradient distribution'): Picture {
  const lines: string[] = [];
  const series: plots.HistogramSeries[] = [];
  for (const i of watchedLayers(layers)) {
    const layer = layers[i];
    if (!layer.outGrad) throw new Error(`layer ${i} has no gradient: call retainGrad(layers) before training`);
    const t = layer.outGrad.dataSync();
    lines.push(formatGradStats(i, layer.name, { mean: diag.meanOf(t), std: diag.stdOf(t) }));
    const h = diag.histogram(t);
    series.push({ name: `layer ${i} (${layer.name})`, edges: h.edges, values: h.hist });
  }
  return { lines, figure: plots.histograms(series, { title }) };
}

/** The legend of a parameter: its name and shape, `layer0.weight (30, 100)`. */
export function parameterLabel(name: string, p: tf.Tensor): string {
  return `${name} ${pyTuple(p.shape)}`;
}

/** Picture 3: the gradients of the 2-D parameters (C and the Linear weights). */
export function parameterPicture(
  parameters: tf.Variable[],
  names: string[],
  grads: tf.NamedTensorMap,
  title = 'weights gradient distribution',
): Picture {
  const lines: string[] = [];
  const series: plots.HistogramSeries[] = [];
  parameters.forEach((p, k) => {
    if (p.rank !== 2) return;
    const g = grads[p.name].dataSync();
    lines.push(formatParamStats(diag.paramStats(p.shape, g, p.dataSync())));
    const h = diag.histogram(g);
    series.push({ name: parameterLabel(names[k], p), edges: h.edges, values: h.hist });
  });
  return { lines, figure: plots.histograms(series, { title }) };
}

/** Picture 4: the update:data ratio of the 2-D parameters over the steps, with the guide at -3. */
export function updatePicture(
  ud: number[][],
  parameters: tf.Variable[],
  names: string[],
  title = 'update:data ratio over time',
): Figure {
  const labels = parameters.map((p, k) => parameterLabel(names[k], p));
  return plots.updateRatios(ud, labels, { title, only: (_, k) => parameters[k].rank === 2 });
}
