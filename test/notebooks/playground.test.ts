// The playground (dist/playground.html): built by tools/build-playground.ts, opened from file:// in
// Debian's Chromium with every request that is not file: blocked, trained with the lecture's settings.
// It must print what the same library prints on node, which is notebook 06's output (step-0 loss
// 3.2870, the per-layer lines after 1,001 steps, close to PyTorch's), draw the four pictures as it
// trains, stay responsive, stop when asked, start again from scratch on a change, and refuse bad values.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/env/backend';
import { splitDataset, Dataset } from '../../lib/data/dataset';
import * as diag from '../../lib/tensor/stats';
import { formatLayerStats } from '../../lib/viz/format';
import * as ex from '../../lib/viz/pictures';
import { retainGrad, Tanh } from '../../lib/nn/layers';
import { DeepNetwork, DeepNetworkOptions } from '../../lib/nn/models';
import { loadNames } from '../../lib/data/names';
import { Generator } from '../../lib/tensor/random';
import { sgdStepKeepingGrads, train } from '../../lib/train/loop';
import { formatStep } from '../../lib/train/progress';
import { launch, offlinePage } from '../helpers/browser';
import { EXPECTED } from '../helpers/expected';
import { NAMES_FILE, ROOT } from '../helpers/paths';

const DIST = path.join(ROOT, 'dist');
const PAGE = path.join(DIST, 'playground.html');
const SEED = 2147483647;

let build: ReturnType<typeof spawnSync>;
let browser: Browser;
let trainSet: Dataset;

before(async () => {
  build = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'tools', 'build-playground.ts'), '--out', DIST],
    {
      cwd: ROOT,
      env: { ...process.env, MAKEMORE_NAMES: process.env.MAKEMORE_NAMES ?? NAMES_FILE },
      encoding: 'utf8',
      timeout: 5 * 60 * 1000,
    },
  );
  await initBackend();
  trainSet = splitDataset(await loadNames({ file: process.env.MAKEMORE_NAMES ?? NAMES_FILE }), 3, 42).train;
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** What notebook 06 prints, computed here on node: its step-0 line and its lines after 1,001 steps. */
async function notebook06() {
  const steps = 1001;
  const g = new Generator(SEED);
  const net = new DeepNetwork({ generator: g });
  retainGrad(net.layers);
  let step0 = '';
  await train({
    parameters: net.parameters(),
    loss: net.loss,
    data: trainSet,
    generator: g,
    steps,
    learningRate: () => 0.1,
    printEvery: 0,
    progress: false,
    afterStep: (i, loss) => {
      if (i === 0) step0 = formatStep(0, steps, loss);
    },
  });
  const lines = net.layers
    .slice(0, -1)
    .flatMap((layer, i) =>
      layer instanceof Tanh
        ? [formatLayerStats(i, layer.name, diag.layerStats(layer.name, layer.out!.dataSync()))]
        : [],
    );
  net.dispose();
  return { step0, lines };
}

/** Notebook 10's `experiment`: 1,000 steps, then one that keeps the gradients; its backward and weight lines. */
async function notebook10() {
  const g = new Generator(SEED);
  const net = new DeepNetwork({ generator: g });
  retainGrad(net.layers);
  const parameters = net.parameters();
  await train({
    parameters,
    loss: net.loss,
    data: trainSet,
    steps: 1000,
    learningRate: () => 0.1,
    generator: g,
    printEvery: 0,
    progress: false,
  });
  const last = sgdStepKeepingGrads({ parameters, loss: net.loss, data: trainSet, generator: g, lr: 0.1 });
  const lines = {
    backward: ex.backwardPicture(net.layers).lines,
    weights: ex.parameterPicture(parameters, net.parameterNames(), last.grads).lines,
  };
  Object.values(last.grads).forEach((t: tf.Tensor) => t.dispose());
  net.dispose();
  return lines;
}

const state = (page: Page) => page.evaluate(() => document.body.dataset.state);
const printed = async (page: Page) => (await page.textContent('#printed')) ?? '';
/** The lines of the printed block that follows `heading` (up to an empty line). */
const block = (text: string, heading: string) => {
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  assert.ok(start >= 0, `a block "${heading}" in:\n${text}`);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
};

