/**
 * What the library reads from its host. It runs on node (notebooks, tests, tools) and in a browser's
 * Web Worker (the playground, dist/playground.html), where there is no `process`: no environment
 * variables, no terminal, no signals.
 */
const nodeProcess = typeof process === 'undefined' ? undefined : process;

/** An environment variable; undefined when it is unset or when there is no environment (a browser). */
export function envVar(name: string): string | undefined {
  return nodeProcess?.env[name];
}

/** Standard error, when it is a terminal (a progress bar can redraw its line there). */
export function terminal(): NodeJS.WriteStream | undefined {
  return nodeProcess?.stderr?.isTTY ? nodeProcess.stderr : undefined;
}

let machineMemory: number | undefined;

/**
 * The machine's memory in bytes (node's os.totalmem()); in a browser, what the page may assume (4 GiB).
 * Read once: every single training step checks its batch against it, and each read is a system call.
 */
export function totalMemory(): number {
  if (!nodeProcess) return 2 ** 32;
  // Required here, not imported: a browser bundle has no 'os'.
  machineMemory ??= (require('os') as { totalmem(): number }).totalmem();
  return machineMemory;
}
