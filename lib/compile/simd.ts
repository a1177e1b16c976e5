/**
 * The project's WebAssembly SIMD kernels (`lib/assembly/`, AssemblyScript), each plan's instance of
 * them on a memory of its own, and a simple allocator: a plan allocates its buffers once.
 */
import { SETTINGS, envChoice } from '../check';

/**
 * The parts of the WebAssembly API we use, typed here: the notebooks' kernel (tslab) compiles
 * without the DOM library, where TypeScript keeps WebAssembly's types.
 */
export interface Memory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
export const WebAssemblyApi = (
  globalThis as unknown as {
    WebAssembly: {
      Memory: new (descriptor: { initial: number }) => Memory;
      Module: new (bytes: Uint8Array) => object;
      validate(bytes: Uint8Array): boolean;
      Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
    };
  }
).WebAssembly;

/** The exports of lib/assembly (addresses are byte offsets; every buffer is float32). */
export interface Kernels {
  matmul(x: number, w: number, b: number, y: number, M: number, K: number, N: number, scratch: number): void;
  matmulTN(x: number, w: number, y: number, M: number, K: number, N: number): void;
  matmulNT(x: number, w: number, y: number, M: number, K: number, N: number): void;
  transpose(x: number, y: number, M: number, N: number): void;
  sgd(p: number, g: number, n: number, lr: number): void;
  std(p: number, n: number): number;
  unary(op: number, x: number, y: number, n: number, alpha: number, beta: number): void;
  binary(
    op: number,
    a: number,
    b: number,
    y: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    as0: number,
    as1: number,
    as2: number,
    as3: number,
    bs0: number,
    bs1: number,
    bs2: number,
    bs3: number,
  ): void;
  select(
    c: number,
    a: number,
    b: number,
    y: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    cs0: number,
    cs1: number,
    cs2: number,
    cs3: number,
    as0: number,
    as1: number,
    as2: number,
    as3: number,
    bs0: number,
    bs1: number,
    bs2: number,
    bs3: number,
  ): void;
  reduce(op: number, x: number, y: number, outer: number, n: number, inner: number): void;
  copy(
    x: number,
    y: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    xs0: number,
    xs1: number,
    xs2: number,
    xs3: number,
    ys0: number,
    ys1: number,
    ys2: number,
    ys3: number,
  ): void;
  gather(x: number, idx: number, y: number, outer: number, dim: number, inner: number, count: number): void;
  segmentSum(x: number, idx: number, y: number, outer: number, count: number, inner: number, segments: number): void;
  oneHot(idx: number, y: number, n: number, depth: number, on: number, off: number): void;
  softmax(x: number, y: number, rows: number, cols: number): void;
}

/** Op codes of `unary`, `binary` and `reduce` (lib/assembly/ops.ts). */
export const UnaryOp = {
  copy: 0,
  neg: 1,
  abs: 2,
  exp: 3,
  log: 4,
  sqrt: 5,
  rsqrt: 6,
  square: 7,
  tanh: 8,
  sigmoid: 9,
  relu: 10,
  leakyRelu: 11,
  elu: 12,
  softplus: 13,
  step: 14,
  sign: 15,
  reciprocal: 16,
  log1p: 17,
  expm1: 18,
  relu6: 19,
  floor: 20,
  ceil: 21,
  round: 22,
  trunc: 23,
  notZero: 24,
  logicalNot: 25,
  fill: 26,
  isNaN: 27,
  isInf: 28,
  isFinite: 29,
  selu: 30,
  sin: 31,
  cos: 32,
  erf: 33,
  clip: 34,
  scaleShift: 35,
  sinh: 36,
  cosh: 37,
  atan: 38,
  tan: 39,
} as const;

export const BinaryOp = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
  pow: 6,
  squaredDifference: 7,
  greater: 8,
  greaterEqual: 9,
  less: 10,
  lessEqual: 11,
  equal: 12,
  notEqual: 13,
  logicalAnd: 14,
  logicalOr: 15,
  floorDiv: 16,
  mod: 17,
  atan2: 18,
  eluGrad: 19,
  divNoNan: 20,
} as const;

export const ReduceOp = { sum: 0, mean: 1, max: 2, min: 3, prod: 4, any: 5, all: 6, argMax: 7, argMin: 8 } as const;

