// Re-running cells after Run All, as a learner does in JupyterLab: on the real tslab kernel, every code
// cell of a notebook runs in order, then every code cell runs again, last to first. A cell that disposed
// what an earlier cell made (the old "free everything" last cells) breaks the cells before it; here
// each re-run must succeed. Also a static check over every notebook: no cell disposes a tensor another
// cell declared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../helpers/paths';
import { kernelSession, KernelResult } from '../helpers/kernel';

type Result = KernelResult;

const NOTEBOOKS = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
const codeCells = (file: string): string[] =>
  JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', file), 'utf8'))
    .cells.filter((c: { cell_type: string }) => c.cell_type === 'code')
    .map((c: { source: string | string[] }) => ([] as string[]).concat(c.source).join(''));

function session(cells: string[], env: Record<string, string>): Result[] {
  return kernelSession(
    cells.map((execute) => ({ execute })),
    { MAKEMORE_PROFILE: 'quick', ...env },
    20 * 60 * 1000,
  );
}

test('no notebook cell disposes a tensor or network that another cell declared', () => {
  const problems: string[] = [];
  for (const file of NOTEBOOKS) {
    const cells = codeCells(file);
    // Names declared at the top level of a cell (a line's start), and disposed there: what the kernel keeps.
    const declaredIn = (name: string) =>
      cells.findIndex((c) =>
        new RegExp(
          `^(const|let|var)\\s+(\\{[^}]*\\b${name}\\b[^}]*\\}|\\[[^\\]]*\\b${name}\\b[^\\]]*\\]|${name}\\b)`,
          'm',
        ).test(c),
      );
    cells.forEach((cell, i) => {
      if (/tf\.disposeVariables|engine\(\)\.reset/.test(cell))
        problems.push(`${file}, code cell ${i}: disposes every variable`);
      const top = cell
        .split('\n')
        .filter((line) => /^\S/.test(line))
        .join('\n');
      const disposed = [...top.matchAll(/\b([A-Za-z_]\w*)(?:\.\w+)*\.dispose\(\)/g)].map((m) => m[1]);
      for (const list of top.matchAll(/(?:tf\.dispose\(|for \(const \w+ of )\[([^\]]*)\]/g))
        disposed.push(...[...list[1].matchAll(/(?:\.\.\.)?\b([A-Za-z_]\w*)/g)].map((m) => m[1]));
      for (const name of new Set(disposed)) {
        const at = declaredIn(name);
        if (at >= 0 && at !== i)
          problems.push(`${file}, code cell ${i}: disposes ${name}, declared in code cell ${at}`);
      }
    });
  }
  assert.deepEqual(problems, []);
});

for (const file of ['04-batchnorm.ipynb', '05-layers.ipynb']) {
  test(`${file}: after Run All, every cell runs again (last to first) without error`, () => {
    const cells = codeCells(file);
    // Its own results file: the notebook records a result, which must not land in the user's dist/.
    const results = session([...cells, ...[...cells].reverse(), 'console.log(JSON.stringify(tf.memory()))'], {
      MAKEMORE_RESULTS: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-rerun-')), 'results.json'),
    });
    const failed = results
      .map((r, k) => ({ r, k }))
      .filter(({ r }) => r.status !== 'ok')
      .map(
        ({ r, k }) =>
          `${k < cells.length ? 'run' : 're-run'} of code cell ${k < cells.length ? k : 2 * cells.length - 1 - k}: ` +
          r.outputs
            .map((o) => o.evalue ?? o.text ?? '')
            .join(' ')
            .slice(0, 300),
      );
    assert.deepEqual(failed, []);
    const memory = JSON.parse(results[results.length - 1].outputs.map((o) => o.text ?? '').join(''));
    process.stdout.write(
      `# ${file}: ${memory.numTensors} tensors, ${(memory.numBytes / 2 ** 20).toFixed(1)} MB after Run All and a re-run of every cell\n`,
    );
  });
}
