/** The Plotly figures of an executed notebook, parsed back from their HTML, for checks. */
import { ExecutedNotebook } from './executed';

const join = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join('') : t ?? '');

export interface Trace { name?: string; x?: number[]; y?: number[]; xaxis?: string; yaxis?: string }
export interface ShownFigure { title: string; data: Trace[]; layout: Record<string, any> }

/** Each figure shown (`mm.show`), with its data and layout as passed to `Plotly.newPlot(id, data, layout, config)`. */
export function shownFigures(nb: ExecutedNotebook): ShownFigure[] {
  return nb.outputs.filter((o) => join(o.data?.['text/html']).includes('makemore-plot')).map((o) => {
    const html = join(o.data?.['text/html']);
    const m = html.match(/window\.Plotly\.newPlot\("[^"]+", (.*)\); \};\n/);
    if (!m) throw new Error('no Plotly.newPlot call in a figure\'s HTML');
    const [data, layout] = JSON.parse(`[${m[1]}]`);
    return { title: join(o.data?.['text/plain']), data, layout };
  });
}
