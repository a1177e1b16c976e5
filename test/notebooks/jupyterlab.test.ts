// JupyterLab as a learner meets it: a real server on 127.0.0.1, Debian's Chromium, the project's
// tslab kernel. Open 00-data, run all cells from the menu, see the Plotly figure, save (git sees no
// change: outputs are stripped by the nbstripout filter), edit and re-run a cell, save, close and reopen
// (the figure renders again); Run All on a training notebook (busy in the status bar while it trains, the live
// loss chart); Kernel > Interrupt during training (the kernel lives, the next cell reads the parameters),
// then the toolbar's stop button on the same cell; then stop the server cleanly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { NAMES_FILE, ROOT } from '../helpers/paths';
import { launch } from '../helpers/browser';
import { PLOTLY_MIME } from '../../lib/viz/display';
import { Lab, startLab } from '../helpers/jupyterlab';

let browser: Browser;
let lab: Lab;
let page: Page;
const problems: string[] = [];
const NOTEBOOK = '00-data.ipynb';
const inGit =
  spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() === 'true';
const LIVE = 'live-loss.ipynb';
const INTERRUPT = 'interrupt.ipynb';

before(async () => {
  process.env.MAKEMORE_NAMES = process.env.MAKEMORE_NAMES ?? NAMES_FILE;
  process.env.MAKEMORE_PROFILE = 'quick';
  // A copy, so that saving in the test never writes outputs into notebooks/.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-lab-'));
  fs.copyFileSync(path.join(ROOT, 'notebooks', NOTEBOOK), path.join(root, NOTEBOOK));
  // A notebook that trains for several seconds, with the kernel spec of the project's notebooks.
  const { metadata } = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', NOTEBOOK), 'utf8'));
  const cell = (source: string, i: number) => ({
    id: `c${i}`,
    cell_type: 'code',
    metadata: {},
    execution_count: null,
    outputs: [],
    source,
  });
  fs.writeFileSync(
    path.join(root, LIVE),
    JSON.stringify(
      {
        nbformat: 4,
        nbformat_minor: 5,
        metadata,
        cells: [
          "import * as mm from './lib/index';\nawait mm.initBackend();\nconst split = mm.splitDataset(await mm.loadNames(), 3, 42);\n" +
            "const net = mm.stageNetwork('batchnorm', new mm.Generator(2147483647));",
          'const run = await mm.train({ parameters: net.parameters, loss: net.loss, data: split.train, steps: 30000, learningRate: () => 0.1,\n' +
            '  generator: new mm.Generator(1), printEvery: 0 });',
        ].map(cell),
      },
      null,
      1,
    ),
  );
  // A notebook whose training would run for minutes, to interrupt; its last cell reads the parameters.
  fs.writeFileSync(
    path.join(root, INTERRUPT),
    JSON.stringify(
      {
        nbformat: 4,
        nbformat_minor: 5,
        metadata,
        cells: [
          "import * as mm from './lib/index';\nawait mm.initBackend();\nconst split = mm.splitDataset(await mm.loadNames(), 3, 42);\n" +
            "const net = mm.stageNetwork('batchnorm', new mm.Generator(2147483647));\nconsole.log(`before: W1[0][0] = ${net.parameters[1].dataSync()[0].toFixed(6)}`);",
          'const run = await mm.train({ parameters: net.parameters, loss: net.loss, data: split.train, steps: 1000000, learningRate: () => 0.1,\n' +
            '  generator: new mm.Generator(1), printEvery: 0 });',
          'const values = net.parameters.flatMap((p) => Array.from(p.dataSync()));\n' +
            'console.log(`after: W1[0][0] = ${net.parameters[1].dataSync()[0].toFixed(6)}, all ${values.length} finite: ${values.every(Number.isFinite)}, ` +\n' +
            '  `dev loss ${mm.evaluate(net.loss, split.dev).toFixed(4)}`);',
        ].map(cell),
      },
      null,
      1,
    ),
  );
  lab = await startLab(root);
  browser = await launch();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  page.on('pageerror', (e) => problems.push(e.message));
});
after(async () => {
  await browser?.close();
});

