// `npm start`'s runner on broken notebooks: an exception in a cell, or a kernel that dies, fails the
// run with the notebook, the cell and the error, and the other notebooks' exports stay intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../helpers/paths';
import { launch, offlinePage } from '../helpers/browser';

function notebook(cells: string[]): string {
  return JSON.stringify({
    nbformat: 4, nbformat_minor: 5,
    metadata: { kernelspec: { name: 'makemore-ts', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map((source, i) => ({ id: `c${i}`, cell_type: 'code', metadata: {}, execution_count: null, outputs: [], source })),
  });
}

test('a failing cell and a dying kernel are reported by notebook and cell; the other exports are written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-runner-'));
  const out = path.join(dir, 'out');
  fs.writeFileSync(path.join(dir, 'a-good.ipynb'), notebook(['console.log("fine " + (6 * 7));',
    "import { show } from './lib/plotly';\nshow({ data: [{ type: 'bar', y: [1, 2] }], layout: { title: { text: 'two <bars>' } } });"]));
  fs.writeFileSync(path.join(dir, 'b-throws.ipynb'), notebook(['console.log("first");', 'throw new Error("the loss is NaN");', 'console.log("never");']));
  fs.writeFileSync(path.join(dir, 'c-dies.ipynb'), notebook(['process.exit(3);']));
  fs.writeFileSync(path.join(dir, 'd-good.ipynb'), notebook(['console.log("still runs");']));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'run-notebooks.js'), '--dir', dir, '--out', out, '--timeout', '60'], {
    cwd: ROOT, encoding: 'utf8', timeout: 5 * 60 * 1000,
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /b-throws\.ipynb, cell 1: Error: the loss is NaN/);
  assert.match(r.stderr, /c-dies\.ipynb, kernel: DeadKernelError/);
  assert.match(r.stdout, /2 of 4 notebooks ok/);
  for (const name of ['a-good', 'b-throws', 'c-dies', 'd-good']) {
    assert.ok(fs.existsSync(path.join(out, `${name}.html`)), `${name}.html written`);
  }
  assert.match(fs.readFileSync(path.join(out, 'a-good.ipynb'), 'utf8'), /fine 42/);
  // The kernel sent the figure as Plotly's JSON alone; the runner completed it into the whole bundle.
  const [figure] = JSON.parse(fs.readFileSync(path.join(out, 'a-good.ipynb'), 'utf8')).cells[1].outputs;
  assert.deepEqual(Object.keys(figure.data).sort(), ['application/vnd.plotly.v1+json', 'text/html', 'text/plain']);
  assert.deepEqual(figure.data['application/vnd.plotly.v1+json'].data, [{ type: 'bar', y: [1, 2] }]);
  assert.equal([].concat(figure.data['text/plain']).join(''), '[Plotly figure: two <bars>]');
  const fallback = [].concat(figure.data['text/html']).join('');
  assert.match(fallback, /^<div id="makemore-plot-1" class="makemore-plot" style="width:100%;height:420px;"><\/div>/);
  assert.ok(fallback.includes('window.Plotly.newPlot("makemore-plot-1", [{"type":"bar","y":[1,2]}], '), 'the fallback draws the figure');
  assert.ok(fallback.includes('"title":{"text":"two \\u003cbars>"}'), '"<" is escaped inside the script');
  assert.match(fs.readFileSync(path.join(out, 'd-good.ipynb'), 'utf8'), /still runs/);
  assert.match(fs.readFileSync(path.join(out, 'index.html'), 'utf8'), /b-throws\.html.*FAILED/s);
  assert.deepEqual(fs.readdirSync(out).filter((f) => f.includes('.tmp-')), [], 'no temporary files left');
});

test('--only takes a notebook\'s number; --self-contained puts plotly.js into the page, which draws its figure offline on its own', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-runner-'));
  const out = path.join(dir, 'out');
  fs.writeFileSync(path.join(dir, '06-other.ipynb'), notebook(['throw new Error("not this one");']));
  fs.writeFileSync(path.join(dir, '07-one.ipynb'), notebook([
    "import { show } from './lib/plotly';\nshow({ data: [{ type: 'bar', x: ['a', 'b'], y: [1, 2] }], layout: { title: { text: 'two bars' } } });"]));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'run-notebooks.js'), '--dir', dir, '--out', out, '--only', '7', '--self-contained'], {
    cwd: ROOT, encoding: 'utf8', timeout: 5 * 60 * 1000,
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[1\/1\] 07-one \.\.\./);
  assert.deepEqual(fs.readdirSync(out).sort(), ['07-one.html', '07-one.ipynb', 'index.html'], 'only 07, and no plotly.min.js beside the page');
  const html = fs.readFileSync(path.join(out, '07-one.html'), 'utf8');
  assert.ok(!html.includes('src="plotly.min.js"') && html.length > 4e6, 'the page carries plotly.js');
  // Alone in a folder of its own, with the network off, the page draws its figure.
  const alone = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-page-'));
  fs.copyFileSync(path.join(out, '07-one.html'), path.join(alone, 'one.html'));
  const browser = await launch();
  try {
    const { page, problems, requests } = await offlinePage(browser);
    await page.goto('file://' + path.join(alone, 'one.html'));
    await page.waitForSelector('.makemore-plot .main-svg', { timeout: 30000 });
    assert.equal(await page.locator('.makemore-plot .bars path').count(), 2);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
  } finally {
    await browser.close();
  }
});

test('--only with a name that is no notebook is an error that lists the names', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'run-notebooks.js'), '--only', '4-batch', '--out', fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-runner-'))], {
    cwd: ROOT, encoding: 'utf8', timeout: 60 * 1000,
  });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--only 4-batch: no such notebook in .*notebooks; give a name or its number, one of: 00-data, 01-initial-loss, .*, 10-experiments/);
});
