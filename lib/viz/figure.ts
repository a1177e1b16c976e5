/**
 * Plotly figures in the notebook, as Plotly's own MIME type, `application/vnd.plotly.v1+json`
 * (`{ data, layout, config }`): JupyterLab (plotly's renderer, in the project's .venv) and VS Code
 * draw it natively, with no library in the notebook. The runner adds an HTML fallback to each figure
 * of an executed notebook, drawn by the plotly.js that the exported pages load (see display.ts and
 * tools/execute_notebooks.py).
 */
import { PLOTLY_MIME, ShownValue, display, showValue } from './display';

export interface Figure {
  data: object[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/** The figure's title, or 'figure'. */
export function titleOf(fig: Figure): string {
  const title = fig.layout?.title as { text?: string } | string | undefined;
  return (typeof title === 'string' ? title : title?.text) ?? 'figure';
}

/**
 * A copy of `value` ready for JSON: typed arrays become plain arrays (JSON.stringify would write a
 * Float32Array as an object), and numbers that are not integers keep 6 significant digits: more than a
 * figure or its hover text shows (float32 has about 7), and it halves the size of the saved notebooks
 * and pages, whose bulk is figure data.
 */
export function compactNumbers(value: unknown): unknown {
  if (typeof value === 'number')
    return Number.isInteger(value) || !Number.isFinite(value) ? value : Number(value.toPrecision(6));
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, compactNumbers);
  if (Array.isArray(value)) return value.map(compactNumbers);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compactNumbers(v)]));
  }
  return value;
}

/** The figure as sent: the project's default height, margins and config under the figure's own. */
export function figureJson(fig: Figure): Required<Figure> {
  if (!fig || !Array.isArray(fig.data)) {
    throw new Error(
      `show: fig.data must be an array of traces, got ${fig === null || fig === undefined ? fig : typeof fig.data}.`,
    );
  }
  return {
    data: compactNumbers(fig.data) as object[],
    layout: compactNumbers({ height: 420, margin: { t: 40, r: 20, b: 50, l: 60 }, ...fig.layout }) as Record<
      string,
      unknown
    >,
    config: { responsive: true, displaylogo: false, ...fig.config },
  };
}

/** The MIME bundle of a figure: Plotly's JSON, and a text/plain line for a terminal. */
export function figureBundle(fig: Figure): Record<string, string | object> {
  return { [PLOTLY_MIME]: figureJson(fig), 'text/plain': `[Plotly figure: ${titleOf(fig)}]` };
}

/**
 * Show a figure in the notebook (outside a notebook, print its title); or, with a label, a named number
 * or several (`mm.show('hpreact', { mean, std })`), which the notebook's output records for its tests
 * (display.ts, `showValue`).
 */
export function show(fig: Figure): void;
export function show(label: string, value: ShownValue, digits?: number): void;
export function show(what: Figure | string, value?: ShownValue, digits?: number): void {
  if (typeof what === 'string') showValue(what, value as ShownValue, digits);
  else display(figureBundle(what));
}
