// mm.showSource: a member of a library class, found by name in the syntax tree, shown as a TypeScript block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { showSource, sourceBundle, sourceOf } from '../../lib/viz/source';
import { ROOT } from '../helpers/paths';

test("sourceOf finds BatchNorm1d's forward in lib/nn/layers.ts: the whole method, its lines, unindented", () => {
  const s = sourceOf('BatchNorm1d', 'forward');
  assert.equal(s.file, 'lib/nn/layers.ts');
  const lines = fs.readFileSync(path.join(ROOT, s.file), 'utf8').split('\n');
  assert.equal(lines[s.startLine - 1], '  forward(x: tf.Tensor): tf.Tensor {');
  assert.equal(lines[s.endLine - 1], '  }');
  assert.equal(
    s.text,
    lines
      .slice(s.startLine - 1, s.endLine)
      .map((l) => l.slice(2))
      .join('\n'),
  );
  assert.ok(
    lines.slice(0, s.startLine).some((l) => l.startsWith('export class BatchNorm1d ')),
    'in BatchNorm1d',
  );
  assert.match(s.text, /const xhat = xc\.div\(sd\);/);
  assert.match(s.text, /\n\}$/);
  // Not Linear's forward, which comes first in the file.
  assert.doesNotMatch(s.text, /this\.weight/);
});

test('a member with a JSDoc comment starts at its comment; properties and constructors are found too', () => {
  const loss = sourceOf('DeepNetwork', 'loss');
  assert.equal(loss.file, 'lib/nn/models.ts');
  assert.match(loss.text, /^\/\*\* The loss of a batch[^\n]*\*\/\nreadonly loss = \(/);
  assert.match(sourceOf('Linear', 'constructor').text, /^constructor\(fanIn: number, fanOut: number/);
});

test('the bundle: a Markdown TypeScript block under where it is, and the plain text for a terminal', () => {
  const s = sourceOf('BatchNorm1d', 'forward');
  const bundle = sourceBundle('BatchNorm1d', 'forward');
  assert.equal(
    bundle['text/markdown'],
    `\`BatchNorm1d.forward\` in \`lib/nn/layers.ts\`, lines ${s.startLine}-${s.endLine}:\n\n` +
      `\`\`\`typescript\n${s.text}\n\`\`\`\n`,
  );
  assert.equal(
    bundle['text/plain'],
    `// BatchNorm1d.forward in lib/nn/layers.ts, lines ${s.startLine}-${s.endLine}\n${s.text}`,
  );
  // Outside a notebook showSource prints the plain text.
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  try {
    showSource('BatchNorm1d', 'forward');
  } finally {
    console.log = log;
  }
  assert.deepEqual(lines, [bundle['text/plain']]);
});

test('an unknown class or member is an error naming the argument, the value and what is allowed', () => {
  // (String(error) is "ArgumentError: ...": the library's error for a wrong argument.)
  assert.throws(
    () => showSource('BatchNorm', 'forward'),
    /^ArgumentError: showSource: className must be one of the library's classes \((\w+, )*BatchNorm1d, (\w+, )*DeepNetwork, (\w+, )*Linear, (\w+, )*Tanh(, \w+)*\), got "BatchNorm"$/,
  );
  assert.throws(() => showSource('BatchNorm1d', 'backward'), {
    name: 'ArgumentError',
    message:
      'showSource: member must be one of the members that BatchNorm1d declares itself (lib/nn/layers.ts): ' +
      'eps, momentum, gamma, beta, runningMean, runningVar, constructor, toString, forward, parameters, dispose, got "backward"',
  });
  // Inherited members are the base class's: Tanh declares only its forward pass.
  assert.throws(
    () => sourceOf('Tanh', 'call'),
    /^ArgumentError: sourceOf: member must be one of the members that Tanh declares itself \(lib\/nn\/layers\.ts\): forward, got "call"$/,
  );
  assert.throws(
    () => sourceOf(42 as unknown as string, 'forward'),
    /^ArgumentError: sourceOf: className must be one of the library's classes \(.*\), got 42$/,
  );
});