const cellCount = () => page.locator('.jp-Notebook .jp-CodeCell').count();

async function waitIdle(timeout = 120000) {
  // Every code cell has run (a number in its prompt, no '*'), and the kernel is idle.
  await page.waitForFunction(
    () => {
      const prompts = Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')).map(
        (p) => p.textContent ?? '',
      );
      const app = (
        window as unknown as {
          jupyterapp: { shell: { currentWidget: { sessionContext?: { session?: { kernel?: { status: string } } } } } };
        }
      ).jupyterapp;
      const status = app?.shell.currentWidget?.sessionContext?.session?.kernel?.status;
      return prompts.length > 0 && prompts.every((p) => /\[\d+\]/.test(p)) && status === 'idle';
    },
    undefined,
    { timeout },
  );
}

async function openNotebook() {
  await page.goto(lab.url(`/lab/tree/${NOTEBOOK}`));
  await page.waitForSelector('.jp-Notebook .jp-CodeCell', { timeout: 60000 });
  // The kernel of the notebook's metadata (makemore-ts) starts by itself.
  await page.waitForFunction(
    () => (window as any).jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle',
    undefined,
    { timeout: 60000 },
  );
}

test('run all cells from the menu: the kernel runs them and the Plotly figure is drawn', async () => {
  await openNotebook();
  assert.ok((await cellCount()) >= 6);
  await page.click('.lm-MenuBar-itemLabel:text-is("Run")');
  await page.click('.lm-Menu-itemLabel:text-is("Run All Cells")');
  await waitIdle();
  await page.waitForSelector('.jp-OutputArea .jp-RenderedPlotly .main-svg', { timeout: 60000 });
  assert.equal(await page.locator('.jp-OutputArea .jp-RenderedPlotly .bars path').count(), 27);
  const text = await page.locator('.jp-Notebook').innerText();
  assert.match(text, /TensorFlow\.js backend: (tensorflow|wasm|cpu)/);
  assert.match(text, /train 182625 examples, dev 22655, test 22866/);
  await page.locator('.jp-OutputArea .jp-RenderedPlotly').first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ROOT, 'dist', 'jupyterlab-00-data.png') });
});

test(
  'saved after Run All, the notebook keeps its outputs on disk, and git sees no change (the nbstripout filter)',
  { skip: !inGit && 'not a git work tree' },
  async () => {
    await page.keyboard.press('Control+s');
    await page.waitForFunction(() => !document.querySelector('.jp-mod-dirty'), undefined, { timeout: 30000 });
    const saved = path.join(lab.root, NOTEBOOK);
    assert.ok(fs.readFileSync(saved, 'utf8').includes('"output_type"'), 'the outputs are saved');
    // What git would store for the saved file at notebooks/00-data.ipynb, against what it stores for the clean one.
    const hash = (file: string) =>
      execFileSync('git', ['hash-object', `--path=notebooks/${NOTEBOOK}`, file], {
        cwd: ROOT,
        encoding: 'utf8',
      }).trim();
    assert.equal(hash(saved), hash(path.join(ROOT, 'notebooks', NOTEBOOK)));
  },
);

test('edit a cell and run it again: its output changes as expected', async () => {
  // JupyterLab renders only the cells in view: bring the cell that builds 'emma' into view first.
  await page.evaluate(async () => {
    const notebook = (window as any).jupyterapp.shell.currentWidget.content;
    const index = notebook.widgets.findIndex((c: any) =>
      c.model.sharedModel.getSource().includes("buildDataset(['emma']"),
    );
    notebook.activeCellIndex = index;
    await notebook.scrollToItem(index, 'center');
  });
  const cell = page.locator('.jp-Notebook .jp-CodeCell.jp-mod-active');
  assert.match(await cell.locator('.jp-OutputArea').innerText(), /mma ---> \./);
  await cell.locator('.cm-content').click();
  await page.keyboard.press('Control+a');
  // insertText, not type: typing would trigger the editor's auto-closed brackets.
  await page.keyboard.insertText(
    "const ava = mm.buildDataset(['ava'], blockSize, vocab);\nconsole.log(`${ava.size} examples from ava`);",
  );
  await page.keyboard.press('Shift+Enter');
  const edited = page.locator('.jp-Notebook .jp-CodeCell', { hasText: 'examples from ava' });
  await edited.locator('.jp-OutputArea', { hasText: '4 examples from ava' }).waitFor({ timeout: 60000 });
  assert.doesNotMatch(await edited.locator('.jp-OutputArea').innerText(), /mma ---> \./);
});

