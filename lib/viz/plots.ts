/**
 * The lecture's figures as Plotly figures: data in, a `Figure` out (show it with `mm.show`).
 * No computation of statistics here: that is ../tensor/stats.ts.
 */
import { Figure } from './figure';

/** How a series is drawn: a line (default), markers only, or a dashed guide line. */
export type SeriesStyle = 'line' | 'markers' | 'dashed';

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  style?: SeriesStyle;
  colour?: string;
}

/** A Plotly scatter trace of a series, drawn in its style. */
function seriesTrace(s: Series): object {
  const colour = s.colour === undefined ? {} : { color: s.colour };
  const style = s.style ?? 'line';
  if (style === 'markers')
    return { type: 'scatter', mode: 'markers', name: s.name, x: arr(s.x), y: arr(s.y), marker: { size: 8, ...colour } };
  return {
    type: 'scatter',
    mode: 'lines',
    name: s.name,
    x: arr(s.x),
    y: arr(s.y),
    line: { ...(style === 'dashed' ? { dash: 'dash', color: 'gray' } : {}), ...colour },
  };
}

const arr = (a: ArrayLike<number>) => Array.from(a);

/** Means over consecutive windows (the lecture's `lossi.view(-1, 1000).mean(1)`); a last partial window is dropped. */
export function windowedMean(values: ArrayLike<number>, window: number): number[] {
  const out: number[] = [];
  for (let start = 0; start + window <= values.length; start += window) {
    let s = 0;
    for (let i = start; i < start + window; i++) s += values[i];
    out.push(s / window);
  }
  return out;
}

/** Lines over a shared x axis, with a legend. */
export function lines(
  series: Series[],
  layout: {
    title: string;
    xTitle?: string;
    yTitle?: string;
    height?: number;
    /** logarithmic axes */
    xLog?: boolean;
    yLog?: boolean;
  },
): Figure {
  const log = (on?: boolean) => (on ? { type: 'log' } : {});
  return {
    data: series.map(seriesTrace),
    layout: {
      title: { text: layout.title },
      height: layout.height ?? 420,
      xaxis: { title: { text: layout.xTitle ?? '' }, ...log(layout.xLog) },
      yaxis: { title: { text: layout.yTitle ?? '' }, ...log(layout.yLog) },
    },
  };
}

/**
 * The loss curve: log10 loss per step (thinned to at most `maxPoints` points, so that the page
 * stays small) and its mean over windows of `window` steps, which shows the trend.
 */
export function lossCurve(
  lossi: ArrayLike<number>,
  options: { title?: string; window?: number; maxPoints?: number } = {},
): Figure {
  const window = options.window ?? Math.max(1, Math.min(1000, Math.floor(lossi.length / 20)));
  const every = Math.max(1, Math.ceil(lossi.length / (options.maxPoints ?? 4000)));
  const steps: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < lossi.length; i += every) {
    steps.push(i);
    raw.push(lossi[i]);
  }
  const means = windowedMean(lossi, window);
  return {
    data: [
      {
        type: 'scattergl',
        mode: 'lines',
        name: every > 1 ? `log10 loss (every ${every}th step)` : 'log10 loss per step',
        x: steps,
        y: raw,
        line: { width: 1, color: 'rgba(31,119,180,0.35)' },
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: `mean over ${window} steps`,
        x: means.map((_, k) => k * window + (window - 1) / 2),
        y: means,
        line: { width: 2.5, color: '#d62728' },
      },
    ],
    layout: {
      title: { text: options.title ?? 'Training loss' },
      xaxis: { title: { text: 'step' } },
      yaxis: { title: { text: 'log10(loss)' } },
    },
  };
}

export interface HistogramSeries {
  name: string;
  /** bins + 1 edges, as torch.histogram returns them. */
  edges: ArrayLike<number>;
  /** density (or counts) per bin. */
  values: ArrayLike<number>;
  /** a colour and a line width, to set one series apart (the input beside the outputs, say) */
  colour?: string;
  width?: number;
}

