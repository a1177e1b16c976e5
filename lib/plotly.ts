/**
 * Plotly figures in the notebook and in its HTML export, offline.
 *
 * Each figure is a MIME bundle with text/html: a <div> and a script that draws it with
 * `Plotly.newPlot`. The first figure of a kernel session also carries the Plotly library itself
 * (plotly.js-dist-min, about 4.5 MB), so that the exported HTML needs no network.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import { display } from './display';

export interface Figure {
  data: object[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

let libraryShown = false;

function plotlyLibraryScript(): string {
  const src = fs.readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  // Hide AMD/CommonJS loaders (JupyterLab or a page may define them) so Plotly lands on window.
  return `<script type="text/javascript">(function(define, module, exports) {\n${src}\n}).call(window);</script>`;
}

/** JSON safe to put inside a <script> element. */
const scriptJson = (x: unknown) => JSON.stringify(x).replace(/</g, '\\u003c');

/** The HTML of a figure (with the Plotly library when `withLibrary`). */
export function figureHtml(fig: Figure, withLibrary: boolean): string {
  const id = 'plotly-' + crypto.randomBytes(6).toString('hex');
  const height = (fig.layout?.height as number | undefined) ?? 420;
  const layout = { height, margin: { t: 40, r: 20, b: 50, l: 60 }, ...fig.layout };
  const config = { responsive: true, displaylogo: false, ...fig.config };
  const draw = `<script type="text/javascript">(function() {
  var draw = function() { window.Plotly.newPlot(${scriptJson(id)}, ${scriptJson(fig.data)}, ${scriptJson(layout)}, ${scriptJson(config)}); };
  var tries = 0;
  var wait = function() { if (window.Plotly) draw(); else if (tries++ < 200) setTimeout(wait, 50); };
  wait();
})();</script>`;
  return (withLibrary ? plotlyLibraryScript() : '') +
    `<div id="${id}" class="makemore-plot" style="width:100%;height:${height}px;"></div>` + draw;
}

/** Show a figure in the notebook (outside a notebook, print its title). */
export function show(fig: Figure): void {
  const html = figureHtml(fig, !libraryShown);
  libraryShown = true;
  const title = (fig.layout?.title as { text?: string } | string | undefined);
  const text = typeof title === 'string' ? title : title?.text ?? 'figure';
  display({ 'text/html': html, 'text/plain': `[Plotly figure: ${text}]` });
}
