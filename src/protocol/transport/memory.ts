/**
 * The in-memory sync transport: a client of a MemoryBroker (memory-broker.ts) under a user name (as a certificate's
 * CN would give it), reconnecting on the Clock port like the MQTT transport does on real time. Messages published
 * while the connection is down wait for the next one, as mqtt's offline queue keeps them; `close()` drops them.
 */
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { EventBus, type Unsubscribe } from '../../lib/event-bus.ts';
import type { BrokerClient, MemoryBroker } from './memory-broker.ts';
import type {
  ConnectInfo,
  InboundMessage,
  PublishOptions,
  SubscribeOptions,
  SyncTransport,
  TransportEvents,
} from './port.ts';

export interface MemoryTransportOptions {
  broker: MemoryBroker;
  /** The user name it presents: a camera's device id, or the dock agent's `dock`. */
  user: string;
  clock: Clock;
  /** Between reconnect attempts (default 1 s, as the MQTT transport). */
  reconnectMs?: number;
}

export class MemoryTransport implements SyncTransport, BrokerClient {
  readonly user: string;
  readonly #o: MemoryTransportOptions;
  readonly #events = new EventBus<TransportEvents>();
  #wanted = false;
  #info: ConnectInfo | null = null;
  #retry: TimerHandle | null = null;
  #queue: Array<{ topic: string; payload: Buffer; options: PublishOptions }> = [];

  constructor(options: MemoryTransportOptions) {
    this.#o = options;
    this.user = options.user;
  }

  get connected(): boolean {
    return this.#info !== null;
  }

  get info(): ConnectInfo | null {
    return this.#info;
  }

  on<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  async open(): Promise<void> {
    if (this.#wanted) return;
    this.#wanted = true;
    this.#attempt();
  }

  async close(): Promise<void> {
    this.#wanted = false;
    this.#queue = [];
    if (this.#retry !== null) this.#o.clock.clearTimeout(this.#retry);
    this.#retry = null;
    if (this.#info !== null) this.#o.broker.disconnect(this);
    this.#info = null;
  }

  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): void {
    if (!this.#wanted) return;
    // A copy, as bytes on a wire are: the sender may release its Buffer once the message is acknowledged.
    const bytes = Buffer.from(payload);
    if (this.#info === null) this.#queue.push({ topic, payload: bytes, options });
    else this.#send(topic, bytes, options);
  }

  async subscribe(filters: readonly string[], options: SubscribeOptions = {}): Promise<void> {
    if (this.#info === null) return;
    this.#o.broker.subscribe(this, filters, options.noLocal === true);
    await turn(); // the broker's answer comes back over the wire
  }

  deliver(message: InboundMessage): void {
    if (this.#info !== null) this.#events.emit('message', message);
  }

  dropped(): void {
    if (this.#info === null) return;
    this.#info = null;
    this.#events.emit('lost', undefined);
    this.#later();
  }

  /** A connection attempt, one event-loop turn later (a connection is never made inside the call that asks). */
  #attempt(): void {
    setImmediate(() => {
      if (!this.#wanted || this.#info !== null) return;
      const info = this.#o.broker.connect(this);
      if (info === null) {
        this.#events.emit('lost', undefined);
        this.#later();
        return;
      }
      this.#info = info;
      for (const m of this.#queue.splice(0)) this.#send(m.topic, m.payload, m.options);
      this.#events.emit('connect', info);
    });
  }

  /**
   * To the broker; acknowledged one event-loop turn later, as a PUBACK comes back over a wire, when the broker took
   * the message and kept this connection (it cuts off a bad sender).
   */
  #send(topic: string, payload: Buffer, options: PublishOptions): void {
    this.#o.broker.publish(this, topic, payload, options);
    const acknowledged = options.acknowledged;
    if (acknowledged !== undefined && this.#info !== null) setImmediate(acknowledged);
  }

  #later(): void {
    if (!this.#wanted || this.#retry !== null) return;
    this.#retry = this.#o.clock.setTimeout(() => {
      this.#retry = null;
      this.#attempt();
    }, this.#o.reconnectMs ?? 1000);
  }
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
