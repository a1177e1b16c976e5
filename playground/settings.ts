/**
 * The playground's settings: the form's text, read and checked. Shared by the page (which shows
 * what is wrong before anything runs) and the worker (which trusts nothing it is sent).
 */

/** What the form holds, as text (a gain may be written as a fraction: 5/3). */
export interface SettingsForm {
  gain: string;
  batchNorm: boolean;
  tanh: boolean;
  learningRate: string;
  hiddenLayers: string;
  hiddenWidth: string;
  steps: string;
  seed: string;
}

/** The lecture's deep network: notebook 06's run of 1,001 steps (its loop breaks after step 1,000). */
export const DEFAULTS: SettingsForm = {
  gain: '5/3',
  batchNorm: true,
  tanh: true,
  learningRate: '0.1',
  hiddenLayers: '5',
  hiddenWidth: '100',
  steps: '1001',
  seed: '2147483647',
};

/** Bounds that keep a run within a minute or so and within the memory of a tab. */
export const LIMITS = { steps: 5000, hiddenLayers: 10, hiddenWidth: 1000, gain: 10, learningRate: 10 };

export interface Settings {
  gain: number;
  batchNorm: boolean;
  tanh: boolean;
  learningRate: number;
  hiddenLayers: number;
  hiddenWidth: number;
  steps: number;
  /** The seed of torch.Generator, 0 to 2^64 - 1. */
  seed: bigint;
}

/** A decimal number such as 0.1, 1e-3 or 5/3; NaN when the text is none. */
export function parseNumber(text: string): number {
  const parts = text.trim().split('/');
  if (parts.length > 2 || parts.some((p) => !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(p.trim()))) return NaN;
  const [a, b] = parts.map((p) => Number(p.trim()));
  return parts.length === 2 ? a / b : a;
}

/** The settings, or what is wrong with them (one message per field). */
export function readSettings(form: SettingsForm): { settings: Settings } | { errors: string[] } {
  const errors: string[] = [];
  const fmt = (n: number) => n.toLocaleString('en');

  const gain = parseNumber(form.gain);
  if (!(gain > 0 && gain <= LIMITS.gain))
    errors.push(
      `Gain: "${form.gain}" is not a number above 0 and at most ${LIMITS.gain} (a fraction such as 5/3 is fine).`,
    );

  const learningRate = parseNumber(form.learningRate);
  if (!(learningRate > 0 && learningRate <= LIMITS.learningRate)) {
    errors.push(
      `Learning rate: "${form.learningRate}" is not a number above 0 and at most ${LIMITS.learningRate}` +
        (learningRate === 0 ? ' (at 0 the weights never change).' : '.'),
    );
  }

  const integer = (label: string, text: string, min: number, max: number): number => {
    const n = parseNumber(text);
    if (!(Number.isInteger(n) && n >= min && n <= max))
      errors.push(`${label}: "${text}" is not a whole number from ${fmt(min)} to ${fmt(max)}.`);
    return n;
  };
  const hiddenLayers = integer('Hidden layers', form.hiddenLayers, 1, LIMITS.hiddenLayers);
  const hiddenWidth = integer('Hidden width', form.hiddenWidth, 1, LIMITS.hiddenWidth);
  const steps = integer('Steps', form.steps, 1, LIMITS.steps);

  let seed = -1n;
  if (/^\s*\d{1,20}\s*$/.test(form.seed)) seed = BigInt(form.seed.trim());
  if (seed < 0n || seed >= 2n ** 64n) errors.push(`Seed: "${form.seed}" is not a whole number from 0 to 2^64 - 1.`);

  if (errors.length > 0) return { errors };
  return {
    settings: {
      gain,
      batchNorm: form.batchNorm,
      tanh: form.tanh,
      learningRate,
      hiddenLayers,
      hiddenWidth,
      steps,
      seed,
    },
  };
}
