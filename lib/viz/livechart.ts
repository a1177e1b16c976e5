/**
 * The live loss chart of a training run in a notebook: log10 of the loss, averaged over buckets of
 * steps as the lecture does with `torch.tensor(lossi).view(-1, 1000).mean(1)`.
 *
 * While training runs it is a small SVG, replaced in place (update_display_data) with the progress
 * line. At the end it becomes a Plotly figure, so the saved notebook keeps only that final figure. Why
 * an SVG first: JupyterLab keeps a Plotly output's renderer when the output is replaced, and plotly's
 * renderer does not redraw a figure it has drawn, so a Plotly figure would not move.
 */
import { LiveOutput } from './display';
import { Figure, figureBundle } from './figure';

/** Marks the live chart's figure (layout.meta), to tell it from the figures a notebook shows itself. */
export const LIVE_CHART_META = 'makemore-live-loss';

/** Steps per bucket: 1, 2, 5, 10, 20, 50, ... so that a run has at most about 200 points (1000 for 200,000 steps). */
export function bucketSize(steps: number): number {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`bucketSize: steps must be an integer >= 1, got ${steps}`);
  for (let scale = 1; ; scale *= 10) {
    for (const m of [1, 2, 5]) if (m * scale * 200 >= steps) return m * scale;
  }
}

/** Sums of log10(loss) per bucket, filled one step at a time. */
export class LossBuckets {
  readonly size: number;
  private readonly sums: Float64Array;
  private count = 0;

  constructor(readonly steps: number) {
    this.size = bucketSize(steps);
    this.sums = new Float64Array(Math.ceil(steps / this.size));
  }

  /** Add the loss of the next step. */
  add(loss: number): void {
    if (this.count >= this.steps) return;
    this.sums[Math.floor(this.count / this.size)] += Math.log10(loss);
    this.count++;
  }

  /** Steps added so far. */
  get length(): number {
    return this.count;
  }

  /**
   * The mean of each bucket so far, at the middle step of the bucket. The last one may be partial;
   * `completeOnly` leaves it out (a mean of a few steps jumps about) unless it is the only one.
   */
  means(completeOnly = false): { x: number[]; y: number[] } {
    const x: number[] = [];
    const y: number[] = [];
    const end = completeOnly && this.count >= this.size ? this.count - (this.count % this.size) : this.count;
    for (let start = 0, b = 0; start < end; start += this.size, b++) {
      const n = Math.min(this.size, end - start);
      x.push(start + (n - 1) / 2);
      y.push(this.sums[b] / n);
    }
    return { x, y };
  }
}

const fmt = (v: number) => Number(v.toFixed(1));
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The chart as SVG: the means so far over the whole run's x axis, so the line grows to the right. */
export function lossChartSvg(buckets: LossBuckets): string {
  const [W, H, left, right, top, bottom] = [640, 220, 56, 16, 28, 34];
  const { x, y } = buckets.means(true);
  let lo = Math.min(...y),
    hi = Math.max(...y);
  if (!(hi - lo > 1e-6)) {
    lo -= 0.05;
    hi += 0.05;
  }
  const pad = (hi - lo) * 0.05;
  [lo, hi] = [lo - pad, hi + pad];
  const px = (v: number) => fmt(left + (v / Math.max(1, buckets.steps - 1)) * (W - left - right));
  const py = (v: number) => fmt(top + ((hi - v) / (hi - lo)) * (H - top - bottom));
  const points = x.map((v, i) => `${px(v)},${py(y[i])}`).join(' ');
  const yTicks = [hi - pad, (hi + lo) / 2, lo + pad];
  const text = (tx: number, ty: number, s: string, anchor = 'start') =>
    `<text x="${tx}" y="${ty}" text-anchor="${anchor}">${esc(s)}</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="makemore-live-loss" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
    'font-family="sans-serif" font-size="12" fill="#444">' +
    text(
      left,
      16,
      `log10(loss), mean of each ${buckets.size.toLocaleString('en')} steps: ` +
        `${buckets.length.toLocaleString('en')} of ${buckets.steps.toLocaleString('en')} steps`,
    ) +
    `<path d="M${left},${top} V${H - bottom} H${W - right}" stroke="#888" fill="none"/>` +
    yTicks.map((v) => text(left - 6, py(v) + 4, v.toFixed(3), 'end')).join('') +
    text(left, H - bottom + 16, '0', 'middle') +
    text(W - right, H - bottom + 16, buckets.steps.toLocaleString('en'), 'end') +
    text((left + W - right) / 2, H - 4, 'step', 'middle') +
    `<polyline points="${points}" fill="none" stroke="#1f77b4" stroke-width="2"/>` +
    (x.length === 1 ? `<circle cx="${px(x[0])}" cy="${py(y[0])}" r="3" fill="#1f77b4"/>` : '') +
    '</svg>'
  );
}

/** The final chart as a Plotly figure. */
export function lossChartFigure(buckets: LossBuckets): Figure {
  const { x, y } = buckets.means();
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: `mean of each ${buckets.size} steps`,
        x,
        y,
        line: { color: '#1f77b4', width: 2 },
        marker: { size: 4 },
      },
    ],
    layout: {
      title: { text: `Training loss: log10, mean of each ${buckets.size.toLocaleString('en')} steps` },
      height: 320,
      meta: LIVE_CHART_META,
      xaxis: { title: { text: 'step' }, range: [0, buckets.steps - 1] },
      yaxis: { title: { text: 'log10(loss)' } },
    },
  };
}

/** The chart in the notebook: one output, replaced at each `show`; a Plotly figure at the end. */
export class LiveLossChart {
  private readonly buckets: LossBuckets;
  private readonly output = new LiveOutput();

  constructor(steps: number) {
    this.buckets = new LossBuckets(steps);
  }

  add(loss: number): void {
    this.buckets.add(loss);
  }

  /** Show the chart so far (an SVG); false if the kernel's socket was busy (see LiveOutput). */
  show(final: boolean): boolean {
    if (this.buckets.length === 0) return true;
    return this.output.update(
      final ? figureBundle(lossChartFigure(this.buckets)) : { 'image/svg+xml': lossChartSvg(this.buckets) },
    );
  }

  /** Show the final Plotly figure, trying again shortly if the socket is busy. */
  showFinal(tries = 20): void {
    if (!this.show(true) && tries > 1) setTimeout(() => this.showFinal(tries - 1), 10);
  }
}
