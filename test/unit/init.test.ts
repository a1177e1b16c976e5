/**
 * lib/nn/init.ts (and Generator.normal / Generator.uniform of lib/tensor/random.ts) against torch 2.13.
 *
 * - calculate_gain: test/fixtures/torch-expected.json (`calculate_gain`) and
 *   test/fixtures/init-diagnostics.json (`init.gains`, `init.errors`), exact.
 * - fans: `init.fans`, exact.
 * - kaiming/xavier normal/uniform: `init.cases` (fresh generator seeded 2147483647 for each
 *   shape [200, 30], [27, 100], [5, 3], [4, 3, 2, 2] and each function/option set) and
 *   `init.sequence` (several calls from one generator), bit for bit.
 * - Generator.normal(shape, mean, std) / uniform(shape, low, high): `init.generator`, bit for bit.
 * The fixture is made by test/reference/init_diagnostics_reference.py. No tolerance anywhere.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator } from '../../lib/tensor/random';
import {
  calculateGain,
  calculateFanInAndFanOut,
  kaimingNormal,
  kaimingUniform,
  xavierNormal,
  xavierUniform,
  GAINS_TABLE,
  Nonlinearity,
  KaimingOptions,
  XavierOptions,
} from '../../lib/nn/init';
import { EXPECTED, INIT_DIAGNOSTICS } from '../helpers/expected';

const REF = INIT_DIAGNOSTICS;
const SEED = 2147483647;

/** A float32 array stored as base64 of its little-endian bytes. */
function f32(stored: { shape: number[]; b64: string }): Float32Array {
  const buf = Buffer.from(stored.b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

/** Bit equality (Object.is also tells -0 from +0). */
function assertBitEqual(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const bad: string[] = [];
  for (let i = 0; i < expected.length && bad.length < 5; i++) {
    if (!Object.is(actual[i], expected[i])) bad.push(`[${i}] got ${actual[i]} want ${expected[i]}`);
  }
  assert.deepEqual(bad, [], `${what}: values differ`);
}

describe('calculateGain', () => {
  test('every nonlinearity, as torch-expected.json', () => {
    const cg = EXPECTED.calculate_gain;
    for (const [name, value] of Object.entries(cg)) {
      if (name === 'leaky_relu_0.2') continue;
      assert.equal(calculateGain(name as Nonlinearity), value, name);
    }
    assert.equal(calculateGain('leaky_relu', 0.2), cg['leaky_relu_0.2']);
  });

  test('more cases, as init-diagnostics.json', () => {
    const g = REF.init.gains;
    assert.equal(calculateGain('leaky_relu', 0), g.leaky_relu_0);
    assert.equal(calculateGain('leaky_relu', Math.sqrt(5)), g.leaky_relu_sqrt5);
    assert.equal(calculateGain('tanh', 123), g.tanh_ignores_param);
    assert.equal(calculateGain('tanh'), 5 / 3);
    assert.equal(calculateGain('relu'), Math.SQRT2);
  });

  test('errors like PyTorch', () => {
    const e = REF.init.errors;
    // PyTorch: "ValueError: Unsupported nonlinearity gelu"
    assert.throws(() => calculateGain('gelu' as Nonlinearity), { message: e.unknown.replace('ValueError: ', '') });
    assert.throws(() => calculateGain('leaky_relu', '0.1' as unknown as number), {
      message: e.leaky_relu_str.replace('ValueError: ', ''),
    });
    assert.throws(() => calculateGain('leaky_relu', true as unknown as number), {
      message: e.leaky_relu_bool.replace('ValueError: ', ''),
    });
    assert.throws(() => calculateGain('leaky_relu', NaN), /negative_slope NaN not a valid number/);
  });

  test('GAINS_TABLE lists the docs table with values', () => {
    const byName = Object.fromEntries(GAINS_TABLE.map((r) => [r.nonlinearity, r]));
    assert.equal(byName['Tanh'].gain, 5 / 3);
    assert.equal(byName['Tanh'].formula, '5/3');
    assert.equal(byName['ReLU'].gain, Math.sqrt(2));
    assert.equal(byName['Leaky Relu'].gain, EXPECTED.calculate_gain.leaky_relu);
    assert.equal(byName['SELU'].gain, 0.75);
    assert.equal(GAINS_TABLE.length, 7);
  });
});

describe('calculateFanInAndFanOut', () => {
  test("PyTorch's rule: fan_in = shape[1] * receptive, fan_out = shape[0] * receptive", () => {
    for (const f of REF.init.fans) {
      assert.deepEqual(calculateFanInAndFanOut(f.shape), [f.fan_in, f.fan_out], JSON.stringify(f.shape));
    }
  });
  test('fewer than 2 dimensions throws', () => {
    const msg = REF.init.errors.fan_1d.replace('ValueError: ', '');
    assert.throws(() => calculateFanInAndFanOut([5]), { message: msg });
    assert.throws(() => calculateFanInAndFanOut([]), { message: msg });
  });
  test('bad mode throws', () => {
    assert.throws(() => kaimingNormal([3, 4], { mode: 'fan_avg' as 'fan_in', generator: new Generator(SEED) }), {
      message: REF.init.errors.bad_mode.replace('ValueError: ', ''),
    });
    // like PyTorch, the mode is case-insensitive
    const g1 = new Generator(SEED);
    const g2 = new Generator(SEED);
    assert.deepEqual(
      kaimingNormal([3, 6], { mode: 'FAN_OUT' as 'fan_out', generator: g1 }),
      kaimingNormal([3, 6], { mode: 'fan_out', generator: g2 }),
    );
  });
});

/** The TypeScript call for one fixture case. */
function run(name: string, kwargs: Record<string, number | string>, shape: number[], g: Generator): Float32Array {
  if (name.startsWith('kaiming')) {
    const options: KaimingOptions = { generator: g };
    if (kwargs.a !== undefined) options.a = kwargs.a as number;
    if (kwargs.mode !== undefined) options.mode = kwargs.mode as KaimingOptions['mode'];
    if (kwargs.nonlinearity !== undefined) options.nonlinearity = kwargs.nonlinearity as Nonlinearity;
    return name.startsWith('kaiming_normal') ? kaimingNormal(shape, options) : kaimingUniform(shape, options);
  }
  const options: XavierOptions = { generator: g };
  if (kwargs.gain !== undefined) options.gain = kwargs.gain as number;
  return name.startsWith('xavier_normal') ? xavierNormal(shape, options) : xavierUniform(shape, options);
}

describe('kaiming / xavier, bit for bit with torch.nn.init (fresh seed 2147483647)', () => {
  for (const c of REF.init.cases) {
    test(`${c.name} ${JSON.stringify(c.shape)}`, () => {
      const got = run(c.name, c.kwargs, c.shape, new Generator(SEED));
      assertBitEqual(got, f32(c.values), `${c.name} ${JSON.stringify(c.shape)}`);
    });
  }

  test('several calls from one generator (the cached scalar normal carries over)', () => {
    const g = new Generator(SEED);
    const got = [
      kaimingNormal([5, 3], { generator: g }),
      kaimingNormal([5, 3], { generator: g, nonlinearity: 'tanh' }),
      xavierUniform([27, 100], { generator: g }),
      kaimingNormal([200, 30], { generator: g, mode: 'fan_out' }),
      xavierNormal([3, 3], { generator: g }),
    ];
    REF.init.sequence.values.forEach((v: { shape: number[]; b64: string }, i: number) => {
      assertBitEqual(got[i], f32(v), REF.init.sequence.calls[i]);
    });
  });

  test('the lecture layout: mode fan_out on [fanIn, fanOut] gives std = gain / sqrt(fanIn)', () => {
    const w = kaimingNormal([30, 200], { mode: 'fan_out', nonlinearity: 'tanh', generator: new Generator(SEED) });
    // the same draws as the lecture's randn((30, 200)) * (5/3) / sqrt(30), to float32 rounding
    const z = new Generator(SEED).randn(30, 200);
    const s = 5 / 3 / Math.sqrt(30);
    let maxRel = 0;
    for (let i = 0; i < w.length; i++) maxRel = Math.max(maxRel, Math.abs(w[i] - z[i] * s) / Math.abs(z[i] * s));
    assert.ok(maxRel < 1.2e-7, `max rel diff ${maxRel}`); // one float32 rounding (2^-23)
    // torch's own `randn * (5/3) / 30**0.5` rounds twice: it differs from kaiming_normal_ by <= 2.4e-7
    assert.ok(REF.init.lecture_kaiming.max_rel_diff < 2.5e-7);
  });

  test('a zero-sized shape draws nothing (kaiming), like PyTorch', () => {
    const g = new Generator(SEED);
    assert.equal(kaimingNormal([0, 3], { generator: g }).length, 0);
    assert.equal(kaimingUniform([3, 0], { generator: g }).length, 0);
    assertBitEqual(g.randn(5), new Generator(SEED).randn(5), 'stream untouched');
  });

  test('without a generator: one shared default stream (two calls differ)', () => {
    const a = kaimingNormal([4, 4]);
    const b = kaimingNormal([4, 4]);
    assert.notDeepEqual(Array.from(a), Array.from(b));
  });
});

describe('Generator.normal / Generator.uniform (tensor.normal_ / tensor.uniform_)', () => {
  for (const c of REF.init.generator) {
    test(`${c.op}(${c.a}, ${c.b}) x ${c.n}`, () => {
      const g = new Generator(SEED);
      const got = c.op === 'normal' ? g.normal([c.n], c.a, c.b) : g.uniform([c.n], c.a, c.b);
      assertBitEqual(got, f32(c.values), `${c.op} n=${c.n}`);
    });
  }
  test('normal(shape, 0, 1) is randn and uniform(shape, 0, 1) is rand', () => {
    for (const n of [5, 16, 27, 270]) {
      assertBitEqual(new Generator(SEED).normal([n], 0, 1), new Generator(SEED).randn(n), `normal ${n}`);
      assertBitEqual(new Generator(SEED).uniform([n], 0, 1), new Generator(SEED).rand(n), `uniform ${n}`);
    }
  });
  test('argument checks', () => {
    assert.throws(() => new Generator().normal([3], 0, -1), /normal expects std >= 0.0/);
    assert.throws(() => new Generator().uniform([3], 1, 0), /uniform_ expects to return a \[from, to\) range/);
  });
});
