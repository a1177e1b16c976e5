// The notebooks as committed (notebooks/*.ipynb): no copy-paste between them, and no outputs.
// What two notebooks would share belongs in lib/ (the developers' guide); outputs are build products.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers/paths';

interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

const DIR = path.join(ROOT, 'notebooks');
const notebooks = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.ipynb'))
  .sort()
  .map((name) => ({ name, cells: JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8')).cells as Cell[] }));
const text = (s: string | string[]) => (Array.isArray(s) ? s.join('') : s);

test('no two notebooks share a run of 8 or more code lines (blank lines aside)', () => {
  const RUN = 8;
  const where = new Map<string, Set<string>>();
  for (const nb of notebooks) {
    const lines = nb.cells
      .filter((c) => c.cell_type === 'code')
      .flatMap((c) => text(c.source).split('\n'))
      .map((l) => l.trimEnd())
      .filter((l) => l.trim() !== '');
    for (let i = 0; i + RUN <= lines.length; i++) {
      const run = lines.slice(i, i + RUN).join('\n');
      where.set(run, (where.get(run) ?? new Set()).add(nb.name));
    }
  }
  const shared = [...where].filter(([, names]) => names.size > 1);
  assert.equal(notebooks.length, 11);
  assert.deepEqual(
    shared.map(([run, names]) => `${[...names].join(' and ')}:\n${run}`).slice(0, 3),
    [],
    'move what they share into lib/',
  );
});

test('the notebooks are committed without outputs or execution counts', () => {
  for (const nb of notebooks) {
    for (const c of nb.cells.filter((cell) => cell.cell_type === 'code')) {
      assert.deepEqual(c.outputs, [], `${nb.name}: a cell with outputs`);
      assert.equal(c.execution_count ?? null, null, `${nb.name}: a cell with an execution count`);
    }
  }
});
