// Showing things outside a notebook (plain node): figures and tables print their text, bundles are
// checked, and a figure's JSON gets the project's defaults under its own settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PLOTLY_MIME,
  VALUES_CLASS,
  display,
  formatShown,
  inNotebook,
  preferredEntry,
  readShownText,
  readShownValues,
  showTable,
  tableText,
  valuesBundle,
} from '../../lib/viz/display';
import * as tf from '@tensorflow/tfjs';
import { compactNumbers, figureBundle, figureJson, show } from '../../lib/viz/figure';

/** What `fn` prints with console.log. */
function printed(fn: () => void): string {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => {
    lines.push(args.join(' '));
  };
  try {
    fn();
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

test('outside a kernel: not in a notebook, and tslab (a TypeScript compiler) is not loaded', () => {
  assert.equal(inNotebook(), false);
  assert.ok(!Object.keys(require.cache).some((f) => /[\\/]tslab[\\/]/.test(f)), 'tslab stays unloaded');
});

test('a figure prints its title, a table its aligned text, a bundle its text/plain', () => {
  assert.equal(
    printed(() => show({ data: [], layout: { title: { text: 'the loss' } } })),
    '[Plotly figure: the loss]',
  );
  assert.equal(
    printed(() => show({ data: [] })),
    '[Plotly figure: figure]',
  );
  assert.equal(
    printed(() =>
      showTable(
        [
          ['stage', 'loss'],
          ['batch norm', 2.0668],
        ],
        'Final',
      ),
    ),
    'Final\nstage       loss  \nbatch norm  2.0668',
  );
  assert.equal(
    printed(() => display({ 'text/html': '<b>x</b>' })),
    '',
    'nothing to print without text/plain',
  );
});

test('the table text is the caption, then the columns padded to their widest cell', () => {
  assert.equal(
    tableText([
      ['a', 'bb'],
      ['ccc', 'd'],
    ]),
    'a    bb\nccc  d ',
  );
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
  const json = figureJson({
    data: [{ type: 'bar', y: [1] }],
    layout: { title: { text: 't' }, height: 300 },
    config: { responsive: false },
  });
  assert.deepEqual(json.data, [{ type: 'bar', y: [1] }]);
  assert.equal(json.layout.height, 300);
  assert.deepEqual(json.layout.margin, { t: 40, r: 20, b: 50, l: 60 });
  assert.deepEqual(json.config, { responsive: false, displaylogo: false });
  assert.deepEqual(Object.keys(figureBundle({ data: [] })), [PLOTLY_MIME, 'text/plain']);
  assert.throws(() => show({ data: 'x' } as never), /show: fig\.data must be an array of traces, got string/);
  assert.throws(() => show(undefined as never), /show: fig\.data must be an array of traces, got undefined/);
});

test('figure numbers keep 6 significant digits (integers as they are), typed arrays become arrays', () => {
  const json = figureJson({
    data: [{ x: [0, 199999, 2000000], y: Float32Array.of(0.1, -2.948273658752441), z: [[1 / 3, NaN]] }],
    layout: { shapes: [{ y0: 1 / 27 }] },
  });
  const [trace] = json.data as { x: number[]; y: number[]; z: number[][] }[];
  assert.deepEqual(trace.x, [0, 199999, 2000000]);
  assert.deepEqual(trace.y, [0.1, -2.94827]);
  assert.deepEqual(trace.z, [[0.333333, NaN]]);
  assert.deepEqual((json.layout.shapes as { y0: number }[])[0].y0, 0.037037);
  assert.equal(compactNumbers('text'), 'text');
  assert.equal(compactNumbers(null), null);
});

test('show(label, value): the text the learner reads, and in its HTML the number at full precision', () => {
  const loss = -Math.log(1 / 27);
  const one = valuesBundle('expected loss at initialisation', loss);
  assert.deepEqual(Object.keys(one).sort(), ['text/html', 'text/plain']);
  assert.equal(one['text/plain'], 'expected loss at initialisation: 3.2958');
  // A notebook shows the HTML (the richest type): a <pre> of that text, the values in an attribute.
  assert.equal(preferredEntry(one)[0], 'text/html');
  assert.equal(
    one['text/html'],
    `<pre class="${VALUES_CLASS}" data-values="{&quot;expected loss at initialisation&quot;:${loss}}">` +
      'expected loss at initialisation: 3.2958</pre>',
  );
  assert.deepEqual(readShownValues(one['text/html'] as string), { 'expected loss at initialisation': loss });
  assert.equal(readShownText(one['text/html'] as string), one['text/plain']);
  // Several named numbers at once, in their order, with the digits asked for; characters HTML escapes.
  const group = { std: 8.123456, 'largest |logit|': 20.5, 'a <"b"> & c': 27.88171 };
  const bundle = valuesBundle('logits of 1000 training examples', group, 2);
  assert.equal(
    bundle['text/plain'],
    'logits of 1000 training examples: std 8.12, largest |logit| 20.50, a <"b"> & c 27.88',
  );
  assert.match(
    bundle['text/html'] as string,
    /">logits of 1000 training examples: std 8\.12, largest \|logit\| 20\.50, a &lt;&quot;b&quot;&gt; &amp; c 27\.88<\/pre>$/,
  );
  assert.equal(readShownText(bundle['text/html'] as string), bundle['text/plain'], 'the text, unescaped');
  const read = readShownValues(bundle['text/html'] as string)!;
  assert.deepEqual(read, { 'logits of 1000 training examples': group });
  assert.deepEqual(Object.keys(read['logits of 1000 training examples']), Object.keys(group), 'in the order given');
  assert.equal(readShownValues('<table><tr><td>1</td></tr></table>'), undefined, 'other HTML has no values');
  assert.equal(readShownText('<table><tr><td>1</td></tr></table>'), undefined);
  // What a terminal prints, through show.
  assert.equal(
    printed(() => show('parameters', 11897)),
    'parameters: 11897',
  );
  assert.equal(
    printed(() => show('hpreact', { mean: -0.04081, std: 5.18072 })),
    'hpreact: mean -0.0408, std 5.1807',
  );
});

test('show writes integers as they are, and numbers too small for the digits in exponent notation', () => {
  assert.equal(formatShown(47024, 4), '47024');
  assert.equal(formatShown(0, 4), '0');
  assert.equal(formatShown(-0.5, 2), '-0.50');
  assert.equal(formatShown(3.2e-7, 4), '3.2e-7');
  assert.equal(formatShown(-0.00004, 4), '-4.0e-5');
  assert.equal(formatShown(0.00005, 4), '0.0001', 'rounds to a non-zero last digit: fixed');
  assert.equal(formatShown(1.6666666, 0), '2');
});

test('show refuses what it cannot record, naming the argument, the value and what is allowed', () => {
  assert.throws(() => show('loss', NaN), /^ArgumentError: show: the value of 'loss' must be a finite number, got NaN$/);
  assert.throws(() => show('loss', Infinity), /show: the value of 'loss' must be a finite number, got Infinity/);
  assert.throws(
    () => show('loss', '3.29' as never),
    /show: the value of 'loss' must be a finite number or an object of named finite numbers, e\.g\. \{ mean: 0\.01, std: 0\.98 \}, got "3\.29"/,
  );
  assert.throws(
    () => show('loss', undefined as never),
    /show: the value of 'loss' must be a finite number or an object .*, got undefined/,
  );
  assert.throws(
    () => show('loss', {}),
    /show: the value of 'loss' must be a finite number or an object .*, got an object/,
  );
  assert.throws(() => show('loss', [1, 2] as never), /show: the value of 'loss' must be .*, got \[1, 2\]/);
  const t = tf.scalar(3.3);
  assert.throws(
    () => show('loss', t as never),
    /\(read a tensor first: mm\.num\(\(\) => t\), mm\.item\(t\)\), got a tensor of shape \[\]$/,
  );
  t.dispose();
  assert.throws(
    () => show('hpreact', { mean: 0.1, std: NaN }),
    /show: 'std' of 'hpreact' must be a finite number, got NaN/,
  );
  assert.throws(
    () => show('hpreact', { mean: 0.1, std: '1' as never }),
    /show: 'std' of 'hpreact' must be a finite number, got "1"/,
  );
  assert.throws(() => show('', 1), /show: label must be a non-empty string, e\.g\. 'expected loss', got ""/);
  assert.throws(() => show('loss', 1, 2.5), /show: digits must be an integer from 0 to 20, got 2\.5/);
  assert.throws(() => show('loss', 1, -1), /show: digits must be an integer from 0 to 20, got -1/);
  assert.equal(
    printed(() => {
      try {
        show('loss', NaN);
      } catch {
        /* refused */
      }
    }),
    '',
    'nothing shown when refused',
  );
});
