/**
 * The sync transport port: what a camera's or the dock's side of the protocol needs from a publish/subscribe
 * connection to the dock's broker, in the protocol's own terms. Every message goes at least once (MQTT QoS 1), in
 * order per sender, but may come twice, late, or not at all when the connection drops; the protocol copes with each.
 *
 * Drivers, side by side: `mqtt.ts` (MQTT 5 over TLS with a client certificate: the only module that loads the `mqtt`
 * package) and `memory.ts` (a client of the in-memory broker in `memory-broker.ts`, for tests on the fake clock).
 * Whoever builds a transport owns it: the camera's and the dock's composition roots build one and hand it over; the
 * sync components open and close connections on it, and never build one.
 */
import type { Unsubscribe } from '../../lib/event-bus.ts';

/** Named text fields beside a payload (MQTT 5 user properties); a name given twice arrives as a list. */
export type Headers = Readonly<Record<string, string | string[]>>;

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  /** Kept by the broker and replayed to a new subscriber (MQTT retain): no message of the protocol is. */
  retained: boolean;
  headers: Headers | undefined;
}

export interface PublishOptions {
  headers?: Readonly<Record<string, string>>;
  /**
   * Ask the broker to keep it for later subscribers: only to clear one (an empty payload), and for the dock's fleet
   * status (src/dock/fleet-publisher.ts) where the broker keeps retained messages.
   */
  retain?: boolean;
  /**
   * Called once the broker has acknowledged the message, never when it is lost. From then on the transport reads
   * `payload` no more, so its owner may give its memory back at once (src/lib/memory.ts `releaseNow`) rather than at
   * some later garbage collection: the camera does so with each chunk of footage it offloads.
   */
  acknowledged?: () => void;
}

export interface SubscribeOptions {
  /** Our own messages on these topics are not sent back to us (MQTT 5 no local). */
  noLocal?: boolean;
}

/** What the broker said when it accepted the connection. */
export interface ConnectInfo {
  /** It keeps retained messages (MQTT 5 `retainAvailable`, true unless it says otherwise). */
  retainAvailable: boolean;
}

export interface TransportEvents {
  /** Connected (again): subscriptions are gone (clean start) and must be made anew. */
  connect: ConnectInfo;
  /** The connection, or an attempt at one, ended without `close()`; the transport tries again by itself. */
  lost: undefined;
  message: InboundMessage;
  /** Something went wrong with the connection (logged by its owner; the transport carries on). */
  error: Error;
}

export interface SyncTransport {
  /**
   * Starts connecting, and reconnecting after every loss, until `close()`. Resolves once under way (not once
   * connected: `connect` says that); rejects when it cannot even try (its credentials cannot be read).
   */
  open(): Promise<void>;
  /**
   * Ends the connection and stops reconnecting; `open()` may start again later. Messages published before are sent
   * first unless `discard` (then they may be lost, as in a pulled plug).
   */
  close(options?: { discard?: boolean }): Promise<void>;
  /** Connected now. */
  readonly connected: boolean;
  /** What the broker said at this connection; null when not connected. */
  readonly info: ConnectInfo | null;
  /** Sends a message; while the connection is down it waits for the next one (and may be lost with it). */
  publish(topic: string, payload: Buffer | string, options?: PublishOptions): void;
  /** Subscribes to topic filters (`+`, `#`); resolves when the broker has answered. */
  subscribe(filters: readonly string[], options?: SubscribeOptions): Promise<void>;
  on<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void): Unsubscribe;
}
