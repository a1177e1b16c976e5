/**
 * Showing things in the notebook: a thin layer over tslab's display, with a plain-text fallback
 * when the code runs outside a kernel (node, tests, a terminal).
 */
/** A MIME bundle, as Jupyter's display_data message carries it. */
export type MimeBundle = Record<string, string | object>;

type WriteDisplayData = (msg: { data: MimeBundle; metadata: object; transient: { display_id?: string } }, update: boolean) => void;

/** tslab's own writer, present only inside a running tslab kernel. */
function kernelWriter(): WriteDisplayData | undefined {
  try {
    // tslab's public `display` takes one MIME type per output; its writer takes a whole bundle.
    return require('tslab/dist/jupyter').lastWriteDisplayData ?? undefined;
  } catch {
    return undefined;
  }
}

/** True inside a Jupyter kernel (tslab), false in plain node. */
export function inNotebook(): boolean {
  return kernelWriter() !== undefined;
}

/** Display a MIME bundle; outside a notebook print its text/plain part. */
export function display(bundle: MimeBundle, displayId?: string, update = false): void {
  const write = kernelWriter();
  if (write) {
    write({ data: bundle, metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
  } else if (typeof bundle['text/plain'] === 'string') {
    console.log(bundle['text/plain']);
  }
}

/** Display ids unique within this kernel's life: the time it started and a counter. */
const sessionTag = Date.now().toString(36);
let liveOutputs = 0;

/** An output that can be replaced in place (a progress line, say). */
export class LiveOutput {
  private readonly id = `live-${sessionTag}-${++liveOutputs}`;
  private shown = false;

  update(bundle: MimeBundle): void {
    display(bundle, this.id, this.shown);
    this.shown = true;
  }
}

/** Display an HTML table from rows of cells (first row is the header). */
export function showTable(rows: (string | number)[][], caption?: string): void {
  const esc = (s: string | number) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const [head, ...body] = rows;
  const html = `<table>${caption ? `<caption>${esc(caption)}</caption>` : ''}` +
    `<thead><tr>${head.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const widths = head.map((_, j) => Math.max(...rows.map((r) => String(r[j]).length)));
  const text = rows.map((r) => r.map((c, j) => String(c).padEnd(widths[j])).join('  ')).join('\n');
  display({ 'text/html': html, 'text/plain': (caption ? caption + '\n' : '') + text });
}
