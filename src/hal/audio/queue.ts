import { SerialQueue } from '../../lib/serial.ts';

/**
 * One clip at a time, in call order, for any audio driver. `cancel()` drops the turns still waiting (they reject
 * with the driver's "stopped" error); the driver ends the one playing itself.
 */
export class PlayQueue {
  readonly #queue = new SerialQueue();
  #generation = 0;

  /** Runs `play` after every earlier turn; `current()` tells it whether a cancel came since it was queued. */
  enqueue<T>(play: (current: () => boolean) => Promise<T>, stopped: () => Error): Promise<T> {
    const generation = this.#generation;
    const current = () => generation === this.#generation;
    return this.#queue.run(() => {
      if (!current()) throw stopped();
      return play(current);
    });
  }

  /** Drops the waiting turns; the returned promise settles once the queue has drained. */
  cancel(): Promise<void> {
    this.#generation++;
    return this.#queue.idle();
  }
}
