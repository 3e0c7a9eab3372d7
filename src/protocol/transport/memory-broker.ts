/**
 * A broker in memory, the stand-in for the dock's Mosquitto in tests of the sync protocol on the fake clock. It keeps
 * the rules the real one is configured with: the ACL of src/protocol/acl.ts checked on every publish and every
 * delivery (a denied publish is dropped, a subscription is granted but brings nothing the client may not read), one
 * connection per user name (a second one takes over: the first is disconnected), no packet over the protocol's
 * largest (the sender is disconnected), no retained messages unless asked (a client publishing one is
 * disconnected), no local, and clean sessions (a dropped connection loses its subscriptions and what was on its way
 * to it). Deliveries go one event-loop turn later, in order per recipient, never on a timer.
 *
 * Faults for tests: `stop()`/`start()` (the broker down, every client cut off), `drop(user)` (one connection lost),
 * `duplicate` (a delivery made twice) and `reorder` (a delivery held back and made after the next one to the same
 * client); `tap` sees every delivery as it is made.
 */
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { ACL, type AclRule, aclAllows } from '../acl.ts';
import { MAX_PACKET_BYTES } from '../limits.ts';
import { topicMatches } from '../topics.ts';
import type { ConnectInfo, InboundMessage, PublishOptions } from './port.ts';

/** The broker's side of a client (memory.ts). */
export interface BrokerClient {
  /** The user name it presents (a certificate's CN): the ACL's `%u`, and its client id. */
  readonly user: string;
  deliver(message: InboundMessage): void;
  /** The broker ended its connection. */
  dropped(): void;
}

/** One message on its way to one client. */
export interface Delivery {
  from: string;
  to: string;
  topic: string;
  payload: Buffer;
  headers: Readonly<Record<string, string>> | undefined;
  retained: boolean;
}

export interface MemoryBrokerOptions {
  clock: Clock;
  /** Default: the protocol's (src/protocol/acl.ts), as the dock's Mosquitto is configured. */
  acl?: readonly AclRule[];
  /** Default: MAX_PACKET_BYTES, the dock broker's `max_packet_size`. */
  maxPacketBytes?: number;
  /** Default false, as the dock's broker (`retain_available false`). */
  retainAvailable?: boolean;
}

interface Session {
  client: BrokerClient;
  subscriptions: Array<{ filter: string; noLocal: boolean }>;
  held: Delivery | null;
  heldTimer: TimerHandle | null;
}

/** How long a reordered delivery waits for another to overtake it. */
const HOLD_MS = 50;

export class MemoryBroker {
  /** Makes this delivery twice. */
  duplicate: ((d: Delivery) => boolean) | null = null;
  /** Holds this delivery back until the next one to the same client has been made (or HOLD_MS has passed). */
  reorder: ((d: Delivery) => boolean) | null = null;
  /** Sees every delivery as it is made. */
  tap: ((d: Delivery) => void) | null = null;
  /** Publishes the ACL refused (Mosquitto answers them "Not authorized"). */
  readonly denied: Array<{ user: string; topic: string }> = [];
  readonly #o: MemoryBrokerOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #retained = new Map<string, Delivery>();
  #up = true;
  #inFlight = 0;

  constructor(options: MemoryBrokerOptions) {
    this.#o = options;
  }

  /** No delivery is on its way. */
  get idle(): boolean {
    return this.#inFlight === 0 && [...this.#sessions.values()].every((s) => s.held === null);
  }

