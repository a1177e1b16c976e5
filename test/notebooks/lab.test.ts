// `npm run lab` (tools/lab.js) as a learner starts and stops it in a terminal: on a folder given as an
// argument, with a URL whose port and token are this server's; Ctrl+C (SIGINT to the terminal's
// process group) shuts its kernels down and leaves no process behind; a port in use and a missing
// folder get a clear message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { NAMES_FILE, ROOT } from '../helpers/paths';

const LAB = path.join(ROOT, 'tools', 'lab.js');

/** Jupyter's folders private to the test (nothing in the user's home). */
function jupyterHome(): Record<string, string> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-labhome-'));
  return {
    JUPYTER_CONFIG_DIR: path.join(home, 'config'),
    JUPYTER_DATA_DIR: path.join(home, 'data'),
    JUPYTER_RUNTIME_DIR: path.join(home, 'runtime'),
  };
}

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

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'npm run lab -- FOLDER opens that folder at the URL it prints; Ctrl+C shuts its kernels down, nothing is left',
  { skip: process.platform !== 'linux' && 'reads /proc' },
  async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-labroot-'));
    fs.writeFileSync(path.join(folder, 'marker.txt'), 'here');
    const mark = `makemore-lab-${process.pid}-${Date.now()}`;
    // Its own process group, as a job in a terminal: Ctrl+C sends SIGINT to the whole group.
    const child = spawn(process.execPath, [LAB, folder, '--no-browser'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...jupyterHome(),
        MAKEMORE_TEST_MARK: mark,
        MAKEMORE_NAMES: process.env.MAKEMORE_NAMES ?? NAMES_FILE,
      },
    });
    let output = '';
    child.stdout!.on('data', (d) => {
      output += d;
    });
    child.stderr!.on('data', (d) => {
      output += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let url: RegExpMatchArray | null = null;
      for (let i = 0; i < 600 && !(url = output.match(/http:\/\/localhost:(\d+)\/lab\?token=(\w+)/)); i++)
        await wait(100);
      assert.ok(url, `no URL printed:\n${output}`);
      const [, port, token] = url;
      const api = (p: string, init?: RequestInit) =>
        fetch(`http://127.0.0.1:${port}${p}`, {
          ...init,
          headers: { Authorization: `token ${token}`, ...init?.headers },
        });
      let up = false;
      for (let i = 0; i < 600 && !up; i++) {
        up = await api('/api/status').then(
          (r) => r.ok,
          () => false,
        );
        if (!up) await wait(100);
      }
      assert.ok(up, `the printed URL does not reach the server:\n${output}`);
      const contents = (await (await api('/api/contents')).json()) as { content: { name: string }[] };
      assert.deepEqual(
        contents.content.map((c) => c.name),
        ['marker.txt'],
        'the server opened the folder given',
      );

      assert.ok(
        (await api('/api/kernels', { method: 'POST', body: JSON.stringify({ name: 'makemore-ts' }) })).ok,
        'a kernel is started',
      );
      const kernelRunning = () =>
        marked(mark).some((pid) => {
          try {
            return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('kernel.js');
          } catch {
            return false;
          }
        });
      for (let i = 0; i < 600 && !kernelRunning(); i++) await wait(100);
      assert.ok(kernelRunning(), 'the tslab kernel (tools/kernel.js) runs');
      await wait(2000); // past its start-up

      process.kill(-child.pid!, 'SIGINT');
      const code = await Promise.race([exited, wait(60000).then(() => 'timeout')]);
      assert.equal(code, 0, output);
      assert.match(output, /SIGINT: stopping JupyterLab and its kernels/);
      assert.match(output, /Shutting down 1 kernel/, 'Jupyter shut its kernel down');
      let left = marked(mark);
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await wait(200);
        left = marked(mark);
      }
      assert.deepEqual(left, [], `no process left:\n${output}`);
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

test('npm run lab on a port in use says so and how to choose another', async () => {
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const r = spawnSync(process.execPath, [LAB, `--port=${port}`], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...jupyterHome() },
      timeout: 60000,
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(
      r.stderr.trim(),
      `[makemore] error: port ${port} is in use (another JupyterLab, or another server): choose another, ` +
        `e.g. npm run lab -- --port=${port + 1}, or leave --port out to take a free one.`,
    );
  } finally {
    busy.close();
  }
});

test('npm run lab on a folder that is not there says which', () => {
  const missing = path.join(os.tmpdir(), `makemore-no-such-folder-${process.pid}`);
  const r = spawnSync(process.execPath, [LAB, missing], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`the folder to open, ${missing}, is not there`));
  assert.match(r.stderr, /Usage: npm run lab \[-- FOLDER\]/);
});
