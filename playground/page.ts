/**
 * The playground page: reads the settings, runs the training in a Web Worker (worker.ts, inlined
 * in the page by tools/build-playground.ts) and draws what it sends. Nothing heavy runs here, so the
 * page stays responsive while the worker trains.
 */
import type { FromWorker, Pictures, ToWorker } from './messages';
import { DEFAULTS, SettingsForm, readSettings } from './settings';

/** The worker's bundle, as text: put here by tools/build-playground.ts. */
declare const WORKER_SOURCE: string;
/** plotly.js-dist-min, inlined in the page before this script. */
declare const Plotly: { react(div: HTMLElement, data: object[], layout: object, config: object): Promise<unknown> };

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = byId<HTMLFormElement>('settings');
const stopButton = byId<HTMLButtonElement>('stop');
const message = byId<HTMLDivElement>('message');
const status = byId<HTMLParagraphElement>('status');
const printed = byId<HTMLPreElement>('printed');
const PICTURES: (keyof Pictures)[] = ['forward', 'backward', 'weights', 'update', 'loss'];

type State = 'idle' | 'running' | 'stopping' | 'done' | 'stopped' | 'error';
/** On <body data-state>, for the eye (CSS) and for the browser test. */
function setState(state: State): void {
  document.body.dataset.state = state;
  stopButton.disabled = state !== 'running';
}

const input = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
const TEXT_FIELDS = ['gain', 'learningRate', 'hiddenLayers', 'hiddenWidth', 'steps', 'seed'] as const;
const CHECKBOXES = ['batchNorm', 'tanh'] as const;

function readForm(): SettingsForm {
  const values = { ...DEFAULTS };
  for (const name of TEXT_FIELDS) values[name] = input(name).value;
  for (const name of CHECKBOXES) values[name] = input(name).checked;
  return values;
}

function fillForm(values: SettingsForm): void {
  for (const name of TEXT_FIELDS) input(name).value = values[name];
  for (const name of CHECKBOXES) input(name).checked = values[name];
}

function showMessage(lines: string[]): void {
  message.textContent = lines.join('\n');
  message.hidden = lines.length === 0;
}

// One worker per run: a new run starts from nothing (no compiled step, no tensor of the last run).
let worker: Worker | undefined;
let workerUrl: string | undefined;
// The worker sends pictures a few times a second; only the newest are drawn.
let latest: Pictures | undefined;
const stale = new Set<keyof Pictures>();
let frameAsked = false;
// The state a finished run ends in, set once its last pictures are drawn (they go one per frame).
let whenDrawn: State | undefined;

function endRun(): void {
  worker?.terminate();
  worker = undefined;
}

/** Start a run from scratch with the form's settings; when they are wrong, say why instead. */
function startRun(): void {
  const read = readSettings(readForm());
  if ('errors' in read) {
    endRun();
    showMessage(read.errors);
    setState('error');
    return;
  }
  endRun();
  showMessage([]);
  printed.textContent = '';
  latest = undefined;
  whenDrawn = undefined;
  stale.clear();
  for (const name of PICTURES) byId(name).replaceChildren();
  workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(workerUrl);
  w.onmessage = (event: MessageEvent<FromWorker>) => {
    if (w === worker) receive(event.data);
  };
  w.onerror = (event) => {
    if (w === worker) fail(`The worker failed: ${event.message}`);
  };
  worker = w;
  send({ type: 'train', settings: read.settings });
  status.textContent = 'starting';
  setState('running');
}

const send = (m: ToWorker) => worker?.postMessage(m);

function fail(text: string): void {
  endRun();
  whenDrawn = undefined;
  showMessage([text]);
  status.textContent = 'stopped by an error';
  setState('error');
}

function receive(m: FromWorker): void {
  if (m.type === 'status') status.textContent = m.text;
  else if (m.type === 'print') printed.textContent += m.text + '\n';
  else if (m.type === 'progress') {
    status.textContent =
      `step ${m.done.toLocaleString('en')} of ${m.steps.toLocaleString('en')}` +
      (m.msPerStep > 0 ? ` · ${m.msPerStep.toFixed(2)} ms per step` : '');
    draw(m.pictures);
  } else if (m.type === 'finished') {
    status.textContent =
      `${m.stopped ? 'stopped after' : 'done:'} ${m.done.toLocaleString('en')} of ` +
      `${m.steps.toLocaleString('en')} steps in ${m.seconds.toFixed(1)} s`;
    endRun();
    if (stale.size === 0) setState(m.stopped ? 'stopped' : 'done');
    else whenDrawn = m.stopped ? 'stopped' : 'done';
  } else if (m.type === 'error') fail(m.message);
}

function draw(pictures: Pictures): void {
  latest = pictures;
  PICTURES.forEach((name) => stale.add(name));
  askFrame();
}

// Plotly takes 50 to 300 ms to redraw one of these figures on a slow machine: one figure per frame,
// so that clicks and typing get in between.
function askFrame(): void {
  if (frameAsked || stale.size === 0) return;
  frameAsked = true;
  requestAnimationFrame(() => {
    frameAsked = false;
    const name = PICTURES.find((n) => stale.has(n));
    if (!latest || !name) return;
    stale.delete(name);
    const { data, layout } = latest[name];
    Plotly.react(
      byId(name),
      data,
      { ...layout, height: 340, margin: { t: 40, r: 10, b: 40, l: 60 }, legend: { font: { size: 10 } } },
      { displaylogo: false, responsive: true },
    );
    if (stale.size === 0 && whenDrawn) {
      setState(whenDrawn);
      whenDrawn = undefined;
    }
    askFrame();
  });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  startRun();
});
stopButton.addEventListener('click', () => {
  send({ type: 'stop' });
  status.textContent += ' · stopping after the current steps';
  setState('stopping');
});
// A setting changed during a run: run again from scratch with the new settings.
form.addEventListener('change', () => {
  const state = document.body.dataset.state;
  if (state === 'running' || state === 'stopping') startRun();
  else {
    const read = readSettings(readForm());
    showMessage('errors' in read ? read.errors : []);
  }
});
byId<HTMLButtonElement>('defaults').addEventListener('click', () => {
  fillForm(DEFAULTS);
  showMessage([]);
});

fillForm(DEFAULTS);
setState('idle');
