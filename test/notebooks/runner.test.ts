// `npm start`'s runner: an exception in a cell, or a kernel that dies, fails the run with the notebook,
// the cell and the error, and the other notebooks' exports stay intact; a wrong setting fails before any
// kernel starts; --only by name or number; a failed notebook never replaces a good export; Ctrl+C and a
// closed terminal end every kernel, with one line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../helpers/paths';
import { launch, offlinePage } from '../helpers/browser';

function notebook(cells: string[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'makemore-ts', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map((source, i) => ({
      id: `c${i}`,
      cell_type: 'code',
      metadata: {},
      execution_count: null,
      outputs: [],
      source,
    })),
  });
}

test('a failing cell and a dying kernel are reported by notebook and cell; the other exports are written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-runner-'));
  const out = path.join(dir, 'out');
  fs.writeFileSync(
    path.join(dir, 'a-good.ipynb'),
    notebook([
      'console.log("fine " + (6 * 7));',
      "import { show } from './lib/viz/figure';\nshow({ data: [{ type: 'bar', y: [1, 2] }], layout: { title: { text: 'two <bars>' } } });",
    ]),
  );
  fs.writeFileSync(
    path.join(dir, 'b-throws.ipynb'),
    notebook(['console.log("first");', 'throw new Error("the loss is NaN");', 'console.log("never");']),
  );
  fs.writeFileSync(path.join(dir, 'c-dies.ipynb'), notebook(['process.exit(3);']));
  fs.writeFileSync(path.join(dir, 'd-good.ipynb'), notebook(['console.log("still runs");']));
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'tools', 'run-notebooks.js'), '--dir', dir, '--out', out, '--timeout', '60'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 5 * 60 * 1000,
    },
  );
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
  assert.ok(
    fallback.includes('window.Plotly.newPlot("makemore-plot-1", [{"type":"bar","y":[1,2]}], '),
    'the fallback draws the figure',
  );
  assert.ok(fallback.includes('"title":{"text":"two \\u003cbars>"}'), '"<" is escaped inside the script');
  assert.match(fs.readFileSync(path.join(out, 'd-good.ipynb'), 'utf8'), /still runs/);
  assert.match(fs.readFileSync(path.join(out, 'index.html'), 'utf8'), /b-throws\.html.*FAILED/s);
  assert.deepEqual(
    fs.readdirSync(out).filter((f) => f.includes('.tmp-')),
    [],
    'no temporary files left',
  );
});

/** Run the runner (as `npm start` does) on the notebooks of `dir`; `env` adds to the test's environment. */
function runner(dir: string, out: string, args: string[] = [], env: Record<string, string | undefined> = {}) {
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'tools', 'run-notebooks.js'), '--dir', dir, '--out', out, '--timeout', '120', ...args],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 5 * 60 * 1000,
      env: { ...process.env, ...env },
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

const tmp = (what: string) => fs.mkdtempSync(path.join(os.tmpdir(), `makemore-${what}-`));

test('a wrong setting or missing data fails in seconds with one message, before any kernel starts', () => {
  const dir = tmp('runner-settings');
  fs.writeFileSync(path.join(dir, '01-a.ipynb'), notebook(['console.log("ran");']));
  for (const [env, message] of [
    [
      { MAKEMORE_PROFILE: 'fast' },
      /^\[makemore\] error: MAKEMORE_PROFILE=fast is not allowed: use full \(.*\) or quick \(.*\), or leave it unset/m,
    ],
    [
      { MAKEMORE_NAMES: path.join(dir, 'missing.txt') },
      /^\[makemore\] error: MAKEMORE_NAMES=.*missing\.txt, but there is no such file/m,
    ],
    [{ MAKEMORE_COMPILE: 'yes' }, /^\[makemore\] error: MAKEMORE_COMPILE=yes is not allowed/m],
  ] as [Record<string, string>, RegExp][]) {
    const r = runner(dir, path.join(dir, 'out'), [], env);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /\[1\/1\]/, 'no notebook started');
    assert.ok(r.seconds < 30, `took ${r.seconds} s`);
  }
});

