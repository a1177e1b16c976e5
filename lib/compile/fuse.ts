/**
 * Fusing elementwise work, as tinygrad's scheduler does: neighbouring elementwise kernels of one
 * output shape become one loop, generated as WebAssembly for this plan (every shape, stride and
 * address a constant), that keeps its intermediate values in SIMD registers and writes to memory only
 * the values something else reads. Reshapes, identities and casts between float types are views of
 * a value, not work (`roots`). exp, log, tanh and the like are written into the loops (`vmath.ts`).
 */
import { Body, SIMD, moduleBytes } from './emit';
import * as vm from './vmath';
import type { Call, Recording } from './record';
import { stridesOf } from './lower';
import { WebAssemblyApi, fusedMultiplyAdd } from './simd';

/** Kernels that are views of their input (no data moves), given the cast's dtypes. */
export function isView(call: Call): boolean {
  if (['Identity', 'Reshape', 'ExpandDims', 'Squeeze'].includes(call.kernel)) return true;
  if (call.kernel === 'Cast') {
    const from = call.inputs[0][1].dtype,
      to = call.attrs.dtype as string;
    return to === 'float32' || from === to || (to === 'int32' && from === 'bool');
  }
  return false;
}

/** How each elementwise kernel computes one vector from its inputs' vectors (locals), leaving it on the stack. */
type Emitter = (b: Body, inputs: number[], attrs: Record<string, unknown>) => void;

const push = (b: Body, ls: number[]) => ls.forEach((l) => b.get(l));
const simd =
  (op: number): Emitter =>
  (b, ins) => {
    push(b, ins);
    b.simd(op);
  };
/** A comparison as 1 or 0. */
const compare =
  (op: number): Emitter =>
  (b, ins) => {
    push(b, ins);
    b.simd(op);
    b.f32Splat(1).simd(SIMD.and);
  };

export const ELEMENTWISE: Record<string, Emitter> = {
  Add: simd(SIMD.add),
  Sub: simd(SIMD.sub),
  Multiply: simd(SIMD.mul),
  RealDiv: simd(SIMD.div),
  Maximum: simd(SIMD.max),
  Minimum: simd(SIMD.min),
  SquaredDifference: (b, [x, y]) => {
    b.get(x).get(y).simd(SIMD.sub);
    const t = b.v128();
    b.set(t).get(t).get(t).simd(SIMD.mul);
  },
  Pow: (b, [x, y]) => vm.pow(b, x, y),
  Greater: compare(SIMD.gt),
  GreaterEqual: compare(SIMD.ge),
  Less: compare(SIMD.lt),
  LessEqual: compare(SIMD.le),
  Equal: compare(SIMD.eq),
  NotEqual: compare(SIMD.ne),
  Neg: simd(SIMD.neg),
  Abs: simd(SIMD.abs),
  Sqrt: simd(SIMD.sqrt),
  Floor: simd(SIMD.floor),
  Ceil: simd(SIMD.ceil),
  Square: (b, [x]) => {
    b.get(x).get(x).simd(SIMD.mul);
  },
  Reciprocal: (b, [x]) => {
    b.f32Splat(1).get(x).simd(SIMD.div);
  },
  Rsqrt: (b, [x]) => {
    b.f32Splat(1).get(x).simd(SIMD.sqrt).simd(SIMD.div);
  },
  Relu: (b, [x]) => {
    b.get(x).f32Splat(0).simd(SIMD.max);
  },
  Relu6: (b, [x]) => {
    b.get(x).f32Splat(0).simd(SIMD.max).f32Splat(6).simd(SIMD.min);
  },
  Exp: (b, [x]) => vm.exp(b, x),
  Log: (b, [x]) => vm.log(b, x),
  Tanh: (b, [x]) => vm.tanh(b, x),
  Sigmoid: (b, [x]) => vm.sigmoid(b, x),
  Softplus: (b, [x]) => vm.softplus(b, x),
  Elu: (b, [x]) => vm.elu(b, x),
  LeakyRelu: (b, [x], a) => {
    b.get(x)
      .get(x)
      .f32Splat(Number(a.alpha ?? 0.2))
      .simd(SIMD.mul)
      .get(x)
      .f32Splat(0)
      .simd(SIMD.gt)
      .simd(SIMD.bitselect);
  },
  // tf.step: 1 where x > 0, else alpha; NaN stays NaN.
  Step: (b, [x], a) => {
    b.f32Splat(1)
      .f32Splat(Number(a.alpha ?? 0))
      .get(x)
      .f32Splat(0)
      .simd(SIMD.gt)
      .simd(SIMD.bitselect);
    const t = b.v128();
    b.set(t).get(x).get(t).get(x).get(x).simd(SIMD.ne).simd(SIMD.bitselect);
  },
  ClipByValue: (b, [x], a) => {
    b.get(x).f32Splat(Number(a.clipValueMin)).simd(SIMD.max).f32Splat(Number(a.clipValueMax)).simd(SIMD.min);
  },
  // d elu: dy where y > 0, else dy * (y + 1)
  EluGrad: (b, [dy, y]) => {
    b.get(dy)
      .get(dy)
      .get(y)
      .f32Splat(1)
      .simd(SIMD.add)
      .simd(SIMD.mul)
      .get(y)
      .f32Splat(0)
      .simd(SIMD.gt)
      .simd(SIMD.bitselect);
  },
  Select: (b, [c, t, e]) => {
    b.get(t).get(e).get(c).f32Splat(0).simd(SIMD.ne).simd(SIMD.bitselect);
  },
};

