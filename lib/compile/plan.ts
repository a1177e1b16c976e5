/**
 * A plan: the recorded kernel calls of one step, turned into calls of the SIMD kernels on buffers
 * allocated once in the plan's own memory. Every value of the recording gets a buffer (a reshape or
 * an identity shares its input's), so a step is a list of calls with every address, shape and stride
 * fixed. A kernel without an entry in `lower.ts` runs through TensorFlow.js's own kernel
 * (`tf.engine().runKernel`, public), its operands copied out of and back into the plan's memory.
 */
import * as tf from '@tensorflow/tfjs';
import { LOWERINGS, Lowering, Operand, Unsupported } from './lower';
import type { Call, Recording } from './record';
import { KernelMemory } from './simd';
import { Body } from './emit';
import { compileGroups, findGroups, groupBody } from './fuse';

export interface PlanOp {
  /** What this work is, for reports: a TensorFlow.js kernel name, or `fused elementwise`. */
  kind: string;
  /** The TensorFlow.js kernels it stands for. */
  kernels: string[];
  /** The recorded calls it stands for. */
  calls: number[];
  /** The values it writes to memory. */
  writes: number[];
  /** True when it runs through TensorFlow.js's kernel. */
  fallback: boolean;
  run: () => void;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export class Plan {
  readonly mem = new KernelMemory();
  readonly ops: PlanOp[] = [];
  /** Value id -> byte address. */
  private readonly addresses = new Map<number, number>();
  private readonly sizes = new Map<number, number>();

  /**
   * `keep`: values needed after the step (loss, gradients, assigned values, refreshed tensors). With
   * `fuse` (the default), neighbouring elementwise kernels run as generated loops (fuse.ts).
   */
  constructor(
    readonly recording: Recording,
    keep: Set<number>,
    fuse = true,
  ) {
    // (With `fuse`, lowering works on a rewritten copy of the calls; `this.recording` stays as recorded.)
    for (const [id, values] of recording.values) {
      if (!this.addresses.has(id) && !recording.produced.has(id)) this.bufferOf(id, values.length);
    }
    if (fuse) recording = { ...recording, calls: foldTransposes(recording, keep) };
    const { groups, root } = fuse ? findGroups(recording, keep) : { groups: [], root: (id: number) => id };
    const groupEnding = new Map(groups.map((g) => [g.calls[g.calls.length - 1], g]));
    const grouped = new Set(groups.flatMap((g) => g.calls));
    const bodies: Body[] = [];
    const groupOps: PlanOp[] = [];
    recording.calls.forEach((call, index) => {
      if (call.kernel === DROPPED) return;
      const group = groupEnding.get(index);
      if (group) {
        const size = (id: number) => recording.values.get(id)?.length ?? 0;
        bodies.push(groupBody(recording, group, root, (id) => this.bufferOf(id, size(id))));
        const op: PlanOp = {
          kind: 'fused elementwise',
          kernels: group.calls.map((c) => recording.calls[c].kernel),
          calls: group.calls,
          writes: group.writes,
          fallback: false,
          run: () => undefined,
        };
        groupOps.push(op);
        this.ops.push(op);
      } else if (!grouped.has(index)) {
        this.lower(call, index);
      }
    });
    if (bodies.length) {
      const runs = compileGroups(bodies, this.mem.memory);
      groupOps.forEach((op, k) => {
        op.run = runs[k];
      });
    }
  }

  /** The buffer of a value (allocated on first use). */
  bufferOf(id: number, size: number): number {
    let address = this.addresses.get(id);
    if (address === undefined) {
      address = this.mem.alloc(size);
      this.addresses.set(id, address);
      this.sizes.set(id, size);
    }
    return address;
  }

  address(id: number): number {
    const a = this.addresses.get(id);
    if (a === undefined) throw new Error(`value ${id} has no buffer`);
    return a;
  }

  size(id: number): number {
    return this.sizes.get(id) ?? 0;
  }

  /** The plan's view of a value. */
  read(id: number): Float32Array {
    const start = this.address(id) >> 2;
    return this.mem.heap.subarray(start, start + this.size(id));
  }

  write(id: number, values: ArrayLike<number>): void {
    this.mem.heap.set(values, this.address(id) >> 2);
  }

  /** Kernel names that ran through TensorFlow.js, with how many calls each. */
  fallbacks(): Map<string, number> {
    const m = new Map<string, number>();
    for (const op of this.ops) if (op.fallback) m.set(op.kind, (m.get(op.kind) ?? 0) + 1);
    return m;
  }

  private lower(call: Call, index: number): void {
    const operand = (ref: { id: number; shape: number[]; dtype: string }): Operand => ({
      address: this.bufferOf(ref.id, sizeOf(ref.shape)),
      shape: ref.shape,
      size: sizeOf(ref.shape),
      dtype: ref.dtype,
    });
    const inputs = call.inputs.map(([, r]) => operand(r));
    const entry = LOWERINGS[call.kernel];
    if (entry) {
      const aliased = new Set<number>();
      const outputs: Operand[] = call.outputs.map((r, i) => ({
        get address() {
          return aliased.has(i) ? (plan.addresses.get(r.id) as number) : plan.bufferOf(r.id, sizeOf(r.shape));
        },
        shape: r.shape,
        size: sizeOf(r.shape),
        dtype: r.dtype,
      }));
      const plan = this;
      const writes = call.outputs.map((r) => r.id);
      const runs: (() => void)[] = [];
      const lowering: Lowering = {
        kernels: this.mem.kernels,
        attrs: call.attrs,
        inputs,
        input: (name) => {
          const k = call.inputs.findIndex(([n]) => n === name);
          if (k < 0) throw new Unsupported(`no input ${name}`);
          return inputs[k];
        },
        outputs,
        alias: (i, from) => {
          const id = call.outputs[i].id;
          if (this.addresses.has(id)) {
            if (this.addresses.get(id) !== from.address)
              throw new Unsupported('an aliased output already has a buffer');
            return;
          }
          this.addresses.set(id, from.address);
          this.sizes.set(id, from.size);
          aliased.add(i);
          writes.splice(writes.indexOf(id), 1);
        },
        scratch: (floats) => this.mem.alloc(floats),
        emit: (run) => runs.push(run),
      };
      try {
        entry(lowering);
        // Outputs the entry did not touch still need their buffers.
        outputs.forEach((o) => o.address);
        // One op per call, however many kernel calls it takes (the first-step check compares after it).
        const run =
          runs.length === 1
            ? runs[0]
            : () => {
                for (const r of runs) r();
              };
        if (runs.length)
          this.ops.push({ kind: call.kernel, kernels: [call.kernel], calls: [index], writes, fallback: false, run });
        return;
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
      }
    }
    this.ops.push({
      kind: call.kernel,
      kernels: [call.kernel],
      calls: [index],
      writes: call.outputs.map((r) => r.id),
      fallback: true,
      run: this.viaTensorFlow(call),
    });
  }

  /** Run a recorded call with TensorFlow.js's own kernel, its operands copied out of and into the plan. */
  private viaTensorFlow(call: Call): () => void {
    const outputs = call.outputs.map((r) => ({ address: this.bufferOf(r.id, sizeOf(r.shape)), size: sizeOf(r.shape) }));
    const inputs = call.inputs.map(([name, r]) => ({
      name,
      address: this.address(r.id),
      shape: r.shape,
      dtype: r.dtype,
    }));
    return () => {
      const heap = this.mem.heap;
      tf.tidy(() => {
        const named: Record<string, tf.Tensor> = {};
        for (const x of inputs) {
          const values = heap.subarray(x.address >> 2, (x.address >> 2) + sizeOf(x.shape));
          named[x.name] = tf.tensor(
            x.dtype === 'float32' ? values.slice() : Int32Array.from(values),
            x.shape,
            x.dtype as tf.DataType,
          );
        }
        const out = tf.engine().runKernel(call.kernel, named as tf.NamedTensorMap, call.attrs as tf.NamedAttrMap) as
          tf.Tensor | tf.Tensor[];
        (Array.isArray(out) ? out : [out]).forEach((t, i) => {
          const v = t.dataSync();
          this.mem.heap.set(v instanceof Float32Array ? v : Float32Array.from(v), outputs[i].address >> 2);
        });
      });
    };
  }
}

const DROPPED = 'Dropped';

/**
 * x^T @ w and x @ w^T without the transpose: a matrix transpose whose only readers are matrix products
 * taking it as one operand becomes their `transposeA` or `transposeB` (the gradient of a weight,
 * x^T @ dy, runs as `matmulTN`; that of a layer's input, dy @ W^T, as `matmulNT` when its rows are
 * long). The transpose is dropped from the calls (marked `Dropped`).
 */
function foldTransposes(rec: Recording, keep: Set<number>): Call[] {
  const calls = rec.calls.slice();
  const readers = new Map<number, number[]>();
  calls.forEach((c, i) => c.inputs.forEach(([, r]) => readers.set(r.id, [...(readers.get(r.id) ?? []), i])));
  /** Which operand of a matrix product the transpose `out` is (0 or 1), if exactly one and it can be folded. */
  const operand = (c: Call, out: number): number | undefined => {
    if (c.kernel !== 'BatchMatMul') return undefined;
    const [a, b] = [c.inputs[0][1], c.inputs[1][1]];
    if (a.id === out && b.id !== out && a.shape.length === 2 && !c.attrs.transposeA) return 0;
    if (b.id === out && a.id !== out && b.shape.length === 2 && !c.attrs.transposeB) return 1;
    return undefined;
  };
  calls.forEach((t, i) => {
    const perm = t.attrs.perm as number[] | undefined;
    if (t.kernel !== 'Transpose' || t.inputs[0][1].shape.length !== 2 || perm?.[0] !== 1) return;
    const out = t.outputs[0].id;
    const users = readers.get(out) ?? [];
    if (keep.has(out) || users.length === 0 || !users.every((u) => operand(calls[u], out) !== undefined)) return;
    for (const u of users) {
      const c = calls[u];
      calls[u] =
        operand(c, out) === 0
          ? { ...c, inputs: [['a', t.inputs[0][1]], c.inputs[1]], attrs: { ...c.attrs, transposeA: true } }
          : { ...c, inputs: [c.inputs[0], ['b', t.inputs[0][1]]], attrs: { ...c.attrs, transposeB: true } };
    }
    calls[i] = { ...t, kernel: DROPPED };
  });
  return calls;
}
