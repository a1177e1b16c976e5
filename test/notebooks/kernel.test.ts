// The real tslab kernel, as Jupyter starts it from the project's kernel spec: the library compiles
// with tslab's own TypeScript, and an edited library file is picked up when a cell runs again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers/paths';

const { venvPython, jupyterEnv } = require('../../tools/common');

interface Result { status: string; outputs: { type: string; name?: string; text?: string; data?: Record<string, string>; evalue?: string }[] }

function session(steps: object[]): Result[] {
  const r = spawnSync(venvPython(), [path.join(ROOT, 'test', 'helpers', 'kernel_session.py')], {
    cwd: ROOT, input: JSON.stringify(steps), encoding: 'utf8', env: jupyterEnv(), timeout: 5 * 60 * 1000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const text = (r: Result) => r.outputs.map((o) => o.text ?? o.data?.['text/plain'] ?? o.evalue ?? '').join('');

test('the whole library compiles and loads in tslab (TypeScript 5.0, CommonJS)', () => {
  const [r] = session([{ execute: `import * as mm from './lib/index';\nimport * as tslab from 'tslab';\nconsole.log('ts ' + tslab.versions.typescript, typeof mm.DeepNetwork, typeof mm.train, typeof mm.Generator);` }]);
  assert.equal(r.status, 'ok', text(r));
  assert.match(text(r), /^ts 5\.0\.\d+ function function function/m);
});

test('an edited library file is picked up when the cell is executed again', () => {
  const rel = `test/.reload-${process.pid}.ts`;
  const file = path.join(ROOT, rel);
  try {
    fs.writeFileSync(file, 'export const answer = (): number => 1;\n');
    const cell = `import { answer } from './${rel.replace(/\.ts$/, '')}';\nconsole.log('answer=' + answer());`;
    const results = session([
      { execute: cell },
      { write: file, text: 'export const answer = (): number => 2;\n' },
      { execute: cell },
    ]);
    assert.match(text(results[0]), /answer=1/);
    assert.match(text(results[2]), /answer=2/);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test('a display bundle reaches the notebook as one output with several MIME types', () => {
  const [r] = session([{ execute: `import * as mm from './lib/index';\nmm.display({ 'text/html': '<b>hi</b>', 'text/plain': 'hi' });` }]);
  const shown = r.outputs.find((o) => o.type === 'display_data');
  assert.ok(shown, JSON.stringify(r.outputs));
  assert.deepEqual(Object.keys(shown.data!).sort(), ['text/html', 'text/plain']);
});
