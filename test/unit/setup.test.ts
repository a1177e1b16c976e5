// tools/setup.js: idempotent and quick when everything is in place; clear errors without Python or
// without a package index. The failing cases use a throw-away virtual environment (MAKEMORE_VENV).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { AddressInfo } from 'net';
import { ROOT } from '../helpers/paths';

function setup(env: Record<string, string>) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tools', 'setup.js')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 5 * 60 * 1000,
  });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('with everything in place, set-up changes nothing and says so', () => {
  const { status, out } = setup({});
  assert.equal(status, 0, out);
  assert.match(out, /set-up: everything in place \([0-9.]+ s\)/);
});

test('without Python, set-up says how to get it', () => {
  const venv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-venv-')), 'venv');
  const { status, out } = setup({ MAKEMORE_VENV: venv, PYTHON: '/nonexistent/python3' });
  assert.equal(status, 1);
  assert.match(out, /Python 3\.9 or newer was not found \(tried: \/nonexistent\/python3\)/);
  assert.match(out, /apt-get install python3 python3-venv|PYTHON=\/path\/to\/python3/);
});

test('without a reachable package index, set-up says what to check and keeps nothing half-done', async () => {
  // A local "index" that answers every request with 503, as a proxy without network would.
  const server = http.createServer((_, res) => {
    res.statusCode = 503;
    res.end('no network');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const venv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-venv-')), 'venv');
  try {
    const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
      const child = require('child_process').spawn(process.execPath, [path.join(ROOT, 'tools', 'setup.js')], {
        cwd: ROOT,
        env: {
          ...process.env,
          MAKEMORE_VENV: venv,
          PIP_INDEX_URL: `http://127.0.0.1:${port}/simple`,
          PIP_FIND_LINKS: '',
          PIP_NO_INDEX: '',
          PIP_RETRIES: '0',
          PIP_TIMEOUT: '5',
          PIP_CONFIG_FILE: '/dev/null',
        },
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d;
      });
      child.stderr.on('data', (d: Buffer) => {
        out += d;
      });
      child.on('exit', (status: number | null) => resolve({ status, out }));
    });
    assert.equal(r.status, 1, r.out.slice(-2000));
    assert.match(r.out, /pip could not install the Jupyter packages\. Check your network connection to PyPI/);
    assert.ok(!fs.existsSync(path.join(venv, '.makemore-stamp')), 'no stamp: the next run retries');
  } finally {
    server.close();
  }
});

test("node_modules linked to another clone's is never reinstalled through the link (npm ci would empty it)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-link-'));
  const clone = path.join(dir, 'clone');
  const shared = path.join(dir, 'shared-node_modules');
  fs.mkdirSync(shared);
  fs.writeFileSync(path.join(shared, 'a-package'), 'still here');
  fs.mkdirSync(clone);
  fs.cpSync(path.join(ROOT, 'tools'), path.join(clone, 'tools'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(ROOT, f), path.join(clone, f));
  fs.symlinkSync(shared, path.join(clone, 'node_modules'));
  const r = spawnSync(process.execPath, [path.join(clone, 'tools', 'setup.js')], { cwd: clone, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /node_modules is a link to .*shared-node_modules, installed for another package\.json or package-lock\.json than this one\. Set-up does not reinstall through a link/,
  );
  assert.equal(
    fs.readFileSync(path.join(shared, 'a-package'), 'utf8'),
    'still here',
    "the other clone's packages are untouched",
  );
});

test(
  'in a git work tree, set-up configures the nbstripout filter that .gitattributes names for *.ipynb; elsewhere nothing',
  {
    skip:
      spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() !==
        'true' && 'not a git work tree',
  },
  () => {
    const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
    assert.equal(
      git('check-attr', 'filter', '--', 'notebooks/00-data.ipynb'),
      'notebooks/00-data.ipynb: filter: nbstripout',
    );
    // A relative path: every worktree of the clone runs its own .venv, and no machine path is stored.
    assert.match(
      git('config', '--get', 'filter.nbstripout.clean'),
      /^\.venv\/(bin\/python|Scripts\/python\.exe) -m nbstripout --keep-id/,
    );
    assert.equal(git('config', '--get', 'filter.nbstripout.required'), 'true');
    // The filter at work: a notebook with outputs and execution counts is stored as the clean one.
    const clean = fs.readFileSync(path.join(ROOT, 'notebooks', '00-data.ipynb'), 'utf8');
    const nb = JSON.parse(clean);
    nb.cells
      .filter((c: { cell_type: string }) => c.cell_type === 'code')
      .forEach((c: Record<string, unknown>, k: number) => {
        c.execution_count = k + 1;
        c.outputs = [{ output_type: 'stream', name: 'stdout', text: ['an output\n'] }];
      });
    const run = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-strip-')), '00-data.ipynb');
    fs.writeFileSync(run, JSON.stringify(nb, null, 1) + '\n');
    assert.equal(
      git('hash-object', '--path=notebooks/00-data.ipynb', run),
      git('hash-object', '--path=notebooks/00-data.ipynb', path.join(ROOT, 'notebooks', '00-data.ipynb')),
    );
    // Outside a git work tree set-up configures nothing.
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `process.stdout.write(String(require(${JSON.stringify(path.join(ROOT, 'tools', 'setup.js'))}).ensureGitFilter(${JSON.stringify(os.tmpdir())})))`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.stdout, 'false', r.stderr);
  },
);

test("the notebooks name the project's own kernel, makemore-ts, registered inside .venv; a global tslab kernel is another one", () => {
  const { KERNEL_NAME, VENV, venvBin, jupyterEnv } = require('../../tools/common');
  assert.equal(KERNEL_NAME, 'makemore-ts');
  for (const f of fs.readdirSync(path.join(ROOT, 'notebooks')).filter((n) => n.endsWith('.ipynb'))) {
    const { metadata } = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', f), 'utf8'));
    assert.equal(metadata.kernelspec.name, 'makemore-ts', f);
  }
  // A decoy "tslab" kernel in the user's Jupyter folder, as `tslab install` leaves one.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-jupyter-'));
  fs.mkdirSync(path.join(home, 'kernels', 'tslab'), { recursive: true });
  fs.writeFileSync(
    path.join(home, 'kernels', 'tslab', 'kernel.json'),
    JSON.stringify({
      argv: ['tslab', 'kernel', '--config-path', '{connection_file}'],
      display_name: 'TypeScript',
      language: 'typescript',
    }),
  );
  const r = spawnSync(venvBin('jupyter'), ['kernelspec', 'list', '--json'], {
    env: jupyterEnv({ JUPYTER_DATA_DIR: home }),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const specs = JSON.parse(r.stdout).kernelspecs;
  assert.equal(
    path.resolve(specs['makemore-ts'].resource_dir),
    path.join(VENV, 'share', 'jupyter', 'kernels', 'makemore-ts'),
  );
  assert.equal(specs['makemore-ts'].spec.argv[1], path.join(ROOT, 'tools', 'kernel.js'));
  assert.equal(
    path.resolve(specs.tslab.resource_dir),
    path.join(home, 'kernels', 'tslab'),
    'the only tslab is the decoy: set-up registers none',
  );
  fs.rmSync(home, { recursive: true, force: true });
});
