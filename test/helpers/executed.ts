/** An executed notebook (from the runner's output folder), read for tests. */
import * as fs from 'fs';
import * as path from 'path';

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]> }
interface Cell { cell_type: string; source: string | string[]; outputs?: Output[] }

const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : t ?? '');

export class ExecutedNotebook {
  readonly cells: Cell[];
  constructor(readonly dir: string, readonly name: string) {
    this.cells = JSON.parse(fs.readFileSync(path.join(dir, `${name}.ipynb`), 'utf8')).cells;
  }
  get outputs(): Output[] {
    return this.cells.flatMap((c) => c.outputs ?? []);
  }
  /** Everything printed (stdout, stderr, text/plain of displays), in order. */
  get printed(): string {
    return this.outputs.map((o) => join(o.text) + join(o.data?.['text/plain'])).join('\n');
  }
  /** The Plotly figures shown, as their text/plain titles `[Plotly figure: ...]`. */
  get figures(): string[] {
    return this.outputs.filter((o) => join(o.data?.['text/html']).includes('makemore-plot'))
      .map((o) => join(o.data?.['text/plain']));
  }
  /** The HTML tables shown (`showTable`), as their text/plain. */
  get tables(): string[] {
    return this.outputs.filter((o) => join(o.data?.['text/html']).startsWith('<table')).map((o) => join(o.data?.['text/plain']));
  }
  get markdown(): string {
    return this.cells.filter((c) => c.cell_type === 'markdown').map((c) => join(c.source)).join('\n\n');
  }
  get htmlFile(): string {
    return path.join(this.dir, `${this.name}.html`);
  }
}