test('saved, closed and opened again, the notebook shows its figure without re-running', async () => {
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => !document.querySelector('.jp-mod-dirty'), undefined, { timeout: 30000 });
  const saved = JSON.parse(fs.readFileSync(path.join(lab.root, NOTEBOOK), 'utf8'));
  const figures = saved.cells
    .flatMap((c: { outputs?: { data?: Record<string, unknown> }[] }) => c.outputs ?? [])
    .filter((o: { data?: Record<string, unknown> }) => o.data?.[PLOTLY_MIME]);
  assert.equal(figures.length, 1, "the figure was saved as Plotly's JSON");
  // A new page: nothing of the old page's scripts (window.Plotly) survives.
  await page.close();
  page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(lab.url(`/lab/tree/${NOTEBOOK}`));
  // Plotly's renderer saved a PNG of the figure beside its JSON: it shows the picture at once and
  // draws the interactive figure when the mouse comes over it.
  const figure = page.locator('.jp-OutputArea .jp-RenderedPlotly').first();
  await figure.locator('img.plot-img[src^="data:image/png"]').waitFor({ timeout: 60000 });
  await figure.scrollIntoViewIfNeeded();
  await figure.hover();
  await figure.locator('.main-svg').first().waitFor({ timeout: 60000 });
  assert.equal(await figure.locator('.bars path').count(), 27);
  await page.screenshot({ path: path.join(ROOT, 'dist', 'jupyterlab-00-data-reopened.png') });
  assert.deepEqual(problems, []);
});

test('while a training cell runs, its loss chart updates in place beside the progress line, and ends as a Plotly figure', async () => {
  // ?reset: a workspace with this notebook alone (00-data would be restored beside it otherwise).
  await page.goto(lab.url(`/lab/tree/${LIVE}?reset`));
  await page.waitForSelector('.jp-Notebook .jp-CodeCell', { timeout: 60000 });
  await page.waitForFunction(
    (name) =>
      (window as any).jupyterapp?.shell.currentWidget?.context?.path === name &&
      (window as any).jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status === 'idle',
    LIVE,
    { timeout: 60000 },
  );
  const panel = `#${await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.id)}`;
  const trainingCell = page.locator(`${panel} .jp-CodeCell`).nth(1);
  await page.click('.lm-MenuBar-itemLabel:text-is("Run")');
  await page.click('.lm-Menu-itemLabel:text-is("Run All Cells")');
  const outputs = trainingCell.locator('.jp-OutputArea-output');
  // While it runs: the chart (an SVG picture) and the line, redrawn in place; note what each look shows.
  const seen: { outputs: number; steps: number | null; line: string; texts: string[]; status: string; bar: string }[] =
    [];
  await outputs.first().waitFor({ timeout: 120000 });
  for (let k = 0; k < 200; k++) {
    const look = await outputs.evaluateAll((nodes) => {
      const img = nodes.map((n) => n.querySelector('img')).find((i) => i && i.src.startsWith('data:image/svg+xml'));
      const svg = img ? decodeURIComponent(img.src.slice(img.src.indexOf(',') + 1)) : '';
      const m = svg.match(/mean of each \d+ steps: ([\d,]+) of 30,000 steps/);
      // The kernel's status, and what the status bar says ('TypeScript (tslab, makemore) | Busy').
      const status = (window as any).jupyterapp.shell.currentWidget.sessionContext.session.kernel.status;
      const bar = document.querySelector('#jp-main-statusbar')?.textContent?.match(/\| *(Idle|Busy)/)?.[1] ?? '';
      return {
        outputs: nodes.length,
        steps: m ? Number(m[1].replace(/,/g, '')) : null,
        line: nodes[0]?.textContent ?? '',
        texts: nodes.map((n) => (n.textContent ?? '').slice(0, 80)),
        status,
        bar,
      };
    });
    seen.push(look);
    if (/done/.test(look.line)) break;
    await page.waitForTimeout(250);
  }
  const during = seen.filter((s) => s.steps !== null);
  assert.ok(during.length >= 3, `the chart was seen while training: ${JSON.stringify(seen.slice(0, 5))}`);
  assert.ok(
    seen.every((s) => s.outputs <= 2),
    `never more than the line and the chart: ${JSON.stringify(seen.find((s) => s.outputs > 2))}`,
  );
  // Run All sent both cells at once: the first cell's end must not leave the status at idle while training runs.
  const running = during.filter((s) => !/done/.test(s.line));
  assert.ok(
    running.every((s) => s.status === 'busy' && s.bar === 'Busy'),
    `busy while training: ${JSON.stringify(running.map((s) => [s.steps, s.status, s.bar]))}`,
  );
  const counts = [...new Set(during.map((s) => s.steps))];
  assert.ok(
    counts.length >= 2 && counts.every((c, i) => i === 0 || c! > counts[i - 1]!),
    `the chart moved on: ${counts}`,
  );
  // At the end: the line says done, and the chart is an interactive Plotly figure in the same place.
  const chart = trainingCell.locator('.jp-RenderedPlotly');
  await chart.locator('.main-svg').first().waitFor({ timeout: 60000 });
  assert.equal(await outputs.count(), 2, JSON.stringify(await outputs.allInnerTexts()));
  assert.match(await outputs.first().innerText(), /step 30,000\/30,000 .* done/);
  assert.equal(await trainingCell.locator('img[src^="data:image/svg+xml"]').count(), 0, 'the live picture is gone');
  assert.match(await chart.innerText(), /Training loss: log10, mean of each 200 steps/);
  await chart.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ROOT, 'dist', 'jupyterlab-live-loss.png') });
  assert.deepEqual(problems, []);
});

