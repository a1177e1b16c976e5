/**
 * How far training is, as the lecture prints it (`formatStep`) and while it runs (`Progress`): a line
 * and a live loss chart in a notebook, a bar on a terminal.
 */
import { LiveOutput, inNotebook } from '../viz/display';
import { terminal } from '../env/host';
import { LiveLossChart } from '../viz/livechart';

/** `f'{i:7d}/{max_steps:7d}: {loss:.4f}'`, the lecture's progress print. */
export function formatStep(step: number, steps: number, loss: number): string {
  return `${String(step).padStart(7)}/${String(steps).padStart(7)}: ${loss.toFixed(4)}`;
}

/**
 * Shows how far training is: in a notebook a line and a loss chart (lib/viz/livechart.ts) that update in
 * place, a bar on a terminal, nothing otherwise.
 *
 * In a notebook each call sends at most one message, and the training loop lets the event loop turn
 * after it: the kernel's socket refuses a second send while it holds back the first (see LiveOutput).
 * So the chart goes out a quarter of a second after the line, each of them at most twice a second.
 */
export class Progress {
  private readonly live = inNotebook() ? new LiveOutput() : undefined;
  private readonly tty = this.live ? undefined : terminal();
  private readonly chart: LiveLossChart | undefined;
  private readonly t0 = Date.now();
  private last = 0;
  private chartDue = false;

  constructor(
    private readonly steps: number,
    private readonly enabled: boolean,
  ) {
    this.chart = this.live && enabled ? new LiveLossChart(steps) : undefined;
  }

  /** Show the step (at most twice a second, and always when forced); true if something was shown. */
  update(step: number, loss: number, force = false): boolean {
    if (!this.enabled || (!this.live && !this.tty)) return false;
    this.chart?.add(loss);
    const now = Date.now();
    if (this.chartDue && !force && now - this.last >= 250) {
      this.chartDue = !this.chart!.show(false);
      return true;
    }
    if (!force && now - this.last < 500) return false;
    this.last = now;
    const done = step + 1;
    const frac = done / this.steps;
    const msPerStep = (now - this.t0) / done;
    const eta = Math.round((msPerStep * (this.steps - done)) / 1000);
    const bar = '#'.repeat(Math.round(frac * 30)).padEnd(30, '.');
    const line =
      `step ${done.toLocaleString('en')}/${this.steps.toLocaleString('en')} [${bar}] ${(frac * 100).toFixed(0)}%  ` +
      `loss ${loss.toFixed(4)}  ${msPerStep.toFixed(2)} ms/step  ${done === this.steps ? 'done' : `${eta} s left`}`;
    if (this.live && done < this.steps) {
      this.chartDue = this.live.update({ 'text/plain': line }) && this.chart !== undefined;
    } else if (this.live) this.finish(line);
    else this.tty!.write(`\r${line}${done === this.steps ? '\n' : ''}`);
    return true;
  }

  /**
   * The last line, then the final figure at the next turn of the event loop: its setImmediate comes
   * before the one the training loop awaits, so the figure is sent before training returns. Each is
   * tried again shortly while the socket is busy.
   */
  private finish(line: string, tries = 20): void {
    if (!this.live!.update({ 'text/plain': line }) && tries > 1) setTimeout(() => this.finish(line, tries - 1), 10);
    else if (this.chart) setImmediate(() => this.chart!.showFinal());
  }
}
