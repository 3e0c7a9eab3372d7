/**
 * The parts of a program (camera daemon, dock station), started in dependency order and stopped in reverse: the
 * one place that owns that order for every composition root. A part that fails to stop is logged and the others
 * still stop, so one broken part never leaves a child process or an open index behind.
 */
import type { Logger } from './logger.ts';

/** A long-lived component: `start()` subscribes and starts its work, `stop()` undoes all of it. */
export interface Component {
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Started {
  name: string;
  stop: () => Promise<void> | void;
}

export class Lifecycle {
  readonly #log: Logger;
  readonly #started: Started[] = [];

  constructor(logger: Logger) {
    this.#log = logger;
  }

  /** Starts `component`; once it has started it is stopped with the rest (one that fails to start is not). */
  async start(name: string, component: Component): Promise<void> {
    await component.start();
    this.#started.push({ name, stop: () => component.stop() });
  }

  /** Something already running (an open index, a store) that `stop` ends with the rest, in its turn. */
  add(name: string, stop: () => Promise<void> | void): void {
    this.#started.push({ name, stop });
  }

  /** Stops every part in reverse order of starting; a failure is logged and the rest still stop. */
  async stop(): Promise<void> {
    for (const part of this.#started.splice(0).reverse()) {
      try {
        await part.stop();
      } catch (err) {
        this.#log.error({ part: part.name, err }, 'stopping a part failed');
      }
    }
  }
}