/** Overlaid histograms, one step line per layer with a legend (the lecture plots `hx[:-1], hy`). */
export function histograms(
  series: HistogramSeries[],
  layout: {
    title: string;
    xTitle?: string;
    height?: number;
    /** the x range shown (default: all of the data) */
    xRange?: [number, number];
  },
): Figure {
  return {
    data: series.map((s) => {
      // A step line over the bins: each value holds from its left edge to the next; repeating the
      // last value at the last edge gives the last bin its width.
      const values = arr(s.values);
      const line = {
        shape: 'hv',
        ...(s.colour === undefined ? {} : { color: s.colour }),
        ...(s.width === undefined ? {} : { width: s.width }),
      };
      return {
        type: 'scatter',
        mode: 'lines',
        name: s.name,
        x: arr(s.edges),
        y: [...values, values[values.length - 1]],
        line,
      };
    }),
    layout: {
      title: { text: layout.title },
      height: layout.height ?? 420,
      xaxis: { title: { text: layout.xTitle ?? 'value' }, ...(layout.xRange ? { range: layout.xRange } : {}) },
      yaxis: { title: { text: 'density' } },
    },
  };
}

/**
 * The black-and-white image of a boolean matrix (rows x cols), white where true: the lecture's
 * `plt.imshow(h.abs() > 0.99, cmap='gray')`. A column all white is a dead neuron.
 */
export function booleanImage(
  mask: ArrayLike<number>,
  rows: number,
  cols: number,
  layout: { title: string; xTitle?: string; yTitle?: string },
): Figure {
  const z: number[][] = [];
  for (let r = 0; r < rows; r++) z.push(Array.from({ length: cols }, (_, c) => (mask[r * cols + c] ? 1 : 0)));
  return {
    data: [
      {
        type: 'heatmap',
        z,
        zmin: 0,
        zmax: 1,
        colorscale: [
          [0, 'black'],
          [1, 'white'],
        ],
        showscale: false,
        hovertemplate: `${layout.yTitle ?? 'row'} %{y}, ${layout.xTitle ?? 'column'} %{x}: %{z}<extra></extra>`,
      },
    ],
    layout: {
      title: { text: layout.title },
      height: Math.max(260, Math.min(700, 40 + rows * 12)),
      xaxis: { title: { text: layout.xTitle ?? '' }, showgrid: false },
      yaxis: { title: { text: layout.yTitle ?? '' }, autorange: 'reversed', showgrid: false },
    },
  };
}

/**
 * The update:data ratio over time: log10(std(lr * grad) / std(data)) per weight and step, with the
 * guide line at -3 (updates about 1/1000 of the values: the lecture's rule of thumb).
 */
export function updateRatios(
  ud: number[][],
  names: string[],
  options: { title?: string; guide?: number; only?: (name: string, k: number) => boolean } = {},
): Figure {
  const guide = options.guide ?? -3;
  const steps = ud.map((_, i) => i);
  const data: object[] = [];
  names.forEach((name, k) => {
    if (options.only && !options.only(name, k)) return;
    data.push({ type: 'scatter', mode: 'lines', name, x: steps, y: ud.map((row) => row[k]) });
  });
  data.push({
    type: 'scatter',
    mode: 'lines',
    name: `guide (${guide})`,
    x: [0, Math.max(1, ud.length - 1)],
    y: [guide, guide],
    line: { color: 'black', dash: 'dash' },
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? 'update:data ratio' },
      xaxis: { title: { text: 'step' } },
      yaxis: { title: { text: 'log10(std(lr·grad) / std(data))' } },
    },
  };
}

/** Plotly's default colour cycle, then darker variants (enough for 5 layers and 7 weights). */
const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#393b79',
  '#637939',
  '#8c6d31',
  '#843c39',
  '#7b4173',
];

