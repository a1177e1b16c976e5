/**
 * Showing things in the notebook, through tslab's public display API (`import { display,
 * newDisplay } from 'tslab'`), with a plain-text fallback when the code runs outside a kernel (node,
 * tests, a terminal).
 *
 * How a MIME bundle is delivered: tslab's public `display.raw(contentType, value)` sends one MIME
 * type per output (`data: { [contentType]: value }`). So `display(bundle)` sends the one entry of the
 * bundle a notebook should render (the first of `PREFERRED` it has), and its text/plain part is what
 * a terminal prints. A Plotly figure goes out as `application/vnd.plotly.v1+json` (the figure's data,
 * layout and config), which JupyterLab (with plotly's renderer, installed in .venv) and VS Code draw
 * natively; the notebook runner (tools/execute_notebooks.py) completes each such output of an executed
 * notebook into the full bundle, adding the `text/html` fallback and `text/plain`.
 */
import { checkFinite, checkInteger, fail } from '../check';

/** A MIME bundle, as Jupyter's display_data message carries it. */
export type MimeBundle = Record<string, string | object>;

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** The MIME types a notebook should render, richest first. */
const PREFERRED = [PLOTLY_MIME, 'text/html', 'image/svg+xml', 'text/markdown', 'text/plain'];

/**
 * tslab's public display, typed for what we send. `raw` puts its value into the message as it is, so
 * a JSON MIME type (`...+json`) carries an object, as Jupyter's protocol wants; tslab's declaration
 * says only `string | Uint8Array`, hence this narrower view of the same function.
 */
interface TslabDisplay {
  raw(contentType: string, value: string | object): void;
}
interface TslabPublic {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

let tslab: TslabPublic | null | undefined;

/** tslab's public module when this process is tslab's kernel, else null. */
function kernel(): TslabPublic | null {
  if (tslab === undefined) {
    // tslab's kernel has its own modules loaded; elsewhere, requiring tslab would load a whole
    // TypeScript compiler (about 0.8 s) only to find that there is no kernel.
    // (In a browser bundle, the playground's worker, there is no module cache and no kernel.)
    const cache = typeof require === 'undefined' ? undefined : require.cache;
    const running = cache !== undefined && Object.keys(cache).some((file) => /[\\/]tslab[\\/]dist[\\/]/.test(file));
    tslab = running ? (require('tslab') as TslabPublic) : null;
  }
  return tslab;
}

/** True inside a Jupyter kernel (tslab), false in plain node. */
export function inNotebook(): boolean {
  return kernel() !== null;
}

/** The entry of `bundle` a notebook shows: [MIME type, value]. */
export function preferredEntry(bundle: MimeBundle): [string, string | object] {
  const type = PREFERRED.find((t) => bundle[t] !== undefined) ?? Object.keys(bundle)[0];
  if (type === undefined)
    throw new Error('display: the bundle is empty ({}); give at least one MIME type, e.g. { "text/plain": "..." }.');
  return [type, bundle[type]];
}

function send(target: TslabDisplay, bundle: MimeBundle): void {
  const [type, value] = preferredEntry(bundle);
  target.raw(type, value);
}

/** Display a MIME bundle; outside a notebook print its text/plain part. */
export function display(bundle: MimeBundle): void {
  const tl = kernel();
  if (tl) send(tl.display, bundle);
  else if (typeof bundle['text/plain'] === 'string') console.log(bundle['text/plain']);
}

/**
 * An output that is replaced in place (a progress line, a live chart): tslab's `newDisplay()`, whose
 * first call sends display_data and later ones update_display_data with the same display id.
 * Outside a notebook it shows nothing.
 *
 * The kernel's message socket (zeromq) holds back about one send in 500 until the event loop turns,
 * and refuses another send meanwhile ("Socket is busy writing", EBUSY). `update` then returns false
 * and nothing is lost but this picture: the caller sends a newer one later. Other errors are thrown.
 */
export class LiveOutput {
  private target = kernel()?.newDisplay();
  private shown = false;

