/**
 * A small writer of WebAssembly binaries: enough for the loops that `fuse.ts` generates (functions of
 * no arguments over i32 and v128 locals, importing the memory).
 * Reference: the WebAssembly core specification, binary format, and its SIMD proposal (now standard).
 */

/** Unsigned LEB128. */
function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}

/** Signed LEB128 (32-bit). */
function sleb(n: number, out: number[]): void {
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const bytesOf = (s: string) => [...new TextEncoder().encode(s)]; // UTF-8, in node and in browsers
const vec = (items: number[][]) => {
  const out: number[] = [];
  uleb(items.length, out);
  items.forEach((i) => out.push(...i));
  return out;
};
const section = (id: number, body: number[]) => {
  const out = [id];
  uleb(body.length, out);
  return out.concat(body);
};
const name = (s: string) => {
  const b = bytesOf(s);
  const out: number[] = [];
  uleb(b.length, out);
  return out.concat(b);
};

export const I32 = 0x7f,
  F32 = 0x7d,
  V128 = 0x7b;

/** SIMD opcodes (after the 0xfd prefix). */
export const SIMD = {
  load: 0x00,
  store: 0x0b,
  splatF32: 0x13,
  eq: 0x41,
  ne: 0x42,
  lt: 0x43,
  gt: 0x44,
  le: 0x45,
  ge: 0x46,
  not: 0x4d,
  and: 0x4e,
  andnot: 0x4f,
  or: 0x50,
  bitselect: 0x52,
  ceil: 0x67,
  floor: 0x68,
  trunc: 0x69,
  nearest: 0x6a,
  abs: 0xe0,
  neg: 0xe1,
  sqrt: 0xe3,
  add: 0xe4,
  sub: 0xe5,
  mul: 0xe6,
  div: 0xe7,
  min: 0xe8,
  max: 0xe9,
  pmin: 0xea,
  pmax: 0xeb,
  /** Relaxed SIMD's f32x4.relaxed_madd: a * b + c, fused where the processor has it. */
  madd: 0x105,
} as const;

/** The body of one function: its locals and its code. */
export class Body {
  /** `fma`: the module may use relaxed SIMD's fused multiply-add (lib/compile/simd.ts `fusedMultiplyAdd`). */
  constructor(readonly fma = false) {}
  readonly code: number[] = [];
  private i32s = 0;
  private v128s = 0;
  /** Locals are numbered i32s first, then v128s; `finish` renumbers, so ask for them by kind. */
  private readonly pending: { kind: 'i32' | 'v128'; k: number; at: number }[] = [];

  i32(): number {
    return this.i32s++;
  }
  v128(): number {
    return -1 - this.v128s++;
  }

  private local(op: number, l: number) {
    this.code.push(op);
    // v128 locals are negative until the count of i32 locals is known.
    this.pending.push({ kind: l >= 0 ? 'i32' : 'v128', k: l >= 0 ? l : -1 - l, at: this.code.length });
    this.code.push(0, 0, 0); // room for a 3-byte LEB, patched in `finish`
  }
  get(l: number) {
    this.local(0x20, l);
    return this;
  }
  set(l: number) {
    this.local(0x21, l);
    return this;
  }
  i32Const(v: number) {
    this.code.push(0x41);
    sleb(v, this.code);
    return this;
  }
  op(...bytes: number[]) {
    this.code.push(...bytes);
    return this;
  }
  simd(op: number, ...immediates: number[]) {
    this.code.push(0xfd);
    uleb(op, this.code);
    this.code.push(...immediates);
    return this;
  }
  /**
   * Four lanes of the float32 `v`. Each constant is splat once, before the function's code, into a
   * local: V8 would otherwise build it again at every use, inside the loops.
   */
  f32Splat(v: number) {
    const bits = new DataView(new ArrayBuffer(4));
    bits.setFloat32(0, v, true); // little-endian, as WebAssembly encodes constants
    return this.splat32(bits.getUint32(0, true));
  }
  /** Four lanes of the 32 bits `bits` (an integer constant of integer-lane code), hoisted as f32Splat's. */
  splat32(bits: number) {
    const key = bits >>> 0;
    let l = this.constants.get(key);
    if (l === undefined) this.constants.set(key, (l = this.v128()));
    return this.get(l);
  }
  private readonly constants = new Map<number, number>();
  /** v128.load / v128.store at the address on the stack (alignment hint 1 byte: any address). */
  load() {
    return this.simd(SIMD.load, 0, 0);
  }
  store() {
    return this.simd(SIMD.store, 0, 0);
  }
  loadF32() {
    this.code.push(0x2a, 2, 0);
    return this;
  }
  /** do { body } while (counter < limit): `body` leaves nothing on the stack. */
  loop(body: () => void, counter: number, step: number, limit: number) {
    this.code.push(0x03, 0x40);
    body();
    this.get(counter).i32Const(step).op(0x6a).set(counter); // counter += step
    this.get(counter).i32Const(limit).op(0x48).op(0x0d, 0); // br_if 0 (counter < limit)
    this.code.push(0x0b);
    return this;
  }

  /** The encoded function body. */
  finish(): number[] {
    // The constants' locals first (their local.set patched below, with the code's).
    const prologue = new Body();
    prologue.i32s = this.i32s;
    prologue.v128s = this.v128s;
    for (const [key, l] of this.constants) {
      prologue.code.push(0x43, key & 0xff, (key >>> 8) & 0xff, (key >>> 16) & 0xff, key >>> 24);
      prologue.simd(SIMD.splatF32).set(l);
    }
    const shift = prologue.code.length;
    const pending = [...prologue.pending, ...this.pending.map((p) => ({ ...p, at: p.at + shift }))];
    const code = prologue.code.concat(this.code);
    // Patch local indices with fixed-width (3-byte, padded) LEB128.
    for (const p of pending) {
      const index = p.kind === 'i32' ? p.k : this.i32s + p.k;
      code[p.at] = (index & 0x7f) | 0x80;
      code[p.at + 1] = ((index >> 7) & 0x7f) | 0x80;
      code[p.at + 2] = (index >> 14) & 0x7f;
    }
    const locals = vec([
      ...(this.i32s ? [[...uleb1(this.i32s), I32]] : []),
      ...(this.v128s ? [[...uleb1(this.v128s), V128]] : []),
    ]);
    const body = [...locals, ...code, 0x0b];
    const out: number[] = [];
    uleb(body.length, out);
    return out.concat(body);
  }
}

const uleb1 = (n: number) => {
  const out: number[] = [];
  uleb(n, out);
  return out;
};

/** A module importing `env.memory` and defining `bodies` as functions of no arguments exported as `f0`, `f1`, ... */
export function moduleBytes(bodies: Body[]): Uint8Array {
  const exported = bodies.map((_, k) => [...name(`f${k}`), 0x00, ...uleb1(k)]);
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, 0, 0]])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec(bodies.map(() => [0]))),
    ...section(7, vec(exported)),
    ...section(10, vec(bodies.map((b) => b.finish()))),
  ]);
}
