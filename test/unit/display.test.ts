// Showing things outside a notebook (plain node): figures and tables print their text, bundles are
// checked, and a figure's JSON gets the project's defaults under its own settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLOTLY_MIME, display, inNotebook, preferredEntry, showTable, tableText } from '../../lib/viz/display';
import { compactNumbers, figureBundle, figureJson, show } from '../../lib/viz/figure';

/** What `fn` prints with console.log. */
function printed(fn: () => void): string {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => { lines.push(args.join(' ')); };
  try { fn(); } finally { console.log = log; }
  return lines.join('\n');
}

test('outside a kernel: not in a notebook, and tslab (a TypeScript compiler) is not loaded', () => {
  assert.equal(inNotebook(), false);
  assert.ok(!Object.keys(require.cache).some((f) => /[\\/]tslab[\\/]/.test(f)), 'tslab stays unloaded');
});

test('a figure prints its title, a table its aligned text, a bundle its text/plain', () => {
  assert.equal(printed(() => show({ data: [], layout: { title: { text: 'the loss' } } })), '[Plotly figure: the loss]');
  assert.equal(printed(() => show({ data: [] })), '[Plotly figure: figure]');
  assert.equal(printed(() => showTable([['stage', 'loss'], ['batch norm', 2.0668]], 'Final')), 'Final\nstage       loss  \nbatch norm  2.0668');
  assert.equal(printed(() => display({ 'text/html': '<b>x</b>' })), '', 'nothing to print without text/plain');
});

test('the table text is the caption, then the columns padded to their widest cell', () => {
  assert.equal(tableText([['a', 'bb'], ['ccc', 'd']]), 'a    bb\nccc  d ');
});

test('a bundle sends its richest MIME type: Plotly, then HTML, SVG, Markdown, text', () => {
  const fig = { data: [] };
  assert.deepEqual(preferredEntry({ 'text/plain': 't', [PLOTLY_MIME]: fig, 'text/html': 'h' }), [PLOTLY_MIME, fig]);
  assert.deepEqual(preferredEntry({ 'text/plain': 't', 'text/html': 'h' }), ['text/html', 'h']);
  assert.deepEqual(preferredEntry({ 'text/plain': 't', 'image/svg+xml': '<svg/>' }), ['image/svg+xml', '<svg/>']);
  assert.deepEqual(preferredEntry({ 'application/x-other': 'o' }), ['application/x-other', 'o']);
  assert.throws(() => preferredEntry({}), /display: the bundle is empty \(\{\}\)/);
});

test('a figure is sent as Plotly JSON with the default height, margins and config under its own', () => {
  const json = figureJson({ data: [{ type: 'bar', y: [1] }], layout: { title: { text: 't' }, height: 300 }, config: { responsive: false } });
  assert.deepEqual(json.data, [{ type: 'bar', y: [1] }]);
  assert.equal(json.layout.height, 300);
  assert.deepEqual(json.layout.margin, { t: 40, r: 20, b: 50, l: 60 });
  assert.deepEqual(json.config, { responsive: false, displaylogo: false });
  assert.deepEqual(Object.keys(figureBundle({ data: [] })), [PLOTLY_MIME, 'text/plain']);
  assert.throws(() => show({ data: 'x' } as never), /show: fig\.data must be an array of traces, got string/);
  assert.throws(() => show(undefined as never), /show: fig\.data must be an array of traces, got undefined/);
});

test('figure numbers keep 6 significant digits (integers as they are), typed arrays become arrays', () => {
  const json = figureJson({ data: [{ x: [0, 199999, 2000000], y: Float32Array.of(0.1, -2.948273658752441), z: [[1 / 3, NaN]] }],
    layout: { shapes: [{ y0: 1 / 27 }] } });
  const [trace] = json.data as { x: number[]; y: number[]; z: number[][] }[];
  assert.deepEqual(trace.x, [0, 199999, 2000000]);
  assert.deepEqual(trace.y, [0.1, -2.94827]);
  assert.deepEqual(trace.z, [[0.333333, NaN]]);
  assert.deepEqual((json.layout.shapes as { y0: number }[])[0].y0, 0.037037);
  assert.equal(compactNumbers('text'), 'text');
  assert.equal(compactNumbers(null), null);
});