  /** Show `bundle` in place of the previous one; false if the socket was busy (try again later). */
  update(bundle: MimeBundle): boolean {
    if (!this.target) return false;
    try {
      send(this.target, bundle);
    } catch (e) {
      if ((e as { code?: string }).code !== 'EBUSY') throw e;
      // tslab counts a display as shown even when its first send failed: start again with a new one.
      if (!this.shown) this.target = kernel()!.newDisplay();
      return false;
    }
    this.shown = true;
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Named numbers: what a notebook shows and its tests read
// ---------------------------------------------------------------------------------------------

/**
 * The numbers a notebook shows with `show(label, value)` travel in the HTML it displays: a `<pre>` of
 * this class, its text what the learner reads, its `data-values` attribute `{ [label]: value }` as JSON,
 * each number at full precision. Every front-end shows it as printed text (JupyterLab, VS Code,
 * nbconvert's HTML); the tests read the values from the executed notebook (`readShownValues`), so that
 * they check the numbers and not the wording around them. HTML, not a MIME type of our own: tslab's
 * public display sends one type per output, and a front-end shows nothing for an unknown type alone.
 */
export const VALUES_CLASS = 'makemore-values';

/** A number, or several named numbers shown together (`{ mean, std }`). */
export type ShownValue = number | Record<string, number>;

const SHOW_ALLOWED = 'a finite number or an object of named finite numbers, e.g. { mean: 0.01, std: 0.98 }';

/**
 * A number as `show` writes it: an integer as it is (`11897`), others with `digits` decimals, and a
 * number too small for them in exponent notation (`3.2e-7`, where `0.0000` would hide it).
 */
export function formatShown(value: number, digits: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) < 0.5 * 10 ** -digits ? value.toExponential(1) : value.toFixed(digits);
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&');

/**
 * The bundle of `show(label, value, digits)`: `text/plain` as the learner reads it (`label: 3.2958`, or
 * `label: mean -0.0408, std 5.1807` for named numbers), and `text/html`, the same text in a `<pre>` that
 * carries the values (VALUES_CLASS). Checks its arguments: a non-empty label, finite numbers (a tensor
 * must be read first, with `mm.num` or `mm.item`), digits an integer from 0 to 20.
 */
export function valuesBundle(label: string, value: ShownValue, digits = 4): MimeBundle {
  if (typeof label !== 'string' || label.trim() === '')
    fail('show', 'label', label, "a non-empty string, e.g. 'expected loss'");
  checkInteger('show', 'digits', digits, 0, 20);
  let text: string;
  if (typeof value === 'number') {
    checkFinite('show', `the value of '${label}'`, value);
    text = formatShown(value, digits);
  } else {
    const proto = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
    if ((proto !== Object.prototype && proto !== null) || Object.keys(value).length === 0) {
      fail(
        'show',
        `the value of '${label}'`,
        value,
        `${SHOW_ALLOWED}${isTensor(value) ? ' (read a tensor first: mm.num(() => t), mm.item(t))' : ''}`,
      );
    }
    for (const [name, v] of Object.entries(value)) checkFinite('show', `'${name}' of '${label}'`, v);
    text = Object.entries(value)
      .map(([name, v]) => `${name} ${formatShown(v, digits)}`)
      .join(', ');
  }
  const values = JSON.stringify({ [label]: value });
  const plain = `${label}: ${text}`;
  return {
    'text/html': `<pre class="${VALUES_CLASS}" data-values="${escapeHtml(values)}">${escapeHtml(plain)}</pre>`,
    'text/plain': plain,
  };
}

/** An output of `show(label, value)` (its text/html): [values attribute, text], escaped; else null. */
const matchShown = (html: string) =>
  html.match(new RegExp(`^<pre class="${VALUES_CLASS}" data-values="([^"]*)">(.*)</pre>$`, 's'));

/** The values of an output `show(label, value)` displayed (its text/html), or undefined for any other HTML. */
export function readShownValues(html: string): Record<string, ShownValue> | undefined {
  const m = matchShown(html);
  return m ? JSON.parse(unescapeHtml(m[1])) : undefined;
}

/** The text of an output `show(label, value)` displayed, as the learner reads it, or undefined for any other HTML. */
export function readShownText(html: string): string | undefined {
  const m = matchShown(html);
  return m ? unescapeHtml(m[2]) : undefined;
}

const isTensor = (v: unknown) => typeof v === 'object' && v !== null && Array.isArray((v as { shape?: unknown }).shape);

/**
 * Show a named number, or several named numbers at once, and record them in the notebook's output:
 * `showValue('expected loss at initialisation', 3.2958...)` shows `expected loss at initialisation:
 * 3.2958`. Notebooks call it as `mm.show(label, value, digits?)` (lib/viz/figure.ts).
 */
export function showValue(label: string, value: ShownValue, digits = 4): void {
  display(valuesBundle(label, value, digits));
}

/** Display an HTML table from rows of cells (first row is the header); a terminal gets aligned text. */
export function showTable(rows: (string | number)[][], caption?: string): void {
  const esc = (s: string | number) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const [head, ...body] = rows;
  const html =
    `<table>${caption ? `<caption>${esc(caption)}</caption>` : ''}` +
    `<thead><tr>${head.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  display({ 'text/html': html, 'text/plain': tableText(rows, caption) });
}

/** The rows as aligned columns of text, under the caption. */
export function tableText(rows: (string | number)[][], caption?: string): string {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => String(r[j]).length)));
  const text = rows.map((r) => r.map((c, j) => String(c).padEnd(widths[j])).join('  ')).join('\n');
  return (caption ? caption + '\n' : '') + text;
}