/** A group of elementwise calls with one output shape. */
export interface Group {
  calls: number[];
  shape: number[];
  /** Values (roots) the group computes and writes to memory. */
  writes: number[];
}

const sameShape = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The views (`root(id)`: the value a view shows) and the groups of fusable calls. `keep` are values
 * needed after the step (loss, gradients, assignments, refreshed tensors).
 */
export function findGroups(rec: Recording, keep: Set<number>): { groups: Group[]; root: (id: number) => number } {
  const parent = new Map<number, number>();
  const root = (id: number): number => {
    let r = id;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  rec.calls.forEach((c) => {
    if (!isView(c)) return;
    const from = root(c.inputs[0][1].id),
      to = c.outputs[0].id;
    if (from !== to) parent.set(to, from); // a reshape may keep its input's dataId
  });
  const supported = (c: Call) =>
    c.kernel in ELEMENTWISE &&
    c.outputs.length === 1 &&
    c.outputs[0].dtype !== 'string' &&
    c.outputs[0].shape.length <= 4 &&
    // tf.where takes a rank-1 condition along the first axis, not the last: only same-rank inputs there.
    c.inputs.every(([, r]) =>
      c.kernel === 'Select'
        ? r.shape.length === c.outputs[0].shape.length
        : r.shape.length <= c.outputs[0].shape.length,
    );
  const groups: Group[] = [];
  let current: { calls: number[]; shape: number[]; produced: Set<number> } | undefined;
  const close = () => {
    if (current) groups.push({ calls: current.calls, shape: current.shape, writes: [] });
    current = undefined;
  };
  rec.calls.forEach((c, index) => {
    if (isView(c)) return;
    if (!supported(c)) return close();
    const shape = c.outputs[0].shape;
    // An input that is a value of this group seen under another shape would need other elements of it.
    const joins =
      current &&
      sameShape(current.shape, shape) &&
      c.inputs.every(([, r]) => !current!.produced.has(root(r.id)) || sameShape(r.shape, shape));
    if (!joins) {
      close();
      current = { calls: [], shape, produced: new Set() };
    }
    current!.calls.push(index);
    current!.produced.add(c.outputs[0].id);
  });
  close();
  // What each group writes: its values read by any call outside it, or needed after the step.
  const groupOf = new Map<number, number>();
  groups.forEach((g, k) => g.calls.forEach((c) => groupOf.set(c, k)));
  const readOutside = new Set<string>();
  rec.calls.forEach((c, index) => {
    if (isView(c)) return;
    for (const [, r] of c.inputs) readOutside.add(`${root(r.id)}|${groupOf.get(index) ?? -1}`);
  });
  const keptRoots = new Set([...keep].map(root));
  groups.forEach((g, k) => {
    for (const index of g.calls) {
      const id = rec.calls[index].outputs[0].id;
      const outside = [...readOutside].some((key) => key.startsWith(`${id}|`) && key !== `${id}|${k}`);
      if (outside || keptRoots.has(id)) g.writes.push(id);
    }
  });
  return { groups, root };
}

/** An operand of a generated loop: a buffer and its strides over the group's (padded) shape. */
interface LoopOperand {
  address: number;
  strides: number[];
}

/**
 * The loop of one group: `inputs` are (value, shape as read) pairs outside the group, with their buffer
 * addresses; `outputs` the group's written values. Returns the function body.
 */
export function groupBody(
  rec: Recording,
  group: Group,
  root: (id: number) => number,
  address: (id: number) => number,
): Body {
  const b = new Body(fusedMultiplyAdd());
  const shape = group.shape;
  const own = new Set(group.calls.map((c) => rec.calls[c].outputs[0].id));
  // Operands: every outside input (per shape it is read with), and every written value.
  const inputKeys = new Map<string, { id: number; shape: number[] }>();
  for (const c of group.calls) {
    for (const [, r] of rec.calls[c].inputs) {
      const id = root(r.id);
      if (!own.has(id)) inputKeys.set(`${id}|${r.shape}`, { id, shape: r.shape });
    }
  }
  const broadcast = (inShape: number[]) => {
    const s = stridesOf(inShape);
    const offset = shape.length - inShape.length;
    return shape.map((d, i) => (i - offset < 0 || inShape[i - offset] === 1 ? 0 : s[i - offset]));
  };
  const operands: LoopOperand[] = [];
  const inputs = [...inputKeys.values()].map((x) => {
    operands.push({ address: address(x.id), strides: broadcast(x.shape) });
    return operands.length - 1;
  });
  const outputs = group.writes.map((id) => {
    operands.push({ address: address(id), strides: stridesOf(shape) });
    return operands.length - 1;
  });
  // Merge axes every operand walks contiguously (or not at all); pad to rank 4.
  let n = shape.slice();
  let strides = operands.map((o) => o.strides.slice());
  for (let i = n.length - 2; i >= 0; i--) {
    if (strides.every((s) => s[i] === s[i + 1] * n[i + 1])) {
      n = [...n.slice(0, i), n[i] * n[i + 1], ...n.slice(i + 2)];
      strides = strides.map((s) => [...s.slice(0, i), s[i + 1], ...s.slice(i + 2)]);
    }
  }
  while (n.length < 4) {
    n = [1, ...n];
    strides = strides.map((s) => [0, ...s]);
  }
  const inner = n[3];

  const counters = [b.i32(), b.i32(), b.i32()];
  const j = b.i32();
  const pointers = operands.map(() => b.i32());
  const vectors = new Map<number, number>(); // value id -> v128 local
  const inputVector = inputs.map(() => b.v128());

  const row = () => {
    // Row pointers: base + 4 * (i0 * s0 + i1 * s1 + i2 * s2).
    operands.forEach((o, k) => {
      b.i32Const(operands[k].address);
      for (let d = 0; d < 3; d++) {
        if (strides[k][d] !== 0 && n[d] > 1)
          b.get(counters[d])
            .i32Const(4 * strides[k][d])
            .op(0x6c)
            .op(0x6a);
      }
      b.set(pointers[k]);
      void o;
    });
    // Inputs constant along the row: loaded once.
    inputs.forEach((k, i) => {
      if (strides[k][3] === 0) b.get(pointers[k]).loadF32().simd(SIMD.splatF32).set(inputVector[i]);
    });
    b.i32Const(0).set(j);
    b.loop(
      () => {
        inputs.forEach((k, i) => {
          if (strides[k][3] !== 0) b.get(pointers[k]).get(j).op(0x6a).load().set(inputVector[i]);
        });
        const keyOf = (id: number, s: number[]) => [...inputKeys.keys()].indexOf(`${id}|${s}`);
        for (const c of group.calls) {
          const callRec = rec.calls[c];
          const ins = callRec.inputs.map(([, r]) => {
            const id = root(r.id);
            return own.has(id) ? vectors.get(id)! : inputVector[keyOf(id, r.shape)];
          });
          ELEMENTWISE[callRec.kernel](b, ins, callRec.attrs);
          const out = b.v128();
          b.set(out);
          vectors.set(callRec.outputs[0].id, out);
        }
        group.writes.forEach((id, w) => {
          b.get(pointers[outputs[w]]).get(j).op(0x6a).get(vectors.get(id)!).store();
        });
      },
      j,
      16,
      4 * inner,
    );
  };
  // Outer loops over the first three axes (those longer than 1).
  const nest = (d: number): void => {
    if (d === 3) return row();
    if (n[d] === 1) return nest(d + 1);
    b.i32Const(0).set(counters[d]);
    b.loop(() => nest(d + 1), counters[d], 1, n[d]);
  };
  nest(0);
  return b;
}

/** Compile the loops of a plan into one module on its memory; returns a function per group. */
export function compileGroups(bodies: Body[], memory: unknown): (() => void)[] {
  const instance = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(moduleBytes(bodies)), { env: { memory } });
  return bodies.map((_, k) => instance.exports[`f${k}`] as () => void);
}
