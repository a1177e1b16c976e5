/** A real kernel session for tests: test/helpers/kernel_session.py starts the makemore-ts kernel through Jupyter and runs the steps. */
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NAMES_FILE, ROOT } from './paths';

const { venvPython, jupyterEnv } = require('../../tools/common');

export interface KernelOutput {
  type: string;
  name?: string;
  text?: string;
  data?: Record<string, string>;
  ename?: string;
  evalue?: string;
  display_id?: string;
  time?: number;
}
/** A status message of the kernel: busy or idle, for cell `cell` of a run_all step or for another request (`request`), sent at `time` (s). */
export interface KernelStatus {
  state: string;
  cell: number | null;
  request?: string;
  time: number;
}
export interface KernelResult {
  status: string;
  exit_code?: number;
  seconds_after_interrupt?: number;
  outputs: KernelOutput[];
  /** run_all steps: each cell's outputs, every status message, and the completion's matches. */
  cells?: KernelOutput[][];
  statuses?: KernelStatus[];
  completion?: string[] | null;
}

/** Run `steps` ({execute}, {write, text}, {execute, interrupt_after}, {run_all, complete_during}) in one kernel; `env` adds to the kernel's environment. */
export function kernelSession(
  steps: object[],
  env: Record<string, string> = {},
  timeoutMs = 5 * 60 * 1000,
): KernelResult[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'makemore-session-'));
  const out = path.join(dir, 'results.json');
  try {
    const r = spawnSync(venvPython(), [path.join(ROOT, 'test', 'helpers', 'kernel_session.py'), out], {
      cwd: ROOT,
      input: JSON.stringify(steps),
      encoding: 'utf8',
      timeout: timeoutMs,
      env: jupyterEnv({ MAKEMORE_NAMES: process.env.MAKEMORE_NAMES ?? NAMES_FILE, ...env }),
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Everything a step printed or displayed, as text. */
export const outputText = (r: KernelResult) =>
  r.outputs.map((o) => o.text ?? o.data?.['text/plain'] ?? o.evalue ?? '').join('');