/**
 * Whether matrix products use fused multiply-add (`MAKEMORE_FMA`, default on): the kernels built with
 * relaxed SIMD, where the WebAssembly runtime has it. A fused multiply-add rounds once where a multiply
 * then an add rounds twice, so the last bits of a product differ between the two (PyTorch's MKL
 * products are fused too); `MAKEMORE_FMA=0` gives the same bits on every machine. Read once, when
 * the first plan is built.
 */
export function fusedMultiplyAdd(): boolean {
  return kernelModule().fma;
}

let compiled: { module: object; fma: boolean } | undefined;
let given: { plain: Uint8Array; fma?: Uint8Array } | undefined;

/**
 * Use these bytes as the kernels' modules (lib/assembly/build/kernels.wasm and kernels-fma.wasm)
 * instead of the files: a bundle for the browser (the playground) carries them inline, as there is no
 * file system to read. Call it before the first plan is built.
 */
export function useKernelModule(plain: Uint8Array, fma?: Uint8Array): void {
  given = { plain, fma };
  compiled = undefined;
}

/** On node: the files, built first if they are missing or older than their source. */
function kernelFiles(): { plain: Uint8Array; fma: Uint8Array } {
  // Required here, not imported: a browser bundle that was given the bytes never loads them.
  const fs = require('fs') as typeof import('fs');
  const path = require('path') as typeof import('path');
  const root = path.resolve(__dirname, '..', '..');
  // lib/assembly/build.js is plain Node.js; it compiles with AssemblyScript when needed.
  const builder = require(path.join(root, 'lib', 'assembly', 'build.js')) as {
    build(): boolean;
    allowRelaxedSimd(): void;
    OUT: string;
    OUT_FMA: string;
  };
  if (builder.build())
    console.log(
      `built the WebAssembly kernels: ${path.relative(root, builder.OUT)}, ${path.basename(builder.OUT_FMA)}`,
    );
  builder.allowRelaxedSimd();
  return { plain: fs.readFileSync(builder.OUT), fma: fs.readFileSync(builder.OUT_FMA) };
}

/** The compiled module of the kernels: with fused multiply-add when it is asked for and the runtime has it. */
function kernelModule(): { module: object; fma: boolean } {
  if (!compiled) {
    const bytes = given ?? kernelFiles();
    const wanted = envChoice('MAKEMORE_FMA', SETTINGS.MAKEMORE_FMA, 'the same as 1') !== '0';
    const fma =
      wanted && bytes.fma !== undefined && WebAssemblyApi.validate(bytes.fma)
        ? new WebAssemblyApi.Module(bytes.fma)
        : undefined;
    // Relaxed SIMD lets a runtime do a multiply and an add where the processor has no fused
    // multiply-add: then the plain build, which gives the same bits.
    compiled =
      fma && fuses(fma) ? { module: fma, fma: true } : { module: new WebAssemblyApi.Module(bytes.plain), fma: false };
  }
  return compiled;
}

/** Whether the module's products round once: (1 + 2^-12)^2 - 1 keeps its last term 2^-24 only when fused. */
function fuses(module: object): boolean {
  const memory = new WebAssemblyApi.Memory({ initial: 1 });
  const k = new WebAssemblyApi.Instance(module, { env: { memory } }).exports as unknown as Kernels;
  const f = new Float32Array(memory.buffer);
  const a = 1 + 2 ** -12;
  f.set([1, a, -1, a]);
  k.matmul(0, 8, 0, 16, 1, 2, 1, 32);
  return f[4] === 2 ** -11 + 2 ** -24;
}

/** Room after each buffer: the kernels may read (never write) up to 7 floats past the end. */
const SLACK = 32;

/** The kernels on a memory of their own, with an allocator that only moves up (a plan allocates once). */
export class KernelMemory {
  readonly memory: Memory;
  readonly kernels: Kernels;
  private top = 1024;
  private f32?: Float32Array;

  constructor() {
    this.memory = new WebAssemblyApi.Memory({ initial: 16 });
    this.kernels = new WebAssemblyApi.Instance(kernelModule().module, { env: { memory: this.memory } })
      .exports as unknown as Kernels;
  }

  /** A buffer of `floats` float32 values; returns its byte address. */
  alloc(floats: number): number {
    const address = this.top;
    this.top = (this.top + floats * 4 + SLACK + 15) & ~15;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / 65536));
    return address;
  }

  /** The memory as float32 (a new view after the memory grew). */
  get heap(): Float32Array {
    if (!this.f32 || this.f32.buffer !== this.memory.buffer) this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }

  /** Bytes in use. */
  get bytes(): number {
    return this.top;
  }
}
