/**
 * The training-step kernels of `lib/assembly/kernels.ts`, compiled to WebAssembly and instantiated
 * on the memory of TensorFlow.js's WebAssembly backend, so that they read and write tensors in
 * place: a tensor is a byte address in that memory (`addressOf`).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { PROJECT_ROOT } from './names';

/** The exports of kernels.ts (addresses are byte offsets into the shared memory). */
export interface Kernels {
  matmul(x: number, w: number, b: number, y: number, M: number, K: number, N: number): void;
  transpose(x: number, y: number, M: number, N: number): void;
  sumRows(x: number, s: number, M: number, N: number): void;
  embed(C: number, X: number, out: number, B: number, T: number, D: number): void;
  embedBackward(dout: number, X: number, dC: number, B: number, T: number, D: number, V: number): void;
  tanhForward(x: number, y: number, n: number): void;
  tanhBackward(dy: number, y: number, dx: number, n: number): void;
  batchNormForward(x: number, gamma: number, beta: number, y: number, xhat: number, sd: number, runMean: number,
    runStat: number, B: number, N: number, eps: number, momentum: number, trackStd: number): void;
  batchNormEval(x: number, gamma: number, beta: number, y: number, runMean: number, runStat: number,
    B: number, N: number, eps: number, trackStd: number): void;
  batchNormBackward(dy: number, xhat: number, sd: number, gamma: number, dx: number, dgamma: number, dbeta: number,
    B: number, N: number): void;
  crossEntropy(logits: number, Y: number, dlogits: number, B: number, V: number): number;
  sgd(p: number, g: number, n: number, lr: number): void;
}

/** The parts of the WebAssembly backend we use (TensorFlow.js 4.22, `backend_wasm.ts`). */
interface WasmBackend {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(bytes: number): number; _free(address: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number; refCount: number } | undefined };
}

export interface SharedKernels {
  kernels: Kernels;
  memory: WebAssembly.Memory;
  backend: WasmBackend;
}

let loaded: SharedKernels | undefined;

/**
 * The kernels, on the active backend's memory; builds them first if they are missing or older than
 * their source. Throws with the reason when the backend is not 'wasm' or the build fails.
 */
export function sharedKernels(): SharedKernels {
  if (tf.getBackend() !== 'wasm') throw new Error(`the fused kernels need the wasm backend, not ${tf.getBackend()}`);
  const backend = tf.backend() as unknown as WasmBackend;
  if (loaded && loaded.backend === backend) return loaded;
  const memory = backend.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('the wasm backend does not expose its memory (TensorFlow.js version changed?)');
  // tools/build-wasm.js is plain Node.js; it compiles with AssemblyScript when needed.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const builder = require(path.join(PROJECT_ROOT, 'tools', 'build-wasm.js')) as { build(): boolean; OUT: string };
  if (builder.build()) console.log(`built the WebAssembly kernels: ${path.relative(PROJECT_ROOT, builder.OUT)}`);
  const module = new WebAssembly.Module(fs.readFileSync(builder.OUT));
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  loaded = { kernels: instance.exports as unknown as Kernels, memory, backend };
  return loaded;
}

/**
 * The byte address of a float32 tensor's data in the shared memory. With `own`, a variable whose
 * data is shared with another tensor first gets a copy of its own, so that writing in place changes
 * nothing else.
 */
export function addressOf(shared: SharedKernels, t: tf.Tensor, own = false): number {
  let info = shared.backend.dataIdMap.get(t.dataId);
  if (!info) throw new Error('tensor is disposed');
  if (own && info.refCount > 1) {
    const v = t as tf.Variable;
    tf.tidy(() => v.assign(tf.tensor(v.dataSync(), v.shape, v.dtype)));
    info = shared.backend.dataIdMap.get(t.dataId)!;
  }
  return info.memoryOffset;
}
