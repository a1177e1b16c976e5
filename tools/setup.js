#!/usr/bin/env node
// Sets up what is missing, and nothing else when everything is in place:
//   1. node_modules (npm ci) when package-lock.json changed since the last install,
//   2. .venv/ with the pinned JupyterLab, nbconvert and nbclient (tools/requirements.txt),
//   3. the makemore-ts kernel spec inside .venv/ (never in the user's home), running this project's tslab,
//   4. in a git work tree, the nbstripout filter that .gitattributes names for *.ipynb, in the clone's
//      git config, so that running a notebook (JupyterLab's autosave) never shows as a change.
// Each step keeps a stamp (a hash of its inputs) and is skipped when the stamp matches.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');
const { ROOT, VENV, venvPython, KERNEL_NAME, kernelDir, fail, log } = require('./common');

function hashOf(...files) {
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(fs.existsSync(f) ? fs.readFileSync(f) : '');
  return h.digest('hex');
}

function stampOk(stampFile, hash) {
  return fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === hash;
}

function run(cmd, args, what, hint) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) fail(`${what}: could not run ${cmd}: ${r.error.message}\n${hint}`);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status}).\n${hint}`);
}

function ensureNodeModules() {
  const lock = path.join(ROOT, 'package-lock.json');
  const stamp = path.join(ROOT, 'node_modules', '.makemore-stamp');
  const hash = hashOf(lock, path.join(ROOT, 'package.json'));
  if (stampOk(stamp, hash)) return false;
  const modules = path.join(ROOT, 'node_modules');
  if (fs.existsSync(modules) && fs.lstatSync(modules).isSymbolicLink()) {
    // npm ci empties node_modules first: through a link it would empty the packages of the clone the
    // link points to (a git worktree sharing another's node_modules), and that clone's set-up with them.
    fail(
      `node_modules is a link to ${fs.realpathSync(modules)}, installed for another package.json or package-lock.json ` +
        'than this one. Set-up does not reinstall through a link (npm ci would empty the other folder): remove the link ' +
        "(rm node_modules) and run this again to install this clone's own packages.",
    );
  }
  log('installing npm packages (npm ci) ...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  run(
    npm,
    fs.existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'],
    'npm install',
    'Check your network connection to the npm registry (or its proxy settings), then run this again.',
  );
  fs.writeFileSync(stamp, hash);
  return true;
}

function findPython() {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', 'python'];
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (r.status === 0) {
      const [major, minor] = r.stdout.trim().split('.').map(Number);
      if (major === 3 && minor >= 9) return c;
    }
  }
  fail(
    'Python 3.9 or newer was not found (tried: ' +
      candidates.join(', ') +
      ').\n' +
      'Install it (Debian/Ubuntu: apt-get install python3 python3-venv; macOS: brew install python),\n' +
      'or point PYTHON at one: PYTHON=/path/to/python3 npm start',
  );
}

function ensureVenv() {
  const req = path.join(ROOT, 'tools', 'requirements.txt');
  const stamp = path.join(VENV, '.makemore-stamp');
  const hash = hashOf(req);
  if (fs.existsSync(venvPython()) && stampOk(stamp, hash)) return false;
  if (!fs.existsSync(venvPython())) {
    const py = findPython();
    log(`creating the Python virtual environment ${path.relative(ROOT, VENV)}/ with ${py} ...`);
    run(
      py,
      ['-m', 'venv', VENV],
      'python -m venv',
      "Python's venv module is missing: on Debian/Ubuntu, apt-get install python3-venv; then run this again.",
    );
  }
  log('installing JupyterLab, nbconvert and nbclient into .venv/ (pinned in tools/requirements.txt) ...');
  run(
    venvPython(),
    ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', req],
    'pip install',
    'pip could not install the Jupyter packages. Check your network connection to PyPI\n' +
      '(or set PIP_INDEX_URL / HTTPS_PROXY), then run this again. Nothing half-installed is kept: the\n' +
      'next run retries the whole step.',
  );
  fs.writeFileSync(stamp, hash);
  return true;
}

function ensureKernel() {
  if (!fs.existsSync(path.join(ROOT, 'node_modules', 'tslab'))) fail('tslab is missing from node_modules: run npm ci.');
  const spec = {
    argv: [process.execPath, path.join(ROOT, 'tools', 'kernel.js'), 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (tslab, makemore)',
    language: 'typescript',
    env: { NODE_OPTIONS: '--max-old-space-size=8192' },
  };
  const file = path.join(kernelDir(), 'kernel.json');
  const text = JSON.stringify(spec, null, 1) + '\n';
  // Earlier set-ups named this spec "tslab": remove that one when it is ours (it runs our kernel.js).
  const oldFile = path.join(path.dirname(kernelDir()), 'tslab', 'kernel.json');
  try {
    if (JSON.parse(fs.readFileSync(oldFile, 'utf8')).argv[1] === spec.argv[1])
      fs.rmSync(path.dirname(oldFile), { recursive: true });
  } catch {
    /* no such spec, or not ours */
  }
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return false;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  log(`registered the ${KERNEL_NAME} kernel in ${path.relative(ROOT, path.dirname(file))}/`);
  return true;
}

function ensureWasmKernels() {
  try {
    const built = require('../lib/assembly/build.js').build();
    if (built)
      log('compiled the WebAssembly kernels (lib/assembly/*.ts -> lib/assembly/build/kernels.wasm, kernels-fma.wasm)');
    return built;
  } catch (e) {
    fail(`${e.message}\nThe notebooks still run without them, slower: fix the error, or set MAKEMORE_COMPILE=0.`);
  }
}

/**
 * The nbstripout git filter for *.ipynb (.gitattributes: `filter=nbstripout diff=ipynb`), set in the git
 * config of the clone that holds `root` when it is a git work tree. The venv's Python is named by a
 * relative path: git runs filters from the work tree's root, so every worktree of the clone uses its
 * own .venv, and no machine's path is written anywhere.
 */
function ensureGitFilter(root = ROOT) {
  // A throw-away virtual environment (MAKEMORE_VENV, the set-up tests) configures nothing.
  if (path.resolve(VENV) !== path.join(ROOT, '.venv')) return false;
  const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  const inside = git('rev-parse', '--is-inside-work-tree');
  if (inside.error || inside.status !== 0 || inside.stdout.trim() !== 'true') return false;
  const python = process.platform === 'win32' ? '.venv/Scripts/python.exe' : '.venv/bin/python';
  const want = {
    // --keep-id: the notebooks' own cell ids (c00, c01, ...) stay; language_info is what the kernel
    // reports when JupyterLab saves (tslab's, not the committed one), so it is not kept either.
    'filter.nbstripout.clean': `${python} -m nbstripout --keep-id --extra-keys metadata.language_info`,
    'filter.nbstripout.smudge': 'cat',
    'filter.nbstripout.required': 'true',
    'diff.ipynb.textconv': `${python} -m nbstripout --keep-id --extra-keys metadata.language_info -t`,
  };
  let changed = false;
  for (const [key, value] of Object.entries(want)) {
    if (git('config', '--get', key).stdout.trim() === value) continue;
    const r = git('config', key, value);
    if (r.status !== 0) fail(`git config ${key} failed: ${(r.stderr || '').trim()}`);
    changed = true;
  }
  if (changed) log('configured git to strip notebook outputs on commit (nbstripout filter for *.ipynb)');
  return changed;
}

function setup() {
  const t0 = Date.now();
  const changed = [ensureNodeModules(), ensureWasmKernels(), ensureVenv(), ensureKernel(), ensureGitFilter()].some(
    Boolean,
  );
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  log(changed ? `set-up done in ${secs} s` : `set-up: everything in place (${secs} s)`);
}

module.exports = { setup, ensureGitFilter };
if (require.main === module) setup();
