/**
 * Checkpoints: named tensors in a safetensors file (https://github.com/huggingface/safetensors), the
 * format PyTorch, JAX and NumPy read with `safetensors.torch.load_file` and friends.
 *
 * The file: 8 bytes, the length N of the header as a little-endian unsigned integer; N bytes of JSON,
 *   { "W1": { "dtype": "F32", "shape": [30, 200], "data_offsets": [begin, end] }, ...,
 *     "__metadata__": { "key": "value", ... } }
 * (padded with spaces to a multiple of 8 bytes); then the tensors' bytes, little-endian and row-major,
 * one after the other. Offsets count from the first byte after the header. float32 is "F32", int32
 * "I32": the two dtypes of the library's tensors.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';

/** safetensors' name of each TensorFlow.js dtype we write and read (4 bytes an element each). */
const DTYPES: Record<string, 'float32' | 'int32'> = { F32: 'float32', I32: 'int32' };
const CODES: Record<string, string> = { float32: 'F32', int32: 'I32' };
const ALLOWED = Object.keys(DTYPES).join(' or ');

/** Headers above this size are refused (safetensors' own limit is 100 MB). */
const MAX_HEADER = 100_000_000;

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Write `tensors` (a record of name -> tensor, float32 or int32) to `file` as safetensors, with
 * optional string `metadata`. The folder is created if needed; the file is written atomically.
 */
export function save(file: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, string> = {}): void {
  if (typeof file !== 'string' || file === '')
    throw new Error(`save: file must be a path, got ${JSON.stringify(file)}.`);
  if (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors)) {
    throw new Error(
      `save: tensors must be a record of name -> tf.Tensor, e.g. { W1, b1 }, got ${Array.isArray(tensors) ? 'an array' : String(tensors)}.`,
    );
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string')
      throw new Error(
        `save: metadata.${key} must be a string (safetensors keeps strings only), got ${typeof value} ${String(value)}.`,
      );
  }
  const header: Record<string, Entry | Record<string, string>> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const parts: { t: tf.Tensor; offset: number }[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    if (name === '' || name === '__metadata__')
      throw new Error(
        `save: ${JSON.stringify(name)} cannot be a tensor's name (it must be non-empty and not "__metadata__").`,
      );
    if (!(t instanceof tf.Tensor))
      throw new Error(`save: tensors.${name} must be a tf.Tensor, got ${t === null ? 'null' : typeof t}.`);
    if (t.isDisposed) throw new Error(`save: tensors.${name} has been disposed.`);
    const code = CODES[t.dtype];
    if (!code)
      throw new Error(
        `save: tensors.${name} has dtype ${t.dtype}; allowed: float32 (F32) or int32 (I32). Cast it first, e.g. t.toFloat().`,
      );
    header[name] = { dtype: code, shape: t.shape, data_offsets: [offset, offset + 4 * t.size] };
    parts.push({ t, offset });
    offset += 4 * t.size;
  }
  // Padding with spaces keeps the tensors' bytes 8-byte aligned, as safetensors' own writer does.
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
  const bytes = Buffer.alloc(8 + json.length + offset);
  bytes.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(bytes, 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset + 8 + json.length, offset);
  for (const { t, offset: at } of parts) {
    const values = t.dataSync();
    // Little-endian whatever the machine, hence DataView rather than the typed array's own bytes.
    if (t.dtype === 'float32') values.forEach((v, i) => view.setFloat32(at + 4 * i, v as number, true));
    else values.forEach((v, i) => view.setInt32(at + 4 * i, v as number, true));
  }
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** A safetensors file read back: its tensors by name (in the file's order) and its metadata. */
export interface Checkpoint {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, string>;
}

/** Read a safetensors file (ours or one written by Python's safetensors) with its metadata. */
export function loadCheckpoint(file: string): Checkpoint {
  if (typeof file !== 'string' || file === '')
    throw new Error(`load: file must be a path, got ${JSON.stringify(file)}.`);
  const bytes = fs.readFileSync(file);
  const bad = (why: string) => new Error(`load: ${file} is not a safetensors file we can read: ${why}.`);
  if (bytes.length < 8) throw bad(`it has ${bytes.length} bytes, fewer than the 8 of the header's length`);
  const n = bytes.readBigUInt64LE(0);
  if (n > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) {
    throw bad(
      `its first 8 bytes give a header of ${n} bytes, but the file has ${bytes.length} bytes in all ` +
        `(a truncated file, or another format)`,
    );
  }
  const headerEnd = 8 + Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, headerEnd).toString('utf8'));
  } catch (e) {
    throw bad(`its header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw bad('its header is not a JSON object');
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  if (
    typeof metadata !== 'object' ||
    Array.isArray(metadata) ||
    Object.values(metadata).some((v) => typeof v !== 'string')
  ) {
    throw bad(`its __metadata__ is not a record of strings: ${JSON.stringify(metadata)}`);
  }
  const data = bytes.subarray(headerEnd);
  const entries = Object.entries(header).filter(([name]) => name !== '__metadata__') as [string, Entry][];
  for (const [name, e] of entries) {
    if (e === null || typeof e !== 'object')
      throw bad(`tensor "${name}" is described by ${JSON.stringify(e)}, not by an object`);
    if (!DTYPES[e.dtype]) throw bad(`tensor "${name}" has dtype ${JSON.stringify(e.dtype)}; allowed: ${ALLOWED}`);
    const shapeOk = Array.isArray(e.shape) && e.shape.every((d) => Number.isInteger(d) && d >= 0);
    const offsetsOk =
      Array.isArray(e.data_offsets) && e.data_offsets.length === 2 && e.data_offsets.every((d) => Number.isInteger(d));
    if (!shapeOk || !offsetsOk) throw bad(`tensor "${name}" has no valid shape and data_offsets: ${JSON.stringify(e)}`);
  }
  // The tensors' bytes must follow each other with no gap and fill the rest of the file exactly.
  let expected = 0;
  for (const [name, e] of [...entries].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0])) {
    const [begin, end] = e.data_offsets;
    const size = 4 * count(e.shape);
    if (begin !== expected || end - begin !== size) {
      throw bad(
        `tensor "${name}" (${e.dtype} ${JSON.stringify(e.shape)}, ${size} bytes) is at bytes ${begin} to ${end} of the data, ` +
          `where bytes ${expected} to ${expected + size} were expected`,
      );
    }
    if (end > data.length) {
      throw bad(
        `tensor "${name}" ends at byte ${end} of the data, which has ${data.length} bytes (the file is truncated)`,
      );
    }
    expected = end;
  }
  if (expected !== data.length) throw bad(`${data.length - expected} bytes follow the last tensor`);
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, e] of entries) {
    const [begin] = e.data_offsets;
    const size = count(e.shape);
    if (e.dtype === 'F32') {
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = view.getFloat32(begin + 4 * i, true);
      tensors[name] = tf.tensor(values, e.shape, 'float32');
    } else {
      const values = new Int32Array(size);
      for (let i = 0; i < size; i++) values[i] = view.getInt32(begin + 4 * i, true);
      tensors[name] = tf.tensor(values, e.shape, 'int32');
    }
  }
  return { tensors, metadata };
}

/** Read a safetensors file: its tensors, a record of name -> tf.Tensor (the caller disposes them). */
export function load(file: string): Record<string, tf.Tensor> {
  return loadCheckpoint(file).tensors;
}