test('Kernel > Interrupt, and then the toolbar stop button, during a training cell stop it within seconds; the kernel lives, idle, and the next cell reads the trained parameters', async (t) => {
  await page.goto(lab.url(`/lab/tree/${INTERRUPT}?reset`));
  await page.waitForSelector('.jp-Notebook .jp-CodeCell', { timeout: 60000 });
  await page.waitForFunction(
    (name) =>
      (window as any).jupyterapp?.shell.currentWidget?.context?.path === name &&
      (window as any).jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status === 'idle',
    INTERRUPT,
    { timeout: 60000 },
  );
  // Every status the notebook's kernel goes through from now on ('dead', 'restarting' ... if the interrupt killed it).
  const kernelId = await page.evaluate(() => {
    const w = window as any;
    const kernel = w.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    w.makemoreStatuses = [];
    kernel.statusChanged.connect((_: unknown, status: string) => w.makemoreStatuses.push(status));
    return kernel.id;
  });
  const panel = `#${await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.id)}`;
  const cells = page.locator(`${panel} .jp-CodeCell`);
  const prompt = (k: number) => cells.nth(k).locator('.jp-InputPrompt').innerText();
  // The training cell ends (a number in its prompt) and the kernel is idle again.
  const trainingCellEnds = () =>
    page.waitForFunction(
      (sel) => {
        const prompt = document.querySelectorAll(`${sel} .jp-CodeCell .jp-InputPrompt`)[1]?.textContent ?? '';
        return (
          /\[\d+\]/.test(prompt) &&
          (window as any).jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'
        );
      },
      panel,
      { timeout: 30000 },
    );
  // The notebook's kernel is the one it started with, idle, and never went through another status than busy and idle.
  const sameKernelIdle = async () => {
    const now = await page.evaluate(() => {
      const w = window as any;
      const kernel = w.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
      return { id: kernel.id, status: kernel.status, statuses: w.makemoreStatuses as string[] };
    });
    assert.equal(now.id, kernelId);
    assert.equal(now.status, 'idle');
    assert.deepEqual(
      now.statuses.filter((s) => !['busy', 'idle'].includes(s)),
      [],
      `the kernel went through ${now.statuses.join(', ')}`,
    );
  };
  await page.click('.lm-MenuBar-itemLabel:text-is("Run")');
  await page.click('.lm-Menu-itemLabel:text-is("Run All Cells")');
  // Training runs: its progress line counts steps. Let it run a little, then interrupt from the Kernel menu.
  await cells
    .nth(1)
    .locator('.jp-OutputArea-output', { hasText: /step [\d,]+\/1,000,000/ })
    .waitFor({ timeout: 120000 });
  await page.waitForTimeout(1500);
  assert.equal(
    await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.sessionContext.session.kernel.status),
    'busy',
  );
  await page.click('.lm-MenuBar-itemLabel:text-is("Kernel")');
  await page.click('.lm-Menu-itemLabel:text-is("Interrupt Kernel")');
  const asked = Date.now();
  await trainingCellEnds();
  const stoppedIn = (Date.now() - asked) / 1000;
  const message = await cells.nth(1).locator('.jp-OutputArea').innerText();
  const stopped = message.match(/Interrupted after step (\d+): the parameters are those after that step/);
  assert.ok(stopped, message);
  t.diagnostic(`interrupted after step ${stopped[1]}; the cell ended ${stoppedIn.toFixed(2)} s after the click`);
  assert.ok(stoppedIn < 3, `the cell ended ${stoppedIn.toFixed(1)} s after Kernel > Interrupt`);
  // The same kernel, alive: no dialog (JupyterLab's "The kernel ... appears to have died"), no restart.
  await page.waitForTimeout(2000);
  assert.equal(
    await page.locator('.jp-Dialog').count(),
    0,
    await page
      .locator('.jp-Dialog')
      .allInnerTexts()
      .then((t) => t.join(' / ')),
  );
  await sameKernelIdle();
  // Run All stopped at the error; run the last cell by itself: it reads the parameters trained until the interrupt.
  assert.match(await prompt(2), /\[ \]|\[\]/, 'the cell after the interrupted one did not run');
  await cells.nth(2).locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Shift+Enter');
  const read = cells.nth(2).locator('.jp-OutputArea-output', { hasText: 'after:' });
  await read.waitFor({ timeout: 60000 });
  const line = await read.innerText();
  const m = line.match(/after: W1\[0\]\[0\] = (-?\d+\.\d+), all (\d+) finite: true, dev loss ([23]\.\d{4})/);
  assert.ok(m, line);
  const before = (await cells.nth(0).locator('.jp-OutputArea').innerText()).match(
    /before: W1\[0\]\[0\] = (-?\d+\.\d+)/,
  )!;
  assert.notEqual(m[1], before[1], 'the parameters moved during training');
  assert.equal(Number(m[2]), 12097, 'every parameter of the batch-norm MLP (no b1)');
  await cells.nth(2).scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(ROOT, 'dist', 'jupyterlab-interrupt.png') });
  // Again from the notebook's toolbar (its stop button, a second route to the same interrupt): the
  // training cell run once more stops the same way, in the same kernel.
  await cells.nth(1).locator('.jp-InputArea-editor').click();
  await page.keyboard.press('Shift+Enter');
  await cells
    .nth(1)
    .locator('.jp-OutputArea-output', { hasText: /step [\d,]+\/1,000,000/ })
    .waitFor({ timeout: 120000 });
  await page.waitForTimeout(1000);
  await page.click(`${panel} .jp-Toolbar [data-command="notebook:interrupt-kernel"]`);
  const again = Date.now();
  await trainingCellEnds();
  const toolbarStop = (Date.now() - again) / 1000;
  const secondMessage = await cells.nth(1).locator('.jp-OutputArea').innerText();
  assert.match(secondMessage, /Interrupted after step \d+: the parameters are those after that step/);
  t.diagnostic(`the toolbar's stop button: the cell ended ${toolbarStop.toFixed(2)} s after the click`);
  assert.ok(toolbarStop < 3, `the cell ended ${toolbarStop.toFixed(1)} s after the toolbar's stop button`);
  await sameKernelIdle();
  assert.deepEqual(problems, []);
});

test('the server stops cleanly', async () => {
  const code = await lab.stop();
  assert.equal(code, 0);
});
