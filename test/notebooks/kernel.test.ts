// The real tslab kernel, as Jupyter starts it from the project's kernel spec: the library compiles
// with tslab's own TypeScript, and an edited library file is picked up when a cell runs again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../helpers/paths';
import { kernelSession, outputText } from '../helpers/kernel';
import { PLOTLY_MIME, readShownValues } from '../../lib/viz/display';

const session = (steps: object[]) => kernelSession(steps);
const text = outputText;

test('the whole library compiles and loads in tslab (TypeScript 5.0, CommonJS)', () => {
  const [r] = session([
    {
      execute: `import * as mm from './lib/index';\nimport * as tslab from 'tslab';\nconsole.log('ts ' + tslab.versions.typescript, typeof mm.DeepNetwork, typeof mm.train, typeof mm.Generator);`,
    },
  ]);
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

test("a figure reaches the notebook as Plotly's MIME type, a table as HTML, through tslab's public display", () => {
  const [r] = session([
    {
      execute: `import * as mm from './lib/index';
mm.show({ data: [{ type: 'bar', x: [1, 2], y: [3, 4] }], layout: { title: { text: 'two bars' } } });
mm.showTable([['a', 'b'], [1, '<2>']], 'a caption');
mm.display({ 'text/plain': 'only text' });`,
    },
  ]);
  assert.equal(r.status, 'ok', text(r));
  const shown = r.outputs.filter((o) => o.type === 'display_data');
  assert.equal(shown.length, 3, JSON.stringify(r.outputs));
  // tslab's public display sends one MIME type per output: the richest of each bundle.
  assert.deepEqual(
    shown.map((o) => Object.keys(o.data!)),
    [[PLOTLY_MIME], ['text/html'], ['text/plain']],
  );
  const fig = shown[0].data![PLOTLY_MIME] as unknown as {
    data: object[];
    layout: Record<string, unknown>;
    config: Record<string, unknown>;
  };
  assert.deepEqual(fig.data, [{ type: 'bar', x: [1, 2], y: [3, 4] }], 'the figure is a JSON object, not a string');
  assert.deepEqual(fig.layout.title, { text: 'two bars' });
  assert.equal(fig.layout.height, 420);
  assert.equal(fig.config.displaylogo, false);
  assert.equal(
    shown[1].data!['text/html'],
    '<table><caption>a caption</caption><thead><tr><th>a</th><th>b</th></tr></thead>' +
      '<tbody><tr><td>1</td><td>&lt;2></td></tr></tbody></table>',
  );
  assert.equal(shown[2].data!['text/plain'], 'only text');
});

test('a named number reaches the notebook as one output: its text, with the values at full precision (mm.show(label, value)), in order', () => {
  // Many in one turn of the event loop, between printed lines: none lost or reordered.
  const [r] = session([
    {
      execute: `import * as mm from './lib/index';
console.log('before');
mm.show('expected loss at initialisation', -Math.log(1 / 27));
mm.show('hpreact', { mean: -0.04081, std: 5.18072 }, 2);
for (let k = 0; k < 200; k++) mm.show('k', k);
console.log('after');`,
    },
  ]);
  assert.equal(r.status, 'ok', text(r));
  const shown = r.outputs.filter((o) => o.type === 'display_data');
  assert.equal(shown.length, 202);
  const html = shown.map((o) => o.data!['text/html'] as string);
  assert.match(html[0], />expected loss at initialisation: 3\.2958<\/pre>$/);
  assert.deepEqual(
    readShownValues(html[0]),
    { 'expected loss at initialisation': -Math.log(1 / 27) },
    'full precision',
  );
  assert.match(html[1], />hpreact: mean -0\.04, std 5\.18<\/pre>$/);
  assert.deepEqual(readShownValues(html[1]), { hpreact: { mean: -0.04081, std: 5.18072 } });
  assert.deepEqual(
    html.slice(2).map((h) => readShownValues(h)!.k),
    Array.from({ length: 200 }, (_, k) => k),
  );
  assert.deepEqual(
    r.outputs.filter((o) => o.type === 'stream').map((o) => o.text),
    ['before\n', 'after\n'],
  );
  assert.equal(r.outputs[0].type, 'stream', 'printed before');
});

test('training shows a progress line and a loss chart that update in place, at most twice a second; the chart ends as a Plotly figure', () => {
  const [r] = session([
    {
      execute: `import * as mm from './lib/index';
await mm.initBackend();
const net = mm.stageNetwork('batchnorm', new mm.Generator(2147483647));
const split = mm.splitDataset(await mm.loadNames(), 3, 42);
// Each step waits 0.15 ms more, so that the run lasts over 1.5 s (three redraws) however fast the steps are.
const run = await mm.train({ parameters: net.parameters, loss: net.loss, data: split.train, steps: 10000, learningRate: () => 0.1,
  generator: new mm.Generator(1), printEvery: 0, afterStep: () => { const t = performance.now(); while (performance.now() - t < 0.15); } });
const means = mm.plots.windowedMean(run.lossi, 50);
console.log('MEANS ' + JSON.stringify([means.length, means[0], means[means.length - 1]]));`,
    },
  ]);
  assert.equal(r.status, 'ok', text(r));
  const shows = r.outputs.filter((o) => o.type === 'display_data' || o.type === 'update_display_data');
  const ids = [...new Set(shows.map((o) => o.display_id))];
  assert.equal(ids.length, 2, 'two outputs: the progress line and the chart');
  const [line, chart] = ids.map((id) => shows.filter((o) => o.display_id === id));
  for (const outputs of [line, chart]) {
    assert.equal(outputs[0].type, 'display_data');
    assert.ok(
      outputs.slice(1).every((o) => o.type === 'update_display_data'),
      'later outputs replace the first',
    );
  }
  assert.ok(chart.length >= 3, `the chart was redrawn while training ran: ${chart.length} outputs`);
  assert.ok(line.every((o) => Object.keys(o.data!).join() === 'text/plain'));
  assert.match(
    line[line.length - 1].data!['text/plain'],
    /^step 10,000\/10,000 \[#{30}\] 100% {2}loss \d\.\d{4} {2}[0-9.]+ ms\/step {2}done$/,
  );
  // While training: an SVG, redrawn with the line, at most twice a second (the last, final one may come sooner).
  const live = chart.slice(0, -1);
  assert.ok(
    live.every(
      (o) =>
        Object.keys(o.data!).join() === 'image/svg+xml' && /class="makemore-live-loss"/.test(o.data!['image/svg+xml']),
    ),
  );
  for (let k = 1; k < live.length; k++) {
    assert.ok(
      live[k].time! - live[k - 1].time! > 0.4,
      `updates ${(live[k].time! - live[k - 1].time!).toFixed(3)} s apart`,
    );
  }
  assert.match(live[live.length - 1].data!['image/svg+xml'], /mean of each 50 steps: [\d,]+ of 10,000 steps/);
  // At the end: the Plotly figure of the log10 loss, averaged per 50 steps (10,000 / 200 points at most).
  const final = chart[chart.length - 1].data![PLOTLY_MIME] as unknown as {
    data: { x: number[]; y: number[] }[];
    layout: { meta: string };
  };
  assert.equal(final.layout.meta, 'makemore-live-loss');
  const [n, first, last] = JSON.parse(text(r).match(/MEANS (.*)/)![1]);
  assert.equal(final.data[0].x.length, n);
  assert.deepEqual(final.data[0].x.slice(0, 2), [24.5, 74.5]);
  assert.ok(
    Math.abs(final.data[0].y[0] - first) < 1e-5 && Math.abs(final.data[0].y[n - 1] - last) < 1e-5,
    `the chart's means are the lecture's lossi.view(-1, 50).mean(1): ${final.data[0].y[0]} vs ${first}`,
  );
});

test('a busy kernel socket refuses a live update without an error; the next update shows', () => {
  // zeromq holds back one send in 513 until the event loop turns and refuses another send meanwhile
  // (EBUSY). Two outputs updated in one turn, a thousand times: some second updates are refused. A
  // turn with one update shifts which send is held back, so that both cases occur.
  const [r] = session([
    {
      execute: `import * as mm from './lib/index';
const a = new mm.LiveOutput(), b = new mm.LiveOutput();
let refused = 0;
for (let k = 0; k < 1200; k++) {
  if (!a.update({ 'text/plain': 'a ' + k })) refused++;
  if (k !== 600 && !b.update({ 'text/plain': 'b ' + k })) refused++;
  await new Promise((r) => setImmediate(r));
}
a.update({ 'text/plain': 'a done' });
await new Promise((r) => setImmediate(r));
b.update({ 'text/plain': 'b done' });
console.log('REFUSED ' + refused);`,
    },
  ]);
  assert.equal(r.status, 'ok', text(r));
  const refused = Number(text(r).match(/REFUSED (\d+)/)![1]);
  assert.ok(refused >= 1 && refused <= 6, `refused updates: ${refused}`);
  const last = (text: string) =>
    r.outputs.filter((o) => o.data?.['text/plain']?.startsWith(text[0] + ' ')).pop()!.data!['text/plain'];
  assert.equal(last('a'), 'a done');
  assert.equal(last('b'), 'b done');
});

test('a library file deleted and written again while a cell runs (git checkout, atomic saves) does not kill the kernel', () => {
  const rel = `test/.rewrite-${process.pid}.ts`;
  const file = path.join(ROOT, rel);
  try {
    fs.writeFileSync(file, 'export const seven = (): number => 7;\n');
    const results = session([
      {
        execute: `import * as mm from './lib/index';\nimport { seven } from './${rel.replace(/\.ts$/, '')}';\nawait mm.initBackend();\nconsole.log('seven=' + seven());`,
      },
      {
        execute: `import * as fs from 'fs';
import * as os from 'os';\nconst src = fs.readFileSync('${rel}', 'utf8');\nfs.unlinkSync('${rel}');\nawait new Promise((r) => setTimeout(r, 100));\nfs.writeFileSync('${rel}', src);\nawait new Promise((r) => setTimeout(r, 1500));\nconsole.log('still here');`,
      },
      { execute: `console.log('and again: ' + seven());` },
    ]);
    assert.match(text(results[0]), /seven=7/);
    assert.equal(results[1].status, 'ok', text(results[1]));
    assert.match(text(results[1]), /still here/);
    assert.doesNotMatch(text(results[1]), /rebuildTimer/);
    assert.match(text(results[2]), /and again: 7/);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

// Kernel > Interrupt (issue 13): SIGINT to the kernel, as JupyterLab sends it, during a long training cell. mm.train
// used to add its SIGINT listener while tslab ran the cell in vm.runInThisContext({ breakOnSigint: true }), which
// left the signal's action at "exit": the kernel died with every variable (lib/train/interrupt.ts).
test('Kernel > Interrupt during training stops it after a whole step; the kernel lives on with those parameters', () => {
  const results = session([
    {
      execute: `import * as mm from './lib/index';
await mm.initBackend();
const split = mm.splitDataset(await mm.loadNames(), 3, 42);
const net = mm.stageNetwork('batchnorm', new mm.Generator(2147483647));
const trainFor = (steps: number, on: typeof net, progress: boolean) => mm.train({ parameters: on.parameters, loss: on.loss,
  data: split.train, steps: steps, learningRate: () => 0.1, generator: new mm.Generator(1), printEvery: 0, progress: progress });
const seen = { error: '' };  // the interrupted cell's error, for the next cell (a failed cell's declarations are lost)`,
    },
    {
      execute: 'await trainFor(1000000, net, true).catch((e) => { seen.error = e.message; throw e; });',
      interrupt_after: 2,
    },
    // The same seeds, uninterrupted, for the steps the error says were done (after step i: i + 1): the very same values.
    {
      execute: `const done = Number(/after step (\\d+)/.exec(seen.error)![1]) + 1;
const replay = mm.stageNetwork('batchnorm', new mm.Generator(2147483647));
await trainFor(done, replay, false);
const values = (of: typeof net) => [...of.parameters, of.bnmeanRunning, of.bnstdRunning].flatMap((v) => Array.from(v.dataSync()));
const mine = values(net), theirs = values(replay);
console.log(\`\${done} steps: finite \${mine.every(Number.isFinite)}, \${mine.filter((x, k) => x !== theirs[k]).length} of \${mine.length} values differ from a run of \${done} steps\`);
console.log(\`dev loss \${mm.evaluate(net.loss, split.dev).toFixed(4)}\`);`,
    },
    // Training again works, and tslab's own interrupt of an awaiting cell is back (and does not kill the kernel).
    { execute: `const again = await trainFor(50, net, true);\nconsole.log('trained again: ' + again.lossi.length);` },
    { execute: `await new Promise((resolve) => setTimeout(resolve, 20000));`, interrupt_after: 1 },
    { execute: `console.log('still alive');` },
  ]);
  const [ready, interrupted, compared, again, waiting, alive] = results;
  assert.equal(ready.status, 'ok', text(ready));
  assert.notEqual(
    interrupted.status,
    'dead',
    `the interrupt killed the kernel (exit code ${interrupted.exit_code}; -2: SIGINT)`,
  );
  assert.equal(interrupted.status, 'error', text(interrupted));
  const stopped = text(interrupted).match(/Interrupted after step (\d+): the parameters are those after that step/);
  assert.ok(stopped, text(interrupted));
  assert.ok(
    interrupted.seconds_after_interrupt! < 2,
    `the cell ended ${interrupted.seconds_after_interrupt} s after the interrupt`,
  );
  const done = Number(stopped[1]) + 1;
  assert.ok(done > 100, `only ${done} steps in 2 s`);
  assert.equal(compared.status, 'ok', text(compared));
  assert.match(
    text(compared),
    new RegExp(`^${done} steps: finite true, 0 of \\d+ values differ from a run of ${done} steps$`, 'm'),
  );
  assert.match(text(compared), /^dev loss [2-3]\.\d{4}$/m);
  assert.match(text(again), /trained again: 50/);
  assert.notEqual(waiting.status, 'dead', `the second interrupt killed the kernel (exit code ${waiting.exit_code})`);
  assert.match(text(waiting), /Interrupted asynchronously/);
  assert.ok(
    waiting.seconds_after_interrupt! < 2,
    `the cell ended ${waiting.seconds_after_interrupt} s after the interrupt`,
  );
  assert.match(text(alive), /still alive/);
});

// mm.evaluate and mm.sampleNames are synchronous: tslab's breakOnSigint ends such a cell, and nothing of ours listens.
test('Kernel > Interrupt during a long evaluate or sampleNames cell ends that cell; the kernel and the network are as before', () => {
  const [ready, evaluating, evaluated, sampling, sampled] = session([
    {
      execute: `import * as mm from './lib/index';
await mm.initBackend();
const words = await mm.loadNames();
const split = mm.splitDataset(words, 3, 42);
const net = new mm.DeepNetwork({ generator: new mm.Generator(2147483647) });
net.train(false);
const before = mm.evaluate(net.loss, split.dev);
const sample = () => mm.sampleNames((X) => net.logits(X), { generator: new mm.Generator(7), itos: mm.buildVocabulary(words).itos, blockSize: 3 });
const namesBefore = sample().join(' ');`,
    },
    { execute: 'for (let k = 0; k < 10000; k++) mm.evaluate(net.loss, split.dev);', interrupt_after: 1.5 },
    { execute: `console.log('same loss: ' + (mm.evaluate(net.loss, split.dev) === before));` },
    { execute: 'for (let k = 0; k < 100000; k++) sample();', interrupt_after: 1.5 },
    { execute: `console.log('same names: ' + (sample().join(' ') === namesBefore));` },
  ]);
  assert.equal(ready.status, 'ok', text(ready));
  for (const cut of [evaluating, sampling]) {
    assert.notEqual(cut.status, 'dead', `the interrupt killed the kernel (exit code ${cut.exit_code})`);
    assert.match(text(cut), /Script execution was interrupted/);
    assert.ok(cut.seconds_after_interrupt! < 2, `the cell ended ${cut.seconds_after_interrupt} s after the interrupt`);
  }
  assert.match(text(evaluated), /same loss: true/);
  assert.match(text(sampled), /same names: true/);
});

// "The status bar says Idle while a training cell runs" (issue 13). tslab takes each request as it comes and says
// 'idle' when that request is done: with Run All, the cells queued behind a running one, and a completion asked for
// meanwhile, said 'idle' while the training cell still ran (tools/kernel.js now says 'busy' again after them).
test('Run All: the kernel says busy from the start of the training cell to its end, also after a completion asked meanwhile', (t) => {
  const [r] = session([
    {
      run_all: [
        `import * as mm from './lib/index';
await mm.initBackend();
const split = mm.splitDataset(await mm.loadNames(), 3, 42);
const net = mm.stageNetwork('batchnorm', new mm.Generator(2147483647));`,
        `const run = await mm.train({ parameters: net.parameters, loss: net.loss, data: split.train, steps: 8000, learningRate: () => 0.1,
  generator: new mm.Generator(1), printEvery: 0 });`,
        `console.log('steps: ' + run.lossi.length);`,
      ],
      complete_during: 1,
    },
  ]);
  assert.equal(r.status, 'ok', text(r));
  assert.match(text(r), /steps: 8000/);
  assert.ok(
    r.completion?.includes('evaluate'),
    `the completion was answered while training ran: ${JSON.stringify(r.completion)}`,
  );
  const statuses = r.statuses!;
  const endOf = (cell: number) => statuses.find((s) => s.cell === cell && s.state === 'idle')!.time;
  // The training cell starts when the first cell ends, and ends with its own 'idle'.
  const start = endOf(0),
    end = endOf(1);
  assert.ok(end - start > 1, `the training cell ran ${(end - start).toFixed(2)} s`);
  const during = statuses.filter((s) => s.time >= start && s.time < end);
  assert.ok(
    during.some((s) => s.request === 'complete_request'),
    `the completion came while training ran: ${JSON.stringify(during)}`,
  );
  // What a client shows is the last status it received: every 'idle' in between is followed at once by 'busy'.
  let idleFor = 0;
  during.forEach((s, k) => {
    if (s.state !== 'idle') return;
    const next = during.slice(k + 1).find((n) => n.state === 'busy');
    idleFor = Math.max(idleFor, (next?.time ?? end) - s.time);
  });
  t.diagnostic(
    `training cell ${(end - start).toFixed(2)} s; the longest 'idle' in it lasted ${(idleFor * 1000).toFixed(1)} ms`,
  );
  assert.ok(
    idleFor < 0.05,
    `the kernel said idle for ${idleFor.toFixed(2)} s of the training cell's ${(end - start).toFixed(2)} s: ` +
      JSON.stringify(during.map((s) => [s.state, s.cell ?? s.request, +(s.time - start).toFixed(3)])),
  );
  assert.equal(
    statuses.filter((s) => s.time >= start && s.time < end).pop()?.state,
    'busy',
    'the last word before the end is busy',
  );
});
