/**
 * The training-step kernels of `lib/assembly/kernels.ts`, compiled to WebAssembly, and the memory
 * they work in. On TensorFlow.js's WebAssembly backend they are instantiated on that backend's own
 * memory and read and write tensors in place (a tensor is a byte address there: `addressOf`). On any
 * other backend (native TensorFlow, cpu) they get a memory of their own, and the caller copies the
 * parameters in and out.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { PROJECT_ROOT } from './names';

/**
 * The parts of the WebAssembly API we use, typed here: the notebooks' kernel (tslab) compiles
 * without the DOM library, where TypeScript keeps WebAssembly's types.
 */
interface Memory { readonly buffer: ArrayBuffer; grow(pages: number): number }
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: {
  Memory: new (descriptor: { initial: number }) => Memory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
} }).WebAssembly;

/** The exports of kernels.ts (addresses are byte offsets into the memory). */
export interface Kernels {
  matmul(x: number, w: number, b: number, y: number, M: number, K: number, N: number): void;
  matmulTN(x: number, w: number, y: number, M: number, K: number, N: number): void;
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
  std(p: number, n: number): number;
}

/** The parts of the WebAssembly backend we use (TensorFlow.js 4.22, `backend_wasm.ts`). */
interface WasmBackend {
  wasm: { asm: { memory: Memory }; _malloc(bytes: number): number; _free(address: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number; refCount: number } | undefined };
}

/** The kernels and their memory. */
export interface KernelHost {
  kernels: Kernels;
  memory: Memory;
  /** True on the wasm backend: tensors live in `memory` and `addressOf` finds them. */
  shared: boolean;
  malloc(bytes: number): number;
  free(address: number): void;
  /**
   * Shared only: the byte address of a float32 tensor's data. With `own`, a variable whose data is
   * shared with another tensor first gets a copy of its own, so that writing in place changes nothing else.
   */
  addressOf(t: tf.Tensor, own?: boolean): number;
}

let compiled: object | undefined;
const hosts = new WeakMap<object, KernelHost>();

/** The compiled module; builds it first if it is missing or older than its source. */
function kernelModule(): object {
  if (!compiled) {
    // tools/build-wasm.js is plain Node.js; it compiles with AssemblyScript when needed.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const builder = require(path.join(PROJECT_ROOT, 'tools', 'build-wasm.js')) as { build(): boolean; OUT: string };
    if (builder.build()) console.log(`built the WebAssembly kernels: ${path.relative(PROJECT_ROOT, builder.OUT)}`);
    compiled = new WebAssemblyApi.Module(fs.readFileSync(builder.OUT));
  }
  return compiled;
}

const instantiate = (memory: Memory) =>
  new WebAssemblyApi.Instance(kernelModule(), { env: { memory } }).exports as unknown as Kernels;

/** On the wasm backend: the backend's memory and allocator. */
function sharedHost(backend: WasmBackend): KernelHost {
  const memory = backend.wasm?.asm?.memory;
  if (!(memory instanceof WebAssemblyApi.Memory)) throw new Error('the wasm backend does not expose its memory (TensorFlow.js version changed?)');
  return {
    kernels: instantiate(memory),
    memory,
    shared: true,
    malloc: (bytes) => backend.wasm._malloc(bytes),
    free: (address) => backend.wasm._free(address),
    addressOf(t, own = false) {
      let info = backend.dataIdMap.get(t.dataId);
      if (!info) throw new Error('tensor is disposed');
      if (own && info.refCount > 1) {
        const v = t as tf.Variable;
        tf.tidy(() => v.assign(tf.tensor(v.dataSync(), v.shape, v.dtype)));
        info = backend.dataIdMap.get(t.dataId)!;
      }
      return info.memoryOffset;
    },
  };
}

/**
 * Elsewhere: a memory of our own with the simplest allocator, a pointer that only moves up and
 * starts again when everything has been freed (a step allocates once and frees all at the end).
 */
function ownHost(): KernelHost {
  const memory = new WebAssemblyApi.Memory({ initial: 16 });
  let top = 1024;
  let live = 0;
  return {
    kernels: instantiate(memory),
    memory,
    shared: false,
    malloc(bytes) {
      const address = top;
      top = (top + bytes + 15) & ~15;
      if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
      live++;
      return address;
    },
    free() {
      if (--live === 0) top = 1024;
    },
    addressOf() {
      throw new Error('tensors do not live in the kernels\' own memory: copy them in');
    },
  };
}

/** The kernels for the active backend: on its memory (wasm) or on their own. */
export function kernelHost(): KernelHost {
  const backend = tf.backend() as unknown as object;
  let host = hosts.get(backend);
  if (!host) {
    host = tf.getBackend() === 'wasm' ? sharedHost(backend as WasmBackend) : ownHost();
    hosts.set(backend, host);
  }
  return host;
}
