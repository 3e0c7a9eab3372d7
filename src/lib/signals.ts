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