/**
 * Figures side by side in a grid (for comparing experiments at a glance). Traces with the same
 * name get the same colour in every panel and one shared legend entry.
 */
export function grid(figures: Figure[], columns: number, title: string, height = 320): Figure {
  const rows = Math.ceil(figures.length / columns);
  const data: object[] = [];
  const colours = new Map<string, string>();
  const layout: Record<string, unknown> = {
    title: { text: title },
    height: rows * height + 90,
    margin: { t: 90 },
    grid: { rows, columns, pattern: 'independent', ygap: 0.35 },
    annotations: [] as object[],
  };
  figures.forEach((f, k) => {
    const suffix = k === 0 ? '' : String(k + 1);
    for (const trace of f.data as { name?: string; line?: object }[]) {
      const name = trace.name ?? '';
      const first = !colours.has(name);
      if (first) colours.set(name, PALETTE[colours.size % PALETTE.length]);
      const colour = (trace.line as { color?: string } | undefined)?.color ?? colours.get(name);
      data.push({
        ...trace,
        xaxis: `x${suffix}`,
        yaxis: `y${suffix}`,
        legendgroup: name,
        showlegend: first,
        line: { ...trace.line, color: colour },
        marker: { color: colour },
      });
    }
    const sub = (f.layout?.title as { text?: string } | undefined)?.text;
    (layout.annotations as object[]).push({
      text: sub ?? '',
      showarrow: false,
      xref: `x${suffix} domain`,
      yref: `y${suffix} domain`,
      x: 0.5,
      y: 1.08,
      yanchor: 'bottom',
      font: { size: 12 },
    });
    layout[`xaxis${suffix}`] = { ...(f.layout?.xaxis as object), title: undefined };
    layout[`yaxis${suffix}`] = { ...(f.layout?.yaxis as object), title: undefined };
  });
  return { data, layout };
}

/**
 * Figures in one row, each under its own title, to compare two moments (step 0 and after training) or
 * two experiments: a trace keeps its colour in every panel (matched by name) and has one legend entry;
 * with `sameYRange` every panel gets the y range of the tallest, so that heights compare.
 */
export function sideBySide(
  panels: { figure: Figure; title: string }[],
  title: string,
  options: { sameYRange?: boolean; height?: number } = {},
): Figure {
  const titled = panels.map((p) => ({ ...p.figure, layout: { ...p.figure.layout, title: { text: p.title } } }));
  const fig = grid(titled, panels.length, title, options.height ?? 380);
  const layout: Record<string, unknown> = { ...fig.layout, showlegend: true, margin: { t: 90, r: 20, b: 50, l: 60 } };
  if (options.sameYRange) {
    const ys = (fig.data as { y?: ArrayLike<number> }[]).flatMap((t) => Array.from(t.y ?? []));
    const top = Math.max(...ys) * 1.05;
    const bottom = Math.min(0, ...ys);
    panels.forEach((_, k) => {
      const key = `yaxis${k === 0 ? '' : k + 1}`;
      layout[key] = { ...(layout[key] as object), range: [bottom, top] };
    });
  }
  return { data: fig.data, layout };
}

/** One step of a density slider: its label and the values of each curve at that step. */
export interface SliderFrame {
  label: string;
  /** one array per curve, in the order of `names` */
  curves: ArrayLike<number>[];
}

/**
 * Density curves that change with a slider (every step precomputed, so the figure also works in an
 * exported page without a kernel): the same `bins` over the range of every value of every step, so
 * that the curves compare as the slider moves; each curve's legend gives its mean and std at the step.
 */
