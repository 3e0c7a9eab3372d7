/**
 * The stop signals a long-running program (camera daemon, dock station) obeys. Listen before starting: a SIGTERM that
 * arrives while the program starts then stops it cleanly once it has started, instead of killing it half-way (the
 * default action of a signal nobody listens for).
 */
export interface StopSignal {
  /** Settles with the first SIGTERM or SIGINT received. */
  readonly received: Promise<NodeJS.Signals>;
  /** Stops listening (the default action applies again). */
  dispose(): void;
}

export function listenForStop(signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT']): StopSignal {
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const dispose = () => {
    for (const s of signals) process.off(s, onSignal);
  };
  const received = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (signal) => {
      dispose();
      resolve(signal);
    };
  });
  for (const s of signals) process.on(s, onSignal);
  return { received, dispose };
}

/** How long a program may linger once it has stopped everything it owns (default for `exitOnceStopped`). */
export const LINGER_MS = 2000;

/**
 * Called once a program has stopped every part it owns: if something it does not own still holds the event loop (a
 * native library's thread-safe callback, a socket a library forgot), the process would never end, and systemd would
 * wait its whole stop timeout and then kill it. After `lingerMs` this logs what is still open and exits with the
 * process's exit code. The timer is unref'd: a process that ends by itself never sees it.
 */
export function exitOnceStopped(
  log: { warn(obj: object, msg: string): void },
  lingerMs = LINGER_MS,
  exit: (code: number) => void = (code) => process.exit(code),
): NodeJS.Timeout {
  const timer = setTimeout(() => {
    // What holds the loop (this timer is unref'd, so not among them).
    const open = process.getActiveResourcesInfo();
    log.warn({ open, lingerMs }, `still running ${lingerMs} ms after a clean stop; exiting`);
    exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  }, lingerMs);
  timer.unref();
  return timer;
}
