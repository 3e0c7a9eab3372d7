/**
 * A typed, synchronous event bus: one map of event names to payload types (`M`), `on`/`emit` pairs, and
 * listeners removed by the function `on` returns. `emit` runs every listener before it returns, in subscription
 * order, and allocates nothing: the per-fragment path of the camera goes through it at every GOP. Subscribing and
 * unsubscribing copy the listener list instead (copy-on-write), so a listener may unsubscribe while an emit runs.
 *
 * A listener that throws does not stop the others or the emitter: its error goes to `onListenerError` (the
 * composition root logs it and counts it in status). A bug in one component must not stop the recording.
 */

export type Listener<T> = (payload: T) => void;
export type Unsubscribe = () => void;

export class EventBus<M extends object> {
  readonly #listeners = new Map<keyof M, ReadonlyArray<Listener<never>>>();
  #onListenerError: (event: string, error: unknown) => void;

  constructor(options: { onListenerError?: (event: string, error: unknown) => void } = {}) {
    this.#onListenerError =
      options.onListenerError ??
      ((event, error) => {
        throw new Error(`listener of ${event} failed`, { cause: error });
      });
  }

  /** Where listener errors go; the composition root points this at its logger. */
  set onListenerError(handler: (event: string, error: unknown) => void) {
    this.#onListenerError = handler;
  }

  on<K extends keyof M>(event: K, listener: Listener<M[K]>): Unsubscribe {
    const list = this.#listeners.get(event) ?? [];
    this.#listeners.set(event, [...list, listener as Listener<never>]);
    let subscribed = true;
    return () => {
      // Once only: the same function subscribed twice is two subscriptions, and a second call must not end the other.
      if (!subscribed) return;
      subscribed = false;
      const now = this.#listeners.get(event) ?? [];
      const i = now.indexOf(listener as Listener<never>);
      if (i < 0) return;
      const next = [...now.slice(0, i), ...now.slice(i + 1)];
      if (next.length === 0) this.#listeners.delete(event);
      else this.#listeners.set(event, next);
    };
  }

  emit<K extends keyof M>(event: K, payload: M[K]): void {
    const list = this.#listeners.get(event) as ReadonlyArray<Listener<M[K]>> | undefined;
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as Listener<M[K]>)(payload);
      } catch (e) {
        this.#onListenerError(String(event), e);
      }
    }
  }

  listenerCount(event: keyof M): number {
    return this.#listeners.get(event)?.length ?? 0;
  }
}

/** A component's subscriptions, dropped together in its `stop()`. */
export class Subscriptions<M extends object> {
  readonly #bus: EventBus<M>;
  #offs: Unsubscribe[] = [];

  constructor(bus: EventBus<M>) {
    this.#bus = bus;
  }

  on<K extends keyof M>(event: K, listener: Listener<M[K]>): void {
    this.#offs.push(this.#bus.on(event, listener));
  }

  clear(): void {
    for (const off of this.#offs.splice(0)) off();
  }
}
