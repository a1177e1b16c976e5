/** lib/viz/plots.ts's sideBySide and lib/tensor/ops.ts's num: the helpers notebooks use instead of repeated code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { densitySlider, functionsAndDerivatives, histograms, lines, sideBySide } from '../../lib/viz/plots';
import { num } from '../../lib/tensor/ops';
import { ArgumentError } from '../../lib/check';

test('sideBySide: one colour per trace name in every panel, one legend entry, the same y range on request', () => {
  const series = (scale: number) => [
    { name: 'layer 2 (Tanh)', edges: [0, 1, 2], values: [1 * scale, 2 * scale] },
    { name: 'layer 5 (Tanh)', edges: [0, 1, 2], values: [3 * scale, 1 * scale] },
  ];
  const a = histograms(series(1), { title: 'a' });
  const b = histograms(series(2), { title: 'b' });
  const fig = sideBySide(
    [
      { figure: a, title: 'step 0' },
      { figure: b, title: 'after' },
    ],
    'both',
    { sameYRange: true },
  );
  const traces = fig.data as { name: string; showlegend: boolean; line: { color: string }; yaxis: string }[];
  assert.equal(traces.length, 4);
  assert.deepEqual(
    traces.map((t) => t.yaxis),
    ['y', 'y', 'y2', 'y2'],
  );
  assert.equal(traces[0].line.color, traces[2].line.color);
  assert.notEqual(traces[0].line.color, traces[1].line.color);
  assert.deepEqual(
    traces.map((t) => t.showlegend),
    [true, true, false, false],
  );
  const layout = fig.layout as Record<string, { range?: number[]; text?: string }>;
  assert.deepEqual(layout.yaxis.range, layout.yaxis2.range);
  assert.ok(Math.abs(layout.yaxis.range![1] - 6 * 1.05) < 1e-12);
  assert.equal(layout.title.text, 'both');
  const plain = sideBySide(
    [
      { figure: a, title: 'a' },
      { figure: b, title: 'b' },
    ],
    'no shared range',
  );
  assert.equal((plain.layout as Record<string, { range?: number[] }>).yaxis.range, undefined);
});

test('num reads a scalar expression and releases its tensors', () => {
  const x = tf.tensor1d([1, -3, 2]);
  const before = tf.memory().numTensors;
  assert.equal(
    num(() => x.abs().max()),
    3,
  );
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => num(() => x), ArgumentError);
  x.dispose();
});

test('lines and histograms draw what notebook 03 used to patch in: markers, a dashed guide, log axes, an x range, a set-apart series', () => {
  const fig = lines(
    [
      { name: 'measured', x: [1, 10], y: [2, 20], style: 'markers' },
      { name: 'model', x: [1, 10], y: [2, 20] },
      { name: 'guide', x: [1, 10], y: [1, 1], style: 'dashed' },
    ],
    { title: 't', xLog: true, yLog: true },
  );
  const [measured, model, guide] = fig.data as { mode: string; line?: { dash?: string } }[];
  assert.equal(measured.mode, 'markers');
  assert.equal(model.mode, 'lines');
  assert.equal(guide.line?.dash, 'dash');
  const layout = fig.layout as Record<string, { type?: string; range?: number[] }>;
  assert.equal(layout.xaxis.type, 'log');
  assert.equal(layout.yaxis.type, 'log');
  const h = histograms([{ name: 'x', edges: [0, 1], values: [1], colour: 'gray', width: 4 }], {
    title: 'h',
    xRange: [-20, 20],
  });
  assert.deepEqual((h.data[0] as { line: object }).line, { shape: 'hv', color: 'gray', width: 4 });
  assert.deepEqual((h.layout as Record<string, { range?: number[] }>).xaxis.range, [-20, 20]);
});

test('densitySlider: shared bins over every step, one restyle per step, densities that integrate to 1', () => {
  const frames = [
    {
      label: '0',
      curves: [
        [0, 1, 2, 3],
        [1, 1, 1, 2],
      ],
    },
    {
      label: '10',
      curves: [
        [4, 5, 6, 7],
        [2, 2, 3, 3],
      ],
    },
  ];
  const fig = densitySlider(frames, ['a', 'b'], { title: 's', bins: 7, prefix: 'step ' });
  const traces = fig.data as { x: number[]; y: number[]; name: string }[];
  assert.equal(traces.length, 2);
  assert.equal(traces[0].x.length, 7);
  assert.match(traces[0].name, /^a: mean 1\.50, std 1\.29$/);
  const slider = (fig.layout as { sliders: { steps: { label: string; args: [{ y: number[][] }, number[]] }[] }[] })
    .sliders[0];
  assert.deepEqual(
    slider.steps.map((s) => s.label),
    ['0', '10'],
  );
  const width = traces[0].x[1] - traces[0].x[0];
  for (const step of slider.steps) {
    assert.deepEqual(step.args[1], [0, 1]);
    for (const y of step.args[0].y) assert.ok(Math.abs(y.reduce((s, v) => s + v, 0) * width - 1) < 1e-12);
  }
});

test('functionsAndDerivatives: a function and its derivative per colour, one legend entry, shaded bands', () => {
  const fig = functionsAndDerivatives([{ name: 'f', x: [0, 1], y: [0, 1], dy: [1, 1] }], {
    title: 't',
    bands: [{ from: 2, to: 3, label: 'flat' }],
  });
  const traces = fig.data as { showlegend?: boolean; xaxis?: string; line: { color: string } }[];
  assert.equal(traces.length, 2);
  assert.equal(traces[1].xaxis, 'x2');
  assert.equal(traces[1].showlegend, false);
  assert.equal(traces[0].line.color, traces[1].line.color);
  const layout = fig.layout as { shapes: { x0: number; x1: number }[]; annotations: { text: string }[] };
  assert.deepEqual([layout.shapes[0].x0, layout.shapes[0].x1, layout.annotations[0].text], [2, 3, 'flat']);
});