test('--only takes a name with or without .ipynb, or its number; an unknown one lists the notebooks; the index keeps the others', () => {
  const dir = tmp('runner-only');
  const out = path.join(dir, 'out');
  // The results file both the runner and JupyterLab use: the runner sets none (the test's env has none either).
  fs.writeFileSync(
    path.join(dir, '01-first.ipynb'),
    notebook(["import { resultsFile } from './lib/env/results';\nconsole.log('results in ' + resultsFile());"]),
  );
  fs.writeFileSync(path.join(dir, '02-second.ipynb'), notebook(['console.log("second ran");']));
  fs.writeFileSync(path.join(dir, '10-tenth.ipynb'), notebook(['console.log("tenth ran");']));
  const env = { MAKEMORE_RESULTS: undefined };
  let r = runner(dir, out, ['--only', '01'], env);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[1\/1\] 01-first \.\.\./);
  assert.match(
    fs.readFileSync(path.join(out, '01-first.ipynb'), 'utf8'),
    new RegExp(`results in ${path.join(ROOT, 'dist', 'results-quick.json')}`),
  );
  r = runner(dir, out, ['--only', '02-second.ipynb', '10'], env);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  // Two at a time: either may finish first.
  assert.match(r.stdout, /\[1\/2\] 02-second \.\.\./);
  assert.match(r.stdout, /\[2\/2\] 10-tenth \.\.\./);
  const index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.deepEqual(
    [...index.matchAll(/href="([^"]+)\.html"/g)].map((m) => m[1]).filter((n) => n !== 'playground'),
    ['01-first', '02-second', '10-tenth'],
    'every entry kept',
  );
  // Neighbours are the notebooks of the folder, also when one runs alone.
  const second = fs.readFileSync(path.join(out, '02-second.html'), 'utf8');
  assert.ok(second.includes('href="01-first.html" rel="prev"') && second.includes('href="10-tenth.html" rel="next"'));
  r = runner(dir, out, ['--only', '04-batchnorm']);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr.trim(),
    '[makemore] --only 04-batchnorm: there is no such notebook. The notebooks are: 01-first, 02-second, 10-tenth. ' +
      'Give a name (with or without .ipynb) or a number, e.g. --only 04-batchnorm or --only 04.',
  );
});

