/**
 * Work that must run one piece at a time, in the order it was queued (clips on one speaker, passes over the index,
 * messages to systemd, steps of one sync session): the one serial queue of the project. A piece that fails never
 * stops the ones after it; its failure goes to whoever queued it.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `op` once everything queued before it has settled; settles as `op` does. */
  run<T>(op: () => T | Promise<T>): Promise<T> {
    const turn = this.#tail.then(op);
    this.#tail = turn.catch(() => undefined);
    return turn;
  }

  /** Queues `op` without waiting for it; a failure goes to `onError` (which must not throw). */
  push(op: () => unknown, onError: (error: unknown) => void): void {
    this.run(op).catch(onError);
  }

  /** Settles once everything queued so far has settled (never rejects). */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
