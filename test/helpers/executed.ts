/** An executed notebook (from the runner's output folder), read for tests. */
import * as fs from 'fs';
import * as path from 'path';
import assert from 'node:assert/strict';
import { PLOTLY_MIME, ShownValue, readShownText, readShownValues, tableText } from '../../lib/viz/display';
import { LIVE_CHART_META } from '../../lib/viz/livechart';

export interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, any>;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
}

/** `text` as a regular expression that matches it literally. */
export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A number as a table shows it (`digits` decimals), as a regular expression. */
export const esc = (value: number, digits = 4) => escapeRegExp(value.toFixed(digits));

export const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : (t ?? ''));

/** The text of an HTML table as `showTable` shows it on a terminal (caption, then aligned columns). */
export function htmlTableText(html: string): string {
  const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&amp;/g, '&');
  const caption = html.match(/<caption>(.*?)<\/caption>/s)?.[1];
  const rows = [...html.matchAll(/<tr>(.*?)<\/tr>/gs)].map((r) =>
    [...r[1].matchAll(/<t[hd]>(.*?)<\/t[hd]>/gs)].map((c) => unescape(c[1])),
  );
  return tableText(rows, caption === undefined ? undefined : unescape(caption));
}

export class ExecutedNotebook {
  readonly cells: Cell[];
  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    this.cells = JSON.parse(fs.readFileSync(path.join(dir, `${name}.ipynb`), 'utf8')).cells;
  }
  get outputs(): Output[] {
    return this.cells.flatMap((c) => c.outputs ?? []);
  }
  /** Everything printed (stdout, stderr, text/plain of displays, the text of `mm.show`'s), in order. */
  get printed(): string {
    return this.outputs
      .map((o) => join(o.text) + join(o.data?.['text/plain'] ?? readShownText(join(o.data?.['text/html']))))
      .join('\n');
  }
  /** The outputs that are Plotly figures (Plotly's MIME type), the live loss charts of training included. */
  get figureOutputs(): Output[] {
    return this.outputs.filter((o) => o.data?.[PLOTLY_MIME] !== undefined);
  }
  /** The final figures of the live loss charts that `mm.train` shows while it runs. */
  get liveCharts(): Output[] {
    return this.figureOutputs.filter((o) => o.data![PLOTLY_MIME].layout?.meta === LIVE_CHART_META);
  }
  /**
   * The numbers the notebook shows with `mm.show(label, value)` (read from their HTML), by label:
   * each label's values in the order shown (a label shown in a loop or by two cells has several).
   */
  get values(): Map<string, ShownValue[]> {
    const values = new Map<string, ShownValue[]>();
    for (const o of this.outputs) {
      for (const [label, value] of Object.entries(readShownValues(join(o.data?.['text/html'])) ?? {})) {
        values.set(label, [...(values.get(label) ?? []), value]);
      }
    }
    return values;
  }
  /** Every value shown under `label`, in order (at least one; the message lists the labels shown). */
  shownAll(label: string): ShownValue[] {
    const all = this.values.get(label);
    assert.ok(
      all,
      `${this.name} shows no value labelled '${label}'; it shows: ${[...this.values.keys()].map((l) => `'${l}'`).join(', ')}`,
    );
    return all;
  }
  /** The one number shown under `label`. */
  number(label: string): number {
    return this.numbers(label, 1)[0];
  }
  /** The numbers shown under `label`, in order; `count` of them when given. */
  numbers(label: string, count?: number): number[] {
    const all = this.shownAll(label);
    assert.ok(
      all.every((v) => typeof v === 'number'),
      `'${label}' is shown as a group of numbers, not one: ${JSON.stringify(all)}`,
    );
    if (count !== undefined) assert.equal(all.length, count, `'${label}' shown ${all.length} times, expected ${count}`);
    return all as number[];
  }
  /** The one group of named numbers shown under `label` (`mm.show(label, { mean, std })`). */
  group(label: string): Record<string, number> {
    return this.groups(label, 1)[0];
  }
  /** The groups shown under `label`, in order; `count` of them when given. */
  groups(label: string, count?: number): Record<string, number>[] {
    const all = this.shownAll(label);
    assert.ok(
      all.every((v) => typeof v === 'object'),
      `'${label}' is shown as a number, not a group: ${JSON.stringify(all)}`,
    );
    if (count !== undefined) assert.equal(all.length, count, `'${label}' shown ${all.length} times, expected ${count}`);
    return all as Record<string, number>[];
  }
  /** The Plotly figures the notebook shows itself (not the live loss charts), as their text/plain titles `[Plotly figure: ...]`. */
  get figures(): string[] {
    return this.figureOutputs
      .filter((o) => o.data![PLOTLY_MIME].layout?.meta !== LIVE_CHART_META)
      .map((o) => join(o.data?.['text/plain']));
  }
  /** The HTML tables shown (`showTable`), as text. */
  get tables(): string[] {
    return this.outputs
      .filter((o) => join(o.data?.['text/html']).startsWith('<table'))
      .map((o) => htmlTableText(join(o.data?.['text/html'])));
  }
  get markdown(): string {
    return this.cells
      .filter((c) => c.cell_type === 'markdown')
      .map((c) => join(c.source))
      .join('\n\n');
  }
  get htmlFile(): string {
    return path.join(this.dir, `${this.name}.html`);
  }
}
