// The notebooks, executed end to end on the real tslab kernel in the quick profile (as `npm start`
// does), their key outputs checked (test/notebooks/checks/NAME.ts), then their HTML exports opened
// in Debian's Chromium with the network off: every figure drawn, no script error, no request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { NAMES_FILE, ROOT } from '../helpers/paths';
import { launch, offlinePage } from '../helpers/browser';
import { ExecutedNotebook, join } from '../helpers/executed';
import { startLab } from '../helpers/jupyterlab';
import { PLOTLY_MIME } from '../../lib/viz/display';

const OUT = path.join(ROOT, 'dist', 'test');
const NOTEBOOKS = fs
  .readdirSync(path.join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort()
  .map((f) => f.replace(/\.ipynb$/, ''));

/** Move the mouse over a grid of points of the first figure's plot area until Plotly shows hover text. */
async function hoverSomewhere(page: Page): Promise<boolean> {
  const area = page.locator('.makemore-plot .nsewdrag').first();
  await area.scrollIntoViewIfNeeded();
  const box = await area.boundingBox();
  if (!box) return false;
  for (let fy = 0.1; fy < 1; fy += 0.1) {
    for (let fx = 0.05; fx < 1; fx += 0.05) {
      await page.mouse.move(box.x + fx * box.width, box.y + fy * box.height);
      if ((await page.locator('.hoverlayer .hovertext').count()) > 0) return true;
    }
  }
  return false;
}

let run: ReturnType<typeof spawnSync>;
let browser: Browser;
const CHECKPOINTS = ['04-batchnorm.safetensors', '10-experiments.safetensors'];
/** The checkpoints in the real dist/ before the run (modification time, or absent), to see that the run left them alone. */
const distBefore = () =>
  CHECKPOINTS.map((f) => fs.statSync(path.join(ROOT, 'dist', f), { throwIfNoEntry: false })?.mtimeMs ?? null);
let checkpointsBefore: (number | null)[];

before(async () => {
  fs.rmSync(OUT, { recursive: true, force: true });
  checkpointsBefore = distBefore();
  run = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'run-notebooks.js'), '--out', OUT], {
    // The notebooks hand results on through their own file here, not the user's dist/results-quick.json.
    cwd: ROOT,
    env: {
      ...process.env,
      MAKEMORE_PROFILE: 'quick',
      MAKEMORE_NAMES: process.env.MAKEMORE_NAMES ?? NAMES_FILE,
      MAKEMORE_RESULTS: path.join(OUT, 'results-quick.json'),
    },
    encoding: 'utf8',
    timeout: 60 * 60 * 1000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.stdout.write(`# notebook run:\n${String(run.stdout).replace(/^/gm, '#   ')}\n`);
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('every notebook executes without error in the quick profile', () => {
  assert.equal(run.status, 0, `run-notebooks failed:\n${run.stdout}\n${run.stderr}`);
  for (const name of NOTEBOOKS) {
    assert.match(String(run.stdout), new RegExp(`${name} \\.\\.\\.\\n\\[makemore\\]     ok in [0-9.]+ s`));
    const errors = new ExecutedNotebook(OUT, name).outputs.filter((o) => o.output_type === 'error');
    assert.deepEqual(errors, [], `${name} has error outputs`);
  }
  assert.match(String(run.stdout), new RegExp(`${NOTEBOOKS.length} of ${NOTEBOOKS.length} notebooks ok`));
});

test('the run wrote its checkpoints into its own output folder, and left dist/ alone', () => {
  for (const f of CHECKPOINTS) assert.ok(fs.statSync(path.join(OUT, f)).size > 40000, `${f} in ${OUT}`);
  assert.deepEqual(distBefore(), checkpointsBefore);
});

test('index.html links every notebook in order, then the playground; each page links its neighbours', () => {
  const index = fs.readFileSync(path.join(OUT, 'index.html'), 'utf8');
  const links = [...index.matchAll(/href="([^"]+)\.html"/g)].map((m) => m[1]);
  assert.deepEqual(links, [...NOTEBOOKS, 'playground']);
  assert.ok(
    fs.statSync(path.join(OUT, 'playground.html')).size > 1e6,
    'the run built the playground beside the exports',
  );
  NOTEBOOKS.forEach((name, k) => {
    const html = fs.readFileSync(path.join(OUT, `${name}.html`), 'utf8');
    // (assert.ok rather than assert.match: a failure must not print a 5 MB page)
    assert.ok(html.includes('<a href="index.html">Contents</a>'), `${name} links the contents`);
    assert.ok(
      /profile <b>quick<\/b> (&middot;|·) backend <b>(tensorflow|wasm|cpu)<\/b> (&middot;|·)\s+run time <b>[0-9.]+ s<\/b>/.test(
        html,
      ),
      `${name} states the profile, backend and run time`,
    );
    if (k > 0) assert.ok(html.includes(`href="${NOTEBOOKS[k - 1]}.html" rel="prev"`), `${name} links back`);
    if (k + 1 < NOTEBOOKS.length)
      assert.ok(html.includes(`href="${NOTEBOOKS[k + 1]}.html" rel="next"`), `${name} links forward`);
  });
});

test('the exports are light: plotly.js once beside the pages, which load it; pages and notebooks at most 20 MB', (t) => {
  const library = fs.readFileSync(path.join(ROOT, 'node_modules', 'plotly.js-dist-min', 'plotly.min.js'));
  assert.ok(fs.readFileSync(path.join(OUT, 'plotly.min.js')).equals(library), "plotly.min.js is plotly.js-dist-min's");
  let total = library.length;
  for (const name of NOTEBOOKS) {
    const html = fs.readFileSync(path.join(OUT, `${name}.html`), 'utf8');
    assert.equal(
      html.match(/<script[^>]* src="plotly\.min\.js"[^>]*><\/script>/g)?.length,
      1,
      `${name} loads plotly.min.js`,
    );
    assert.ok(html.length < library.length / 2, `${name}.html does not carry plotly.js (${html.length} bytes)`);
    total += html.length + fs.statSync(path.join(OUT, `${name}.ipynb`)).size;
  }
  t.diagnostic(`exports: ${(total / 1e6).toFixed(1)} MB (pages, executed notebooks and plotly.min.js)`);
  assert.ok(total <= 20e6, `pages, notebooks and plotly.js: ${(total / 1e6).toFixed(1)} MB`);
});

test('each training run left its live loss chart as one final Plotly figure, and no live picture', () => {
  let charts = 0;
  for (const name of NOTEBOOKS) {
    const nb = new ExecutedNotebook(OUT, name);
    assert.equal(
      nb.outputs.filter((o) => o.data?.['image/svg+xml']).length,
      0,
      `${name}: no live SVG left in the saved notebook`,
    );
    for (const chart of nb.liveCharts) {
      const fig = chart.data![PLOTLY_MIME];
      const steps = fig.layout.xaxis.range[1] + 1;
      const bucket = Number(
        fig.layout.title.text.match(/^Training loss: log10, mean of each ([\d,]+) steps$/)[1].replace(/,/g, ''),
      );
      assert.equal(
        fig.data[0].x.length,
        Math.ceil(steps / bucket),
        `${name}: one point per bucket of ${bucket} of ${steps} steps`,
      );
      assert.ok(
        fig.data[0].y.every((v: number) => v > 0 && v < 1.5),
        `${name}: log10 losses of a training run`,
      );
      assert.match(join(chart.data!['text/html']), /class="makemore-plot"/, `${name}: the chart has its HTML fallback`);
    }
    charts += nb.liveCharts.length;
  }
  // 04 trains once (2,000 steps in the quick profile: buckets of 10), 10 once at its end.
  const bn = new ExecutedNotebook(OUT, '04-batchnorm').liveCharts;
  assert.equal(bn.length, 1);
  assert.equal(bn[0].data![PLOTLY_MIME].data[0].x.length, 200);
  assert.equal(new ExecutedNotebook(OUT, '10-experiments').liveCharts.length, 1);
  assert.ok(charts >= 10, `${charts} live charts in all`);
});

for (const name of NOTEBOOKS) {
  const checks = path.join(__dirname, 'checks', `${name}.ts`);
  test(`${name}: its key outputs`, { skip: !fs.existsSync(checks) && 'no checks for this notebook' }, () => {
    require(checks).check(new ExecutedNotebook(OUT, name));
  });

  test(`${name}: the HTML export draws every figure offline, without script errors`, async () => {
    const nb = new ExecutedNotebook(OUT, name);
    const { page, problems, requests } = await offlinePage(browser);
    await page.goto('file://' + nb.htmlFile);
    const expected = nb.figureOutputs.length;
    if (expected > 0) {
      await page.waitForFunction(
        (n) =>
          document.querySelectorAll('.makemore-plot .main-svg').length > 0 &&
          Array.from(document.querySelectorAll('.makemore-plot')).filter((d) => d.querySelector('.main-svg')).length ===
            n,
        expected,
        { timeout: 60000 },
      );
    }
    // Each drawn figure has data in it (a trace group with children).
    const withData = await page.evaluate(
      () =>
        Array.from(document.querySelectorAll('.makemore-plot')).filter((d) =>
          d.querySelector('.main-svg .trace, .main-svg .hm image, .gl-container canvas'),
        ).length,
    );
    assert.equal(withData, expected, 'every figure has its data drawn');
    // Interactive: somewhere over the first figure's plot area, Plotly shows hover text.
    if (expected > 0) assert.ok(await hoverSomewhere(page), 'hover text appears over the first figure');
    // The table of contents lists the notebook's sections.
    const sections = (nb.markdown.match(/^## /gm) ?? []).length;
    assert.equal(await page.locator('#mm-toc li').count(), sections, 'one contents entry per section');
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: false });
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [], 'the export loads nothing from the network');
    await page.context().close();
  });
}

test('00-data: the figure is interactive (hover text) in the offline export', async () => {
  const { page, problems } = await offlinePage(browser);
  await page.goto('file://' + path.join(OUT, '00-data.html'));
  await page.waitForSelector('.makemore-plot .main-svg', { timeout: 30000 });
  assert.equal(await page.locator('.makemore-plot .bars path').count(), 27, 'one bar per character');
  await page.locator('.makemore-plot').first().scrollIntoViewIfNeeded();
  const box = await page.locator('.makemore-plot .bars path').nth(1).boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('.hoverlayer .hovertext', { timeout: 5000 });
  assert.match(
    (await page.locator('.hoverlayer .hovertext').textContent()) ?? '',
    /'\.' is followed by 'a' in 13\.\d% of names/,
  );
  await page.screenshot({ path: path.join(ROOT, 'dist', '00-data-export.png') });
  assert.deepEqual(problems, []);
  await page.context().close();
});

test('executed notebooks opened from the output folder in JupyterLab draw their figures without running', async () => {
  // Untrusted notebooks (the runner wrote them): plotly's renderer is a "safe" one, so JupyterLab
  // draws Plotly's JSON, not the HTML fallback (whose scripts it would not run).
  // A copy of the notebooks, so that JupyterLab (its checkpoints, plotly's saved pictures) never writes
  // into the output folder.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-lab-dist-'));
  for (const name of ['00-data', '04-batchnorm'])
    fs.copyFileSync(path.join(OUT, `${name}.ipynb`), path.join(root, `${name}.ipynb`));
  const lab = await startLab(root);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  try {
    for (const name of ['00-data', '04-batchnorm']) {
      const expected = new ExecutedNotebook(OUT, name).figureOutputs.length;
      assert.ok(expected > 0);
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
      await page.goto(lab.url(`/lab/tree/${name}.ipynb`));
      const first = page.locator('.jp-OutputArea .jp-RenderedPlotly').first();
      await first.locator('.main-svg').first().waitFor({ state: 'attached', timeout: 60000 });
      assert.ok(
        (await first.locator('.main-svg .trace, .main-svg .bars').count()) > 0,
        `${name}: the first figure has data drawn`,
      );
      if (name === '00-data') assert.equal(await first.locator('.bars path').count(), 27, 'one bar per character');
      assert.equal(
        await page.locator('.jp-OutputArea .makemore-plot').count(),
        0,
        'the HTML fallback is not what JupyterLab shows',
      );
      // Every figure is drawn: bring each cell with one into view (JupyterLab renders cells as they come
      // into view), and count the drawn Plotly figures in it.
      const cells: number[] = await page.evaluate((mime) => {
        const nb = (window as any).jupyterapp.shell.currentWidget.content;
        return nb.widgets
          .map((c: any, i: number) => ((c.model.outputs?.toJSON() ?? []).some((o: any) => o.data?.[mime]) ? i : -1))
          .filter((i: number) => i >= 0);
      }, PLOTLY_MIME);
      let drawn = 0;
      for (const index of cells) {
        await page.evaluate(async (i) => {
          await (window as any).jupyterapp.shell.currentWidget.content.scrollToItem(i, 'center');
        }, index);
        const figures = await page.waitForFunction(
          (i) => {
            const node = (window as any).jupyterapp.shell.currentWidget.content.widgets[i].node as HTMLElement;
            const plots = node.querySelectorAll('.jp-RenderedPlotly');
            return plots.length > 0 && Array.from(plots).every((p) => p.querySelector('.main-svg')) && plots.length;
          },
          index,
          { timeout: 60000 },
        );
        drawn += (await figures.jsonValue()) as number;
      }
      assert.equal(drawn, expected, `${name}: every figure drawn by plotly's renderer`);
      await page.evaluate(async (i) => {
        await (window as any).jupyterapp.shell.currentWidget.content.scrollToItem(i, 'start');
      }, cells[0]);
      await page.screenshot({ path: path.join(OUT, `jupyterlab-${name}.png`) });
      await page.close();
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await lab.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
