/** The Plotly figures of an executed notebook, as the kernel sent them (Plotly's MIME type), for checks. */
import { PLOTLY_MIME } from '../../lib/viz/display';
import { ExecutedNotebook, join } from './executed';

export interface Trace {
  name?: string;
  x?: number[];
  y?: number[];
  xaxis?: string;
  yaxis?: string;
}
export interface ShownFigure {
  title: string;
  data: Trace[];
  layout: Record<string, any>;
}

/** Each figure shown (`mm.show`, not the live loss charts of training), with its data and layout. */
export function shownFigures(nb: ExecutedNotebook): ShownFigure[] {
  const live = new Set(nb.liveCharts);
  return nb.figureOutputs
    .filter((o) => !live.has(o))
    .map((o) => {
      const fig = o.data![PLOTLY_MIME];
      return { title: join(o.data?.['text/plain']), data: fig.data, layout: fig.layout };
    });
}