  /** Users connected now. */
  get users(): string[] {
    return [...this.#sessions.keys()];
  }

  /** Down: every connection is cut and none accepted until `start()`. */
  stop(): void {
    this.#up = false;
    for (const s of [...this.#sessions.values()]) this.#kick(s);
  }

  start(): void {
    this.#up = true;
  }

  /** The connection of `user` is lost (a cable pulled); its client reconnects by itself. */
  drop(user: string): void {
    const s = this.#sessions.get(user);
    if (s !== undefined) this.#kick(s);
  }

  /** A client connects; null when the broker is down. A client already connected with that name is cut off. */
  connect(client: BrokerClient): ConnectInfo | null {
    if (!this.#up) return null;
    const old = this.#sessions.get(client.user);
    if (old !== undefined) this.#kick(old);
    this.#sessions.set(client.user, { client, subscriptions: [], held: null, heldTimer: null });
    return { retainAvailable: this.#o.retainAvailable === true };
  }

  disconnect(client: BrokerClient): void {
    const s = this.#current(client);
    if (s !== undefined) this.#end(s);
  }

  subscribe(client: BrokerClient, filters: readonly string[], noLocal: boolean): void {
    const s = this.#current(client);
    if (s === undefined) return;
    for (const filter of filters) {
      s.subscriptions = s.subscriptions.filter((x) => x.filter !== filter);
      s.subscriptions.push({ filter, noLocal });
      for (const r of this.#retained.values()) {
        if (topicMatches(filter, r.topic) && this.#mayRead(client.user, r.topic))
          this.#route(s, { ...r, to: client.user });
      }
    }
  }

  publish(client: BrokerClient, topic: string, payload: Buffer, options: PublishOptions = {}): void {
    const s = this.#current(client);
    if (s === undefined) return;
    const headers = options.headers === undefined ? undefined : { ...options.headers };
    const headerBytes = Object.entries(headers ?? {}).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
    if (payload.length + Buffer.byteLength(topic) + headerBytes + 8 > (this.#o.maxPacketBytes ?? MAX_PACKET_BYTES)) {
      this.#kick(s);
      return;
    }
    if (options.retain === true && this.#o.retainAvailable !== true) {
      this.#kick(s);
      return;
    }
    if (!aclAllows(client.user, topic, 'publish', this.#o.acl ?? ACL)) {
      this.denied.push({ user: client.user, topic });
      return;
    }
    const message = { from: client.user, topic, payload, headers };
    if (options.retain === true) {
      if (payload.length === 0) this.#retained.delete(topic);
      else this.#retained.set(topic, { ...message, to: '', retained: true });
    }
    for (const t of this.#sessions.values()) {
      const sub = t.subscriptions.find((x) => topicMatches(x.filter, topic));
      if (sub === undefined || (sub.noLocal && t === s) || !this.#mayRead(t.client.user, topic)) continue;
      this.#route(t, { ...message, to: t.client.user, retained: false });
    }
  }

  #mayRead(user: string, topic: string): boolean {
    return aclAllows(user, topic, 'subscribe', this.#o.acl ?? ACL);
  }

  #current(client: BrokerClient): Session | undefined {
    const s = this.#sessions.get(client.user);
    return s?.client === client ? s : undefined;
  }

  /** Faults first: a delivery may be doubled, or held back for the next one to overtake. */
  #route(s: Session, d: Delivery): void {
    const copies = this.duplicate?.(d) === true ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (s.held === null && this.reorder?.(d) === true) {
        s.held = d;
        s.heldTimer = this.#o.clock.setTimeout(() => this.#release(s), HOLD_MS);
        continue;
      }
      this.#send(s, d);
      this.#release(s);
    }
  }

  #release(s: Session): void {
    const held = s.held;
    if (held === null) return;
    s.held = null;
    if (s.heldTimer !== null) this.#o.clock.clearTimeout(s.heldTimer);
    s.heldTimer = null;
    this.#send(s, held);
  }

  #send(s: Session, d: Delivery): void {
    this.#inFlight += 1;
    setImmediate(() => {
      this.#inFlight -= 1;
      if (this.#sessions.get(s.client.user) !== s) return; // that connection is gone, and the message with it
      this.tap?.(d);
      s.client.deliver({ topic: d.topic, payload: d.payload, retained: d.retained, headers: d.headers });
    });
  }

  #end(s: Session): void {
    if (s.heldTimer !== null) this.#o.clock.clearTimeout(s.heldTimer);
    s.held = null;
    s.heldTimer = null;
    if (this.#sessions.get(s.client.user) === s) this.#sessions.delete(s.client.user);
  }

  #kick(s: Session): void {
    this.#end(s);
    s.client.dropped();
  }
}