export function densitySlider(
  frames: SliderFrame[],
  names: string[],
  layout: { title: string; xTitle?: string; bins?: number; colours?: string[]; prefix?: string },
): Figure {
  const bins = layout.bins ?? 40;
  let lowest = Infinity;
  let highest = -Infinity;
  for (const f of frames) {
    for (const c of f.curves) {
      for (let i = 0; i < c.length; i++) {
        lowest = Math.min(lowest, c[i]);
        highest = Math.max(highest, c[i]);
      }
    }
  }
  const width = (highest - lowest) / bins || 1;
  const centres = Array.from({ length: bins }, (_, i) => lowest + (i + 0.5) * width);
  const density = (v: ArrayLike<number>) => {
    const counts = new Array(bins).fill(0);
    for (let i = 0; i < v.length; i++) counts[Math.min(bins - 1, Math.floor((v[i] - lowest) / width))] += 1;
    return counts.map((c) => c / v.length / width);
  };
  const stats = (v: ArrayLike<number>) => {
    const a = Array.from(v);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, a.length - 1));
    return `mean ${mean.toFixed(2)}, std ${std.toFixed(2)}`;
  };
  const restyles = frames.map((f) => ({
    y: f.curves.map(density),
    name: f.curves.map((c, k) => `${names[k]}: ${stats(c)}`),
  }));
  const colours = layout.colours ?? PALETTE;
  const curveIndices = names.map((_, k) => k);
  return {
    data: names.map((_, k) => ({
      type: 'scatter',
      mode: 'lines',
      x: centres,
      y: restyles[0].y[k],
      name: restyles[0].name[k],
      line: { shape: 'hvh', color: colours[k % colours.length], width: 2.5 },
    })),
    layout: {
      title: { text: layout.title },
      height: 520,
      xaxis: { title: { text: layout.xTitle ?? 'value' } },
      yaxis: { title: { text: 'density' } },
      legend: { x: 0.01, y: 0.99 },
      sliders: [
        {
          active: 0,
          pad: { t: 50 },
          currentvalue: { prefix: layout.prefix ?? '' },
          steps: frames.map((f, i) => ({ label: f.label, method: 'restyle', args: [restyles[i], curveIndices] })),
        },
      ],
    },
  };
}

/** A function and its derivative sampled at `x` (the derivative from `tf.grad`, say). */
export interface FunctionCurve {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  dy: ArrayLike<number>;
  colour?: string;
}

/**
 * Functions (left) and their derivatives (right), one colour and one legend entry per function; `bands`
 * shade x ranges of the derivative panel (where a derivative is nearly 0, say), with a label.
 */
export function functionsAndDerivatives(
  curves: FunctionCurve[],
  layout: {
    title: string;
    yRange?: [number, number];
    dyRange?: [number, number];
    bands?: { from: number; to: number; label: string }[];
  },
): Figure {
  const data = curves.flatMap((c, k) => {
    const line = { color: c.colour ?? PALETTE[k % PALETTE.length] };
    const common = { type: 'scatter', mode: 'lines', name: c.name, legendgroup: c.name, x: arr(c.x), line };
    return [
      { ...common, y: arr(c.y) },
      { ...common, y: arr(c.dy), showlegend: false, xaxis: 'x2', yaxis: 'y2' },
    ];
  });
  const bands = layout.bands ?? [];
  return {
    data,
    layout: {
      title: { text: layout.title },
      height: 460,
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: { title: { text: 'x' } },
      yaxis: { title: { text: 'f(x)' }, ...(layout.yRange ? { range: layout.yRange } : {}) },
      xaxis2: { title: { text: 'x' } },
      yaxis2: { title: { text: "f'(x)" }, ...(layout.dyRange ? { range: layout.dyRange } : {}) },
      shapes: bands.map((b) => ({
        type: 'rect',
        xref: 'x2',
        yref: 'paper',
        x0: b.from,
        x1: b.to,
        y0: 0,
        y1: 1,
        fillcolor: 'rgba(128,128,128,0.15)',
        line: { width: 0 },
      })),
      annotations: bands.map((b) => ({
        text: b.label,
        showarrow: false,
        xref: 'x2',
        yref: 'y2',
        x: (b.from + b.to) / 2,
        y: 0.5,
        font: { size: 11, color: 'gray' },
      })),
    },
  };
}
