/**
 * Checks of arguments and settings, with one message format, so that a mistake is reported where it
 * enters the library and in its words: which function, which argument, the value it got, and what is
 * allowed (`train: steps must be an integer >= 0, got 2.5`).
 */
import { envVar } from './env/host';

/** A wrong argument or setting (a mistake of the caller, not a failure of the library). */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}

/** A value as the message shows it: numbers and strings as written, shapes of tensors, kinds of objects. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (Array.isArray(value)) {
    return value.length <= 8 && value.every((v) => typeof v !== 'object' || v === null)
      ? `[${value.map(describe).join(', ')}]`
      : `an array of ${value.length}`;
  }
  if (ArrayBuffer.isView(value))
    return `a ${value.constructor.name} of ${(value as unknown as ArrayLike<number>).length}`;
  const shape = (value as { shape?: unknown }).shape;
  if (Array.isArray(shape)) return `a tensor of shape [${shape.join(', ')}]`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/** Throw `where: what must be allowed, got value`. */
export function fail(where: string, what: string, value: unknown, allowed: string): never {
  throw new ArgumentError(`${where}: ${what} must be ${allowed}, got ${describe(value)}`);
}

/** An integer in [min, max] (max optional). */
export function checkInteger(where: string, what: string, value: unknown, min: number, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(where, what, value, max === Infinity ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
  }
  return value;
}

/** A finite number. */
export function checkFinite(where: string, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(where, what, value, 'a finite number');
  return value;
}

/** A function (`what` says which: `a function of the step, e.g. (i) => 0.1`). */
export function checkFunction<T>(where: string, what: string, value: T, allowed = 'a function'): T {
  if (typeof value !== 'function') fail(where, what, value, allowed);
  return value;
}

/** The options object of a function (not undefined, not an array). */
export function checkOptions<T>(where: string, value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(where, 'its options', value, 'an object');
  return value;
}

/**
 * A library object by what it can do (`looksLike(g, 'randint', 'randn')`), not by its class: tslab
 * loads an edited library file anew, and objects made before the edit belong to the old class.
 */
export function looksLike(value: unknown, ...methods: string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
  );
}

/** A `Generator` (`mm.Generator`). */
export function checkGenerator<T>(where: string, what: string, value: T): T {
  if (!looksLike(value, 'randint', 'randn', 'multinomial'))
    fail(where, what, value, 'a Generator (new mm.Generator(seed))');
  return value;
}

// ---------------------------------------------------------------------------------------------
// Environment variables
// ---------------------------------------------------------------------------------------------

/** A setting's allowed values with what each means, in the order the messages list them. */
export type Choices<T extends string> = readonly (readonly [T, string])[];

/** `value (meaning), value (meaning) or value (meaning)`. */
function listChoices(choices: Choices<string>): string {
  const items = choices.map(([v, meaning]) => `${v} (${meaning})`);
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}` : items[0];
}

/**
 * A setting read from the environment with a fixed set of values: the value, or undefined when it is
 * unset or empty (as a shell's `MAKEMORE_X= npm start` leaves it); anything else is an error that lists
 * the allowed values and what leaving it unset means.
 */
export function envChoice<T extends string>(name: string, choices: Choices<T>, unset: string): T | undefined {
  const value = envVar(name);
  if (value === undefined || value === '') return undefined;
  const found = choices.find(([v]) => v === value);
  if (found) return found[0];
  throw new ArgumentError(
    `${name}=${value} is not allowed: use ${listChoices(choices)}, or leave it unset (${unset}).`,
  );
}

/** The allowed values of the library's settings. */
export const SETTINGS = {
  MAKEMORE_PROFILE: [
    ['full', "the lecture's 200,000 steps per training run"],
    ['quick', 'a few thousand steps, for tests and a quick look'],
  ],
  MAKEMORE_BACKEND: [
    ['tensorflow', 'native TensorFlow, installed by tools/install-native-tensorflow.sh'],
    ['wasm', 'WebAssembly'],
    ['cpu', 'plain JavaScript'],
  ],
  MAKEMORE_COMPILE: [
    ['1', 'compile training steps'],
    ['0', 'run them eagerly on TensorFlow.js'],
  ],
  MAKEMORE_FUSE: [
    ['1', 'fuse the elementwise kernels of a compiled step'],
    ['0', 'one loop per kernel'],
  ],
  MAKEMORE_FMA: [
    ['1', 'fused multiply-add in matrix products, where WebAssembly has it (relaxed SIMD)'],
    ['0', 'a multiply, then an add'],
  ],
} as const;
