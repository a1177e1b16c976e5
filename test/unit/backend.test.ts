// The backend choice: printed once, overridable, with a clear error for a wrong or missing one.
// Each case runs in its own node process, since the choice is made once per process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { ROOT } from '../helpers/paths';

function pick(env: Record<string, string>) {
  const code = `require('./lib/env/backend').initBackend().then((b) => console.log('chosen=' + b + ' active=' + require('@tensorflow/tfjs').getBackend()))`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const nativeInstalled = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node', { paths: [ROOT] });
    require(path.join(ROOT, 'node_modules/@tensorflow/tfjs-node'));
    return true;
  } catch {
    return false;
  }
})();

test('without an override the best available backend is chosen and printed', () => {
  const { status, out } = pick({ MAKEMORE_BACKEND: '' });
  assert.equal(status, 0);
  const expected = nativeInstalled ? 'tensorflow' : 'wasm';
  assert.match(out, new RegExp(`^TensorFlow\\.js backend: ${expected}`, 'm'));
  assert.equal(out.match(/TensorFlow\.js backend:/g)!.length, 1);
  assert.match(out, new RegExp(`chosen=${expected} active=${expected}`));
  if (!nativeInstalled) assert.match(out, /native TensorFlow not installed/);
});

test('MAKEMORE_BACKEND=cpu selects the plain CPU backend', () => {
  const { status, out } = pick({ MAKEMORE_BACKEND: 'cpu' });
  assert.equal(status, 0);
  assert.match(out, /TensorFlow\.js backend: cpu \(set by MAKEMORE_BACKEND\)/);
  assert.match(out, /chosen=cpu active=cpu/);
});

test('an unknown MAKEMORE_BACKEND is an error that lists the choices', () => {
  const { status, err } = pick({ MAKEMORE_BACKEND: 'gpu' });
  assert.notEqual(status, 0);
  assert.match(
    err,
    /MAKEMORE_BACKEND=gpu is not allowed: use tensorflow \(native TensorFlow, installed by tools\/install-native-tensorflow\.sh\), wasm \(WebAssembly\) or cpu \(plain JavaScript\)/,
  );
  assert.equal(err.match(/MAKEMORE_BACKEND=gpu/g)!.length, 1, 'one message');
});

test(
  "asking for native TensorFlow where it is missing points to the project's install script, not an npm install that fails offline",
  { skip: nativeInstalled && 'native backend is installed here' },
  () => {
    const { status, err } = pick({ MAKEMORE_BACKEND: 'tensorflow' });
    assert.notEqual(status, 0);
    assert.match(
      err,
      /MAKEMORE_BACKEND=tensorflow was asked for but does not load.*install it with tools\/install-native-tensorflow\.sh \(from the npm registry and PyPI/,
    );
    assert.doesNotMatch(err, /npm install/);
  },
);

test('choosing the backend leaves no handler that turns stray errors into crashes', () => {
  // Emscripten's module re-throws every uncaught exception; a late error in the kernel (a heartbeat on
  // a closing socket) then killed it. After initBackend the process has the handlers it had before.
  const code = `const count = () => process.listeners('uncaughtException').length + process.listeners('unhandledRejection').length;
    const before = count();
    require('./lib/env/backend').initBackend().then(() => console.log('handlers before=' + before + ' after=' + count()));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], {
    cwd: ROOT,
    env: { ...process.env, MAKEMORE_BACKEND: 'wasm' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const m = r.stdout.match(/handlers before=(\d+) after=(\d+)/);
  assert.ok(m, r.stdout);
  assert.equal(m[2], m[1]);
});