async function openPage() {
  const opened = await offlinePage(browser);
  await opened.page.goto('file://' + PAGE);
  await opened.page.waitForFunction(() => document.body.dataset.state === 'idle');
  return opened;
}

test('the build writes dist/playground.html, at most 8 MB, with nothing to fetch', () => {
  assert.equal(build.status, 0, `build-playground failed:\n${build.stdout}\n${build.stderr}`);
  assert.match(String(build.stdout), /playground: .*playground\.html \(\d+\.\d MB\)/);
  const html = fs.readFileSync(PAGE, 'utf8');
  assert.ok(html.length <= 8 * 1024 * 1024, `${html.length} bytes`);
  // No src= or href= that leaves the page (only links to its neighbours in dist/ and data: URLs).
  const refs = [...html.matchAll(/<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(
    refs.filter((r) => !r.startsWith('data:')),
    [],
  );
});

test(
  "defaults, Train: notebook 06's lines and the four pictures, drawn while it trains",
  { timeout: 3 * 60 * 1000 },
  async () => {
    const [expected, expected10] = [await notebook06(), await notebook10()];
    // The same library on node gives notebook 06's numbers (its check compares them with PyTorch's).
    assert.equal(expected.step0, '      0/   1001: 3.2870');
    assert.equal(expected.step0.slice(-6), EXPECTED.deep_network.loss_step0.toFixed(4));

    const { page, problems, requests } = await openPage();
    // Every control has a visible label, and the lecture's deep network is the default.
    const controls: [string, string | boolean][] = [
      ['gain of the Linear weights', '5/3'],
      ['batch norm', true],
      ['tanh', true],
      ['learning rate', '0.1'],
      ['hidden layers', '5'],
      ['hidden width', '100'],
      ['steps (up to 5,000)', '1001'],
      ['seed', String(SEED)],
    ];
    for (const [label, value] of controls) {
      const control = page.getByLabel(label, { exact: true });
      assert.ok(await control.isVisible(), `${label} is shown`);
      if (typeof value === 'boolean') assert.equal(await control.isChecked(), value, label);
      else assert.equal(await control.inputValue(), value, label);
    }
    assert.ok(await page.getByRole('button', { name: 'Train' }).isVisible());

    const t0 = Date.now();
    await page.getByRole('button', { name: 'Train' }).click();
    // While it trains: the page answers at once, the status counts the steps, the pictures hold data.
    const seen = new Set<string>();
    const answers: number[] = [];
    let drawnWhileRunning = false;
    while ((await state(page)) === 'running') {
      const asked = Date.now();
      const now = await page.evaluate(() => ({
        status: document.getElementById('status')!.textContent ?? '',
        traces: (document.getElementById('forward') as unknown as { data?: unknown[] }).data?.length ?? 0,
      }));
      answers.push(Date.now() - asked);
      const m = /^step ([\d,]+) of 1,001/.exec(now.status);
      if (m) seen.add(m[1]);
      if (m && now.traces === 5 && m[1] !== '1,001') drawnWhileRunning = true;
      await page.waitForTimeout(50);
      assert.ok(Date.now() - t0 < 120000, 'training ends within two minutes');
    }
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(await state(page), 'done', `${await page.textContent('#message')}`);
    // Training on the page's own thread would block it for the whole run (seconds); drawing a figure
    // takes Plotly up to a few hundred ms on a slow, busy machine.
    answers.sort((a, b) => a - b);
    const median = answers[Math.floor(answers.length / 2)],
      slowest = answers[answers.length - 1];
    assert.ok(
      median < 300 && slowest < 2000,
      `the page answered in ${median} ms (median), ${slowest} ms at worst, while training`,
    );
    // The run takes about a second (stretches of 0.5 s): at least one count before the last.
    assert.ok(
      [...seen].filter((s) => s !== '1,001').length >= 1,
      `the status moved while training: ${[...seen].join(' ')}`,
    );
    assert.ok(drawnWhileRunning, 'the pictures had data before the end');

    // The printed lines: notebook 06's, exactly as the same library prints them on node.
    const text = await printed(page);
    const lines = text.split('\n');
    assert.equal(lines[0], expected.step0);
    assert.match(lines[1], /^ {3}1000\/ {3}1001: \d\.\d{4}$/);
    assert.equal(lines[1].slice(-6), EXPECTED.deep_network.loss_step1000.toFixed(4), "step 1000 as PyTorch's");
    assert.deepEqual(block(text, 'forward:'), expected.lines);
    assert.deepEqual(block(text, 'backward:'), expected10.backward);
    assert.deepEqual(block(text, 'weights:'), expected10.weights);
    // ... and close to PyTorch's (the tolerances of notebook 06's check).
    const torch = (
      EXPECTED.deep_network.lecture_break_at_i1000.forward as {
        index: number;
        type: string;
        std: number;
        saturated_percent: number;
      }[]
    ).filter((r) => r.type === 'Tanh');
    block(text, 'forward:').forEach((line, k) => {
      const m = /^layer (\d+) \(\s*Tanh\): mean [+-]\d\.\d\d, std (\d\.\d\d), saturated: (\d+\.\d\d)%$/.exec(line);
      assert.ok(m, line);
      assert.equal(+m[1], torch[k].index);
      assert.ok(
        Math.abs(+m[2] - torch[k].std) <= 0.005 + 0.02 * torch[k].std,
        `${line} vs PyTorch's std ${torch[k].std}`,
      );
      assert.ok(
        Math.abs(+m[3] - torch[k].saturated_percent) <= 1,
        `${line} vs PyTorch's ${torch[k].saturated_percent}%`,
      );
    });

    // The four pictures and the loss curve hold the run's data.
    const figures = await page.evaluate(() =>
      Object.fromEntries(
        ['forward', 'backward', 'weights', 'update', 'loss'].map((id) => {
          const div = document.getElementById(id) as unknown as { data?: { name: string; x: number[]; y: number[] }[] };
          return [
            id,
            (div.data ?? []).map((t) => ({
              name: t.name,
              n: t.y.length,
              finite: t.y.filter(Number.isFinite).length,
              y0: t.y[0],
            })),
          ];
        }),
      ),
    );
    assert.deepEqual(
      figures.forward.map((t) => t.name),
      ['layer 2 (Tanh)', 'layer 5 (Tanh)', 'layer 8 (Tanh)', 'layer 11 (Tanh)', 'layer 14 (Tanh)'],
    );
    assert.equal(figures.backward.length, 5);
    assert.deepEqual(
      figures.weights.map((t) => t.name),
      [
        'C (27, 10)',
        'layer0.weight (30, 100)',
        'layer3.weight (100, 100)',
        'layer6.weight (100, 100)',
        'layer9.weight (100, 100)',
        'layer12.weight (100, 100)',
        'layer15.weight (100, 27)',
      ],
    );
    for (const id of ['forward', 'backward', 'weights']) {
      for (const t of figures[id]) assert.ok(t.n === 101 && t.finite === 101, `${id}: ${t.name} has 100 bins`);
    }
    const guide = figures.update.find((t) => t.name === 'guide (-3)');
    assert.ok(guide && guide.y0 === -3, 'the update:data picture has the -3 guide');
    assert.equal(figures.update.length, 8);
    for (const t of figures.update.filter((t) => t !== guide))
      assert.ok(t.n === 1001 && t.finite === 1001, `update:data of ${t.name} at every step`);
    assert.equal(figures.loss[0].n, 1001, 'the loss of every step');
    assert.equal((await page.locator('.pictures .main-svg').count()) > 0, true);

    await page.screenshot({ path: path.join(DIST, 'playground.png'), fullPage: true });
    process.stdout.write(
      `# playground: 1,001 steps with the defaults in ${seconds.toFixed(1)} s (${await page.textContent('#status')})\n`,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, [], 'no request left the page');
    await page.context().close();
  },
);

test('bad values get a message on the page and nothing runs; a run that diverges stops with a message', async () => {
  const { page, problems, requests } = await openPage();
  const cases: [string, string, RegExp][] = [
    ['learning rate', '0', /^Learning rate: "0" is not a number above 0.*at 0 the weights never change/m],
    ['steps (up to 5,000)', '1000000000', /^Steps: "1000000000" is not a whole number from 1 to 5,000\.$/m],
    ['steps (up to 5,000)', '1e9', /^Steps: "1e9" is not a whole number from 1 to 5,000\.$/m],
    ['hidden width', '0', /^Hidden width: "0" is not a whole number from 1 to 1,000\.$/m],
    ['gain of the Linear weights', 'five', /^Gain: "five" is not a number/m],
  ];
  for (const [label, value, message] of cases) {
    await page.getByRole('button', { name: "Lecture's settings" }).click();
    await page.getByLabel(label, { exact: true }).fill(value);
    await page.getByRole('button', { name: 'Train' }).click();
    assert.equal(await state(page), 'error', `${label} = ${value}`);
    assert.ok(await page.locator('#message').isVisible());
    assert.match((await page.textContent('#message')) ?? '', message);
    assert.equal(await printed(page), '', 'nothing ran');
  }

  // A run that diverges (no tanh, no batch norm, gain 10, learning rate 10) stops with a message.
  await page.getByRole('button', { name: "Lecture's settings" }).click();
  await page.getByLabel('batch norm', { exact: true }).uncheck();
  await page.getByLabel('tanh', { exact: true }).uncheck();
  await page.getByLabel('gain of the Linear weights', { exact: true }).fill('10');
  await page.getByLabel('learning rate', { exact: true }).fill('10');
  await page.getByRole('button', { name: 'Train' }).click();
  await page.waitForFunction(() => document.body.dataset.state !== 'running', null, { timeout: 60000 });
  assert.equal(await state(page), 'error');
  assert.match(
    (await page.textContent('#message')) ?? '',
    /^Steps? \d+( to \d+)?: The loss is (NaN|Infinity|-Infinity) \(learning rate 10\): training stopped/,
  );
  assert.match(await printed(page), /^ {6}0\/ {3}1001: \d+\.\d{4}\n/);

  assert.deepEqual(problems, []);
  assert.deepEqual(requests, []);
  await page.context().close();
});

/** The step-0 line of a run of `steps` steps of the deep network with these options, on node. */
async function step0Line(options: Partial<DeepNetworkOptions>, steps: number): Promise<string> {
  const g = new Generator(SEED);
  const net = new DeepNetwork({ generator: g, ...options });
  let loss = NaN;
  await train({
    parameters: net.parameters(),
    loss: net.loss,
    data: trainSet,
    generator: g,
    steps: 1,
    learningRate: () => 0.1,
    printEvery: 0,
    progress: false,
    afterStep: (_, l) => {
      loss = l;
    },
  });
  net.dispose();
  return formatStep(0, steps, loss);
}

test(
  'Stop stops a run; a setting changed during a run starts it again from scratch',
  { timeout: 2 * 60 * 1000 },
  async () => {
    const noBatchNorm = { step0: await step0Line({ batchNorm: false }, 5000) };
    const { page, problems, requests } = await openPage();
    await page.getByLabel('steps (up to 5,000)', { exact: true }).fill('5000');
    await page.getByRole('button', { name: 'Train' }).click();
    await page.waitForFunction(
      () => /^step [\d,]+ of/.test(document.getElementById('status')!.textContent ?? ''),
      null,
      { timeout: 60000 },
    );
    assert.equal((await printed(page)).split('\n')[0], '      0/   5000: 3.2870');

    // Batch norm off during the run: a new run of the network without it, from step 0.
    await page.getByLabel('batch norm', { exact: true }).uncheck();
    await page.waitForFunction(
      (line) => document.getElementById('printed')!.textContent!.startsWith(line + '\n'),
      noBatchNorm.step0,
      { timeout: 60000 },
    );
    assert.notEqual(noBatchNorm.step0, '      0/   5000: 3.2870');
    assert.equal(await state(page), 'running');

    await page.waitForFunction(
      () => /^step [\d,]+ of/.test(document.getElementById('status')!.textContent ?? ''),
      null,
      { timeout: 60000 },
    );
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.waitForFunction(() => document.body.dataset.state === 'stopped', null, { timeout: 10000 });
    assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
    const text = await printed(page);
    const m = /^([\d,]+) steps in [\d.]+ s \(stopped\)$/m.exec(text);
    assert.ok(m && +m[1].replace(/,/g, '') < 5000, text);
    assert.equal(block(text, 'forward:').length, 5, 'the lines at the step it stopped');
    assert.match((await page.textContent('#status')) ?? '', /^stopped after [\d,]+ of 5,000 steps/);
    assert.deepEqual(problems, []);
    assert.deepEqual(requests, []);
    await page.context().close();
  },
);
