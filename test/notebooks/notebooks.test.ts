// The notebooks, executed end to end on the real tslab kernel in the quick profile (as `npm start`
// does), then their HTML exports opened in Debian's Chromium with the network off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Browser } from 'playwright-core';
import { NAMES_FILE, ROOT } from '../helpers/paths';
import { launch, offlinePage } from '../helpers/browser';

const OUT = path.join(ROOT, 'dist', 'test');
const NOTEBOOKS = fs.readdirSync(path.join(ROOT, 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort()
  .map((f) => f.replace(/\.ipynb$/, ''));

interface Output { output_type: string; text?: string | string[]; data?: Record<string, string | string[]> }
interface Cell { cell_type: string; outputs?: Output[] }

const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : t ?? '');
function executed(name: string): Cell[] {
  return JSON.parse(fs.readFileSync(path.join(OUT, `${name}.ipynb`), 'utf8')).cells;
}
/** Everything a notebook printed (stdout and text/plain), in order. */
function printed(name: string): string {
  return executed(name).flatMap((c) => c.outputs ?? []).map((o) => join(o.text) + join(o.data?.['text/plain'])).join('\n');
}

let run: ReturnType<typeof spawnSync>;
let browser: Browser;

before(async () => {
  fs.rmSync(OUT, { recursive: true, force: true });
  run = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'run-notebooks.js'), '--out', OUT], {
    cwd: ROOT, env: { ...process.env, MAKEMORE_PROFILE: 'quick', MAKEMORE_NAMES: process.env.MAKEMORE_NAMES ?? NAMES_FILE }, encoding: 'utf8', timeout: 60 * 60 * 1000,
  });
  browser = await launch();
});
after(async () => { await browser?.close(); });

test('every notebook executes without error in the quick profile', () => {
  assert.equal(run.status, 0, `run-notebooks failed:\n${run.stdout}\n${run.stderr}`);
  for (const name of NOTEBOOKS) {
    assert.match(String(run.stdout), new RegExp(`${name} \\.\\.\\.\\n\\[makemore\\]     ok in [0-9.]+ s`));
    const errors = executed(name).flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'error');
    assert.deepEqual(errors, [], `${name} has error outputs`);
  }
  assert.match(String(run.stdout), new RegExp(`${NOTEBOOKS.length} of ${NOTEBOOKS.length} notebooks ok`));
});

test('00-data prints the backend, the profile and the split sizes of the lecture', () => {
  const out = printed('00-data');
  assert.match(out, /^TensorFlow\.js backend: (tensorflow|wasm|cpu)/m);
  assert.match(out, /run profile: quick/);
  assert.match(out, /32033 names/);
  assert.match(out, /train 182625 examples, dev 22655, test 22866/);
  assert.match(out, /mma ---> \./);
});

test('index.html links every notebook in order', () => {
  const index = fs.readFileSync(path.join(OUT, 'index.html'), 'utf8');
  const links = [...index.matchAll(/href="([^"]+)\.html"/g)].map((m) => m[1]);
  assert.deepEqual(links, NOTEBOOKS);
});

test('the 00-data export draws its Plotly figure offline, interactive, without script errors', async () => {
  const { page, problems, requests } = await offlinePage(browser);
  await page.goto('file://' + path.join(OUT, '00-data.html'));
  await page.waitForSelector('.makemore-plot .main-svg', { timeout: 30000 });
  const bars = await page.locator('.makemore-plot .bars path').count();
  assert.equal(bars, 27, 'one bar per character');
  // Hover over the bar of 'a': Plotly shows its hover text.
  await page.locator('.makemore-plot').first().scrollIntoViewIfNeeded();
  const box = await page.locator('.makemore-plot .bars path').nth(1).boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('.hoverlayer .hovertext', { timeout: 5000 });
  assert.match(await page.locator('.hoverlayer .hovertext').textContent() ?? '', /'\.' is followed by 'a' in 13\.\d% of names/);
  await page.screenshot({ path: path.join(ROOT, 'dist', '00-data-export.png') });
  assert.deepEqual(problems, []);
  assert.deepEqual(requests, [], 'the export loads nothing from the network');
  await page.context().close();
});
