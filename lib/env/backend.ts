/**
 * Chooses the TensorFlow.js backend, once per process, and says which one it uses.
 *
 * Preference: native TensorFlow (`@tensorflow/tfjs-node`, when its libtensorflow is installed),
 * else WebAssembly (`@tensorflow/tfjs-backend-wasm`), else the plain JavaScript CPU backend.
 * `MAKEMORE_BACKEND=tensorflow|wasm|cpu` overrides the choice.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { registerKernelFixes } from './kernel-fixes';
import { compiling } from '../compile/step';
import { SETTINGS, envChoice } from '../check';
import { fusedMultiplyAdd } from '../compile/simd';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

let chosen: Promise<BackendName> | undefined;
/** The line that says which backend runs, and why. */
let message = '';

/**
 * The WebAssembly module (Emscripten) adds process handlers that re-throw every uncaught exception
 * and unhandled rejection, which turns any stray error, such as a heartbeat sent on a socket that
 * the kernel is closing, into a crash. We take those handlers off again: the kernel (tslab) and
 * node keep their own.
 */
async function withoutNewProcessHandlers<T>(f: () => Promise<T>): Promise<T> {
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((e) => process.listeners(e as NodeJS.Signals));
  try {
    return await f();
  } finally {
    events.forEach((e, k) => {
      for (const l of process.listeners(e as NodeJS.Signals)) {
        if (!before[k].includes(l)) process.removeListener(e, l);
      }
    });
  }
}

/** Try to make `name` available and active; returns why not, or undefined on success. */
async function tryBackend(name: BackendName): Promise<string | undefined> {
  return withoutNewProcessHandlers(() => tryBackendUnguarded(name));
}

async function tryBackendUnguarded(name: BackendName): Promise<string | undefined> {
  try {
    if (name === 'tensorflow') {
      // Registers the 'tensorflow' backend; throws when libtensorflow is missing.
      require('@tensorflow/tfjs-node');
    } else if (name === 'wasm') {
      const wasm = require('@tensorflow/tfjs-backend-wasm');
      const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      wasm.setWasmPaths(dist + path.sep);
    }
    if (!(await tf.setBackend(name))) return `tf.setBackend('${name}') returned false`;
    await tf.ready();
    return undefined;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return msg.split('\n')[0];
  }
}

/** The backend `MAKEMORE_BACKEND` asks for (checked), or undefined to choose the best that loads. */
export function backendFromEnv(): BackendName | undefined {
  return envChoice('MAKEMORE_BACKEND', SETTINGS.MAKEMORE_BACKEND, 'the first that loads of tensorflow, wasm, cpu');
}

async function choose(): Promise<BackendName> {
  // Production mode: no debug checks, and no "install tfjs-node" banner: we say what we chose.
  tf.enableProdMode();
  registerKernelFixes();
  const forced = backendFromEnv();
  if (forced) {
    const why = await tryBackend(forced);
    if (why) {
      // npm's own install of tfjs-node downloads libtensorflow from Google's storage, which fails offline.
      throw new Error(
        `MAKEMORE_BACKEND=${forced} was asked for but does not load (${why}). ` +
          (forced === 'tensorflow'
            ? 'Native TensorFlow is optional: install it with tools/install-native-tensorflow.sh (from the npm registry and PyPI; see the README, "Backends"), or unset MAKEMORE_BACKEND to use WebAssembly.'
            : 'Run `npm ci`, or unset MAKEMORE_BACKEND.'),
      );
    }
    message = `TensorFlow.js backend: ${forced} (set by MAKEMORE_BACKEND)`;
    return forced;
  }
  const skipped: string[] = [];
  for (const name of BACKENDS) {
    const why = await tryBackend(name);
    if (!why) {
      const note = skipped.length ? ` (${skipped.join('; ')})` : '';
      message = `TensorFlow.js backend: ${name}${note}`;
      return name;
    }
    skipped.push(name === 'tensorflow' ? 'native TensorFlow not installed' : `${name} unavailable: ${why}`);
  }
  throw new Error(`No TensorFlow.js backend loads: ${skipped.join('; ')}. Run \`npm ci\` in the project folder.`);
}

/**
 * Pick the backend (first call only), print which one it is (every call, so that every notebook
 * says it), and resolve to its name. Await it before any tensor work.
 */
export async function initBackend(): Promise<BackendName> {
  if (!chosen) {
    chosen = choose();
    // A failed choice (a wrong MAKEMORE_BACKEND) is tried again on the next call, once the setting is fixed.
    chosen.catch(() => {
      chosen = undefined;
    });
  }
  const name = await chosen;
  console.log(message);
  console.log(
    compiling()
      ? `Training steps: compiled to WebAssembly SIMD kernels on their first run${fusedMultiplyAdd() ? ', with fused multiply-add' : ''} ` +
          '(lib/compile; MAKEMORE_COMPILE=0 runs them eagerly)'
      : 'Training steps: TensorFlow.js operations, eagerly (MAKEMORE_COMPILE=0)',
  );
  return name;
}