test('a failed --only run keeps the good export and its index entry, marked stale; a good run clears it', () => {
  const dir = tmp('runner-stale');
  const out = path.join(dir, 'out');
  const file = path.join(dir, '01-work.ipynb');
  fs.writeFileSync(file, notebook(['console.log("good " + (6 * 7));']));
  fs.writeFileSync(path.join(dir, '02-other.ipynb'), notebook(['console.log("other");']));
  let r = runner(dir, out);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const good = fs.readFileSync(path.join(out, '01-work.html'), 'utf8');

  fs.writeFileSync(file, notebook(['throw new Error("broken on purpose");']));
  r = runner(dir, out, ['--only', '01-work']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /01-work\.ipynb, cell 0: Error: broken on purpose/);
  assert.equal(fs.readFileSync(path.join(out, '01-work.html'), 'utf8'), good, 'the good export is kept');
  assert.match(fs.readFileSync(path.join(out, '01-work.ipynb'), 'utf8'), /good 42/);
  assert.match(
    fs.readFileSync(path.join(out, '01-work.failed.ipynb'), 'utf8'),
    /broken on purpose/,
    'the failed run is kept beside it',
  );
  let index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.match(
    index,
    /<a href="01-work\.html">.*<b class="stale">stale<\/b>: the last good run .* the run of .* FAILED \(<a href="01-work\.failed\.html">its output<\/a>\)/,
  );
  assert.match(index, /<a href="02-other\.html">[^\n]*ok &middot; profile quick/, 'the other entry is kept');

  fs.writeFileSync(file, notebook(['console.log("fixed");']));
  r = runner(dir, out, ['--only', '1']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  index = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.doesNotMatch(index, /class="stale"|FAILED|failed\.html/);
  assert.ok(
    !fs.existsSync(path.join(out, '01-work.failed.html')),
    'the failed run is gone once a good one replaced it',
  );
});

/** Processes whose environment holds `mark` (Linux: /proc/PID/environ), other than this one. */
function marked(mark: string): number[] {
  const found: number[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (Number(pid) !== process.pid && fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(mark))
        found.push(Number(pid));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

for (const signal of ['SIGINT', 'SIGHUP'] as const) {
  test(
    `${signal} (${signal === 'SIGINT' ? 'Ctrl+C' : 'a closed terminal'}) ends every kernel of the run, with one line and no traceback`,
    { skip: process.platform !== 'linux' && 'reads /proc' },
    async () => {
      const dir = tmp('runner-signal');
      const out = path.join(dir, 'out');
      const started = path.join(dir, 'started');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, '01-slow.html'), 'the previous export');
      fs.writeFileSync(
        path.join(dir, '01-slow.ipynb'),
        notebook([
          `require('fs').writeFileSync(${JSON.stringify(started)}, 'yes');\nawait new Promise((r) => setTimeout(r, 600000));`,
        ]),
      );
      const mark = `MAKEMORE_TEST_MARK=${process.pid}-${signal}-${Date.now()}`;
      // Its own process group, as a terminal's foreground job: the signal goes to the whole group.
      const child = spawn(
        process.execPath,
        [path.join(ROOT, 'tools', 'run-notebooks.js'), '--dir', dir, '--out', out],
        {
          cwd: ROOT,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, MAKEMORE_TEST_MARK: mark.split('=')[1] },
        },
      );
      let output = '';
      child.stdout!.on('data', (d) => {
        output += d;
      });
      child.stderr!.on('data', (d) => {
        output += d;
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        const deadline = Date.now() + 120000;
        while (!fs.existsSync(started)) {
          assert.ok(Date.now() < deadline, `the notebook did not start:\n${output}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(marked(mark).length >= 2, 'the runner and its kernel are running');
        process.kill(-child.pid!, signal);
        const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 30000))]);
        assert.equal(code, signal === 'SIGINT' ? 130 : 129, output);
        const lines = output.split('\n').filter((l) => /stopped by/.test(l));
        assert.deepEqual(
          lines,
          [
            `[makemore] stopped by ${signal} during 01-slow: ended every kernel of the run; its previous export is kept; 0 notebooks finished before.`,
          ],
          output,
        );
        assert.doesNotMatch(output, /Traceback|Error/, output);
        let left = marked(mark);
        for (let i = 0; i < 50 && left.length > 0; i++) {
          await new Promise((r) => setTimeout(r, 200));
          left = marked(mark);
        }
        assert.deepEqual(left, [], 'no process of the run is left');
        assert.equal(fs.readFileSync(path.join(out, '01-slow.html'), 'utf8'), 'the previous export');
      } finally {
        for (const pid of marked(mark))
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
      }
    },
  );
}

test('--self-contained puts plotly.js into the page, which draws its figure offline on its own', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-runner-'));
  const out = path.join(dir, 'out');
  fs.writeFileSync(path.join(dir, '06-other.ipynb'), notebook(['throw new Error("not this one");']));
  fs.writeFileSync(
    path.join(dir, '07-one.ipynb'),
    notebook([
      "import { show } from './lib/viz/figure';\nshow({ data: [{ type: 'bar', x: ['a', 'b'], y: [1, 2] }], layout: { title: { text: 'two bars' } } });",
    ]),
  );
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'tools', 'run-notebooks.js'), '--dir', dir, '--out', out, '--only', '7', '--self-contained'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 5 * 60 * 1000,
    },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.ok(!fs.readdirSync(out).includes('plotly.min.js'), 'no plotly.min.js beside the page');
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

test('two at a time, a notebook that reads earlier results (readResults) starts after every notebook before it', () => {
  const dir = tmp('runner-order');
  const marker = path.join(dir, 'first-done');
  // 01 takes two seconds; 03 would be taken at once by the second worker; 02 must wait for 01.
  fs.writeFileSync(
    path.join(dir, '01-first.ipynb'),
    notebook([
      `await new Promise((r) => setTimeout(r, 2000));\nrequire('fs').writeFileSync(${JSON.stringify(marker)}, 'yes');`,
    ]),
  );
  fs.writeFileSync(
    path.join(dir, '02-reader.ipynb'),
    notebook([
      `// mm.readResults would read what 01 recorded\nif (!require('fs').existsSync(${JSON.stringify(marker)})) throw new Error('started before 01 finished');\nconsole.log('after 01');`,
    ]),
  );
  fs.writeFileSync(path.join(dir, '03-other.ipynb'), notebook(['console.log("other");']));
  const r = runner(dir, path.join(dir, 'out'), ['--jobs', '2']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(fs.readFileSync(path.join(dir, 'out', '02-reader.ipynb'), 'utf8'), /after 01/);
});

test('the notebooks nothing waits for start longest first: by their last run, and on a first run the later first', () => {
  const dir = tmp('runner-longest');
  const out = path.join(dir, 'out');
  fs.writeFileSync(
    path.join(dir, '01-long.ipynb'),
    notebook(['await new Promise((r) => setTimeout(r, 3000));\nconsole.log("long");']),
  );
  fs.writeFileSync(path.join(dir, '02-short.ipynb'), notebook(['console.log("short");']));
  const started = (stdout: string) => [...stdout.matchAll(/started (\S+)/g)].map((m) => m[1]);
  // No exports yet: nothing is known of their times, and the later (the lecture's experiments) goes first.
  const firstRun = runner(dir, out, ['--jobs', '1']);
  assert.equal(firstRun.status, 0, firstRun.stdout + firstRun.stderr);
  assert.deepEqual(started(firstRun.stdout), ['02-short', '01-long']);
  // Now each export records its time: the longer one starts first.
  const secondRun = runner(dir, out, ['--jobs', '1']);
  assert.equal(secondRun.status, 0, secondRun.stdout + secondRun.stderr);
  assert.deepEqual(started(secondRun.stdout), ['01-long', '02-short']);
});
