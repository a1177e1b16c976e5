/**
 * Kernel > Interrupt (SIGINT) for a long asynchronous loop in a tslab cell, such as `mm.train`'s.
 *
 * Why the loop does not simply call process.on('SIGINT', ...) when it starts: tslab runs the
 * synchronous part of a cell (up to its first `await`, so the start of the loop too) inside
 * vm.runInThisContext({ breakOnSigint: true }). When that call returns, Node 20 leaves SIGINT's
 * action at "exit the process" and sets up its own handler again only for the listeners that were
 * there before the call. A listener added during the call leaves it at "exit", and the next
 * interrupt kills the kernel, with every variable. So a watch listens only from its first check
 * after a turn of the event loop, when that call is over.
 *
 * While a loop listens, the other SIGINT listeners (tslab's) are held back: tslab's would end the
 * cell at once with "Interrupted asynchronously" while the loop runs on to its next check, and the
 * loop's own error, which says where it stopped, would never be seen.
 */

type Listener = (...args: unknown[]) => void;

/** The loops listening now, and the listeners held back while they do. */
const watching = new Set<() => void>();
let heldBack: Listener[] = [];
const dispatch = () => watching.forEach((notify) => notify());

function listen(notify: () => void): void {
  if (watching.size === 0) {
    heldBack = process.rawListeners('SIGINT') as Listener[];
    // Ours first: for the moment SIGINT had no listener at all, its action would be "exit".
    process.on('SIGINT', dispatch);
    heldBack.forEach((listener) => process.removeListener('SIGINT', listener));
  }
  watching.add(notify);
}

function unlisten(notify: () => void): void {
  if (!watching.delete(notify) || watching.size > 0) return;
  heldBack.forEach((listener) => process.on('SIGINT', listener));
  heldBack = [];
  process.removeListener('SIGINT', dispatch);
}

export interface InterruptWatch {
  /**
   * True once an interrupt has arrived. Call it at every step of the loop: it starts listening at
   * the first call after a turn of the event loop (the loop must yield to receive signals anyway).
   */
  requested(): boolean;
  /** Stop listening (in a `finally`); the listeners held back come back. */
  stop(): void;
}

/** Watch for Kernel > Interrupt during a loop that yields to the event loop now and then. */
export function watchInterrupt(): InterruptWatch {
  let asked = false;
  let outsideVm = false;
  let listening = false;
  let stopped = false;
  const notify = () => {
    asked = true;
  };
  // Nothing is installed from this callback: if the cell's synchronous part is cut short by an
  // interrupt (its `finally` blocks do not run then), no listener is left behind.
  const tick = setImmediate(() => {
    outsideVm = true;
  });
  return {
    requested() {
      if (outsideVm && !listening && !stopped) {
        listen(notify);
        listening = true;
      }
      return asked;
    },
    stop() {
      stopped = true;
      clearImmediate(tick);
      if (listening) unlisten(notify);
      listening = false;
    },
  };
}
