// The live loss chart of training: buckets as the lecture's lossi.view(-1, 1000).mean(1), its SVG
// while training and its final Plotly figure; on a terminal, training shows its bar and nothing more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIVE_CHART_META, LossBuckets, bucketSize, lossChartFigure, lossChartSvg } from '../../lib/viz/livechart';
import { windowedMean } from '../../lib/viz/plots';
import { initBackend } from '../../lib/env/backend';
import { loadNames } from '../../lib/data/names';
import { splitDataset } from '../../lib/data/dataset';
import { Generator } from '../../lib/tensor/random';
import { stageNetwork } from '../../lib/nn/models';
import { train } from '../../lib/train/loop';
import { NAMES_FILE } from '../helpers/paths';

test("bucket sizes: 1000 for the lecture's 200,000 steps, at most about 200 points otherwise", () => {
  assert.equal(bucketSize(200000), 1000);
  assert.equal(bucketSize(2000), 10);
  assert.equal(bucketSize(1001), 10);
  assert.equal(bucketSize(150), 1);
  assert.equal(bucketSize(1), 1);
  for (const steps of [1, 7, 201, 999, 12345, 3e6]) assert.ok(Math.ceil(steps / bucketSize(steps)) <= 200, `${steps}`);
  assert.throws(() => bucketSize(0), /bucketSize: steps must be an integer >= 1, got 0/);
  assert.throws(() => bucketSize(2.5), /got 2\.5/);
});

test("the bucket means are the lecture's lossi.view(-1, B).mean(1) of log10 losses, a last partial bucket included", () => {
  const losses = Array.from({ length: 2005 }, (_, i) => 3 * Math.exp(-i / 500) + 2 + 0.1 * Math.sin(i));
  const b = new LossBuckets(2005);
  assert.equal(b.size, 20);
  losses.forEach((l) => b.add(l));
  const lossi = losses.map(Math.log10);
  const { x, y } = b.means();
  const full = windowedMean(lossi, 20);
  assert.equal(y.length, full.length + 1);
  full.forEach((m, k) => assert.ok(Math.abs(y[k] - m) < 1e-12, `bucket ${k}`));
  assert.ok(
    Math.abs(y[y.length - 1] - lossi.slice(2000).reduce((s, v) => s + v, 0) / 5) < 1e-12,
    'the partial bucket of 5 steps',
  );
  assert.deepEqual(x.slice(0, 2), [9.5, 29.5]);
  assert.equal(x[x.length - 1], 2002);
  assert.equal(b.means(true).y.length, full.length, 'without the partial bucket');
  b.add(1);
  assert.equal(b.length, 2005, 'no more steps than the run has');
});

test("the SVG while training: one line over the whole run's axis, growing to the right", () => {
  const b = new LossBuckets(1000);
  for (let i = 0; i < 300; i++) b.add(10 ** (0.5 - i / 3000));
  const svg = lossChartSvg(b);
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" class="makemore-live-loss"/);
  assert.match(svg, /log10\(loss\), mean of each 5 steps: 300 of 1,000 steps/);
  const points = svg
    .match(/<polyline points="([^"]+)"/)![1]
    .split(' ')
    .map((p) => p.split(',').map(Number));
  assert.equal(points.length, 60);
  assert.ok(
    points.every(([px], k) => k === 0 || px > points[k - 1][0]),
    'x grows',
  );
  assert.ok(
    points[59][0] < 56 + 0.35 * (640 - 56 - 16),
    'after 300 of 1,000 steps the line has covered under a third of the axis',
  );
  assert.ok(points[0][1] < points[59][1], 'a falling loss goes down the picture');
  const one = new LossBuckets(10);
  one.add(2);
  assert.match(lossChartSvg(one), /<circle /, 'a single point is drawn as a dot');
});

test('the final figure: the means as a Plotly line, marked as the live chart', () => {
  const b = new LossBuckets(2000);
  for (let i = 0; i < 2000; i++) b.add(2);
  const fig = lossChartFigure(b);
  const trace = fig.data[0] as { x: number[]; y: number[] };
  assert.equal(trace.x.length, 200);
  assert.ok(trace.y.every((v) => Math.abs(v - Math.log10(2)) < 1e-12));
  assert.equal(fig.layout!.meta, LIVE_CHART_META);
  assert.deepEqual((fig.layout!.xaxis as { range: number[] }).range, [0, 1999]);
  assert.equal((fig.layout!.title as { text: string }).text, 'Training loss: log10, mean of each 10 steps');
});

test('on a terminal, training shows its progress bar and nothing more (no chart)', async () => {
  await initBackend();
  const split = splitDataset(await loadNames({ file: NAMES_FILE }), 3, 42);
  const net = stageNetwork('batchnorm', new Generator(2147483647));
  const written: string[] = [];
  const { write } = process.stderr;
  const tty = process.stderr.isTTY;
  const log = console.log;
  process.stderr.isTTY = true;
  process.stderr.write = ((s: string) => {
    written.push(String(s));
    return true;
  }) as typeof process.stderr.write;
  console.log = (...args: unknown[]) => {
    written.push(args.join(' '));
  };
  try {
    await train({
      parameters: net.parameters,
      loss: net.loss,
      data: split.train,
      steps: 50,
      learningRate: () => 0.1,
      generator: new Generator(1),
      printEvery: 0,
    });
  } finally {
    process.stderr.write = write;
    process.stderr.isTTY = tty;
    console.log = log;
  }
  assert.ok(written.length >= 1);
  for (const w of written)
    assert.match(
      w,
      /^\rstep [\d,]+\/50 \[[#.]{30}\] \d+% {2}loss \d\.\d{4} {2}[0-9.]+ ms\/step {2}(done\n|\d+ s left)$/,
    );
  assert.match(written[written.length - 1], /step 50\/50 .*done\n$/);
});
