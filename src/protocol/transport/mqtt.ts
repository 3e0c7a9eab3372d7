/**
 * The sync transport over MQTT 5 with TLS and a client certificate: the one place that loads the `mqtt` package
 * (lazily, at the first `open()`, so a camera that never docks never pays for it) and that holds the client options
 * both sides share: MQTT 5, the CA checked, clean start with no session kept after the connection (the outbox is in
 * SQLite, never in the broker), QoS 1 for every publish and subscription, the protocol's largest packet announced,
 * and a reconnect every second.
 */
import { readFile } from 'node:fs/promises';
import type { IClientOptions, MqttClient } from 'mqtt';
import { EventBus, type Unsubscribe } from '../../lib/event-bus.ts';
import { releaseNow } from '../../lib/memory.ts';
import { MAX_PACKET_BYTES } from '../limits.ts';
import type { ConnectInfo, PublishOptions, SubscribeOptions, SyncTransport, TransportEvents } from './port.ts';

export interface MqttTransportOptions {
  host: string;
  port: number;
  /** The name the broker's certificate must carry, when it is not `host` (a dock connecting to its own address). */
  servername?: string;
  /**
   * The client id. The dock's broker replaces it with the certificate's CN (`use_username_as_clientid`); each side
   * gives that CN anyway, so nobody can take over another's connection.
   */
  clientId: string;
  /** PEM files: the CA to trust, the client certificate and its key; read at each `open()`. */
  tls: { ca: string; cert: string; key: string };
  /** Between reconnect attempts (default 1 s). */
  reconnectMs?: number;
  /** An attempt that has not connected by then is given up and tried again (default: mqtt's 30 s). */
  connectTimeoutMs?: number;
}

/** Options of the mqtt client for these settings and credentials (pure: tested as data). */
export function mqttClientOptions(
  o: MqttTransportOptions,
  credentials: { ca: Buffer; cert: Buffer; key: Buffer },
): IClientOptions {
  return {
    protocol: 'mqtts',
    host: o.host,
    port: o.port,
    ...(o.servername === undefined ? {} : { servername: o.servername }),
    protocolVersion: 5,
    clientId: o.clientId,
    ...credentials,
    rejectUnauthorized: true,
    reconnectPeriod: o.reconnectMs ?? 1000,
    ...(o.connectTimeoutMs === undefined ? {} : { connectTimeout: o.connectTimeoutMs }),
    // Clean start, and the session ends with the connection (expiry 0): nothing of ours waits in the broker.
    clean: true,
    // No table of the 65,536 two-byte numbers mqtt-packet would otherwise make at the first packet and keep for the
    // process's life (65,536 Buffers, ~7 MB of V8 heap on a camera that has docked once); a number is written as it
    // comes instead, a few bytes per packet.
    writeCache: false,
    properties: {
      sessionExpiryInterval: 0,
      // The broker sends nothing larger; a larger packet would not be a message of ours.
      maximumPacketSize: MAX_PACKET_BYTES,
    },
  };
}

export class MqttTransport implements SyncTransport {
  readonly #o: MqttTransportOptions;
  readonly #events = new EventBus<TransportEvents>();
  #client: MqttClient | null = null;
  #info: ConnectInfo | null = null;

  constructor(options: MqttTransportOptions) {
    this.#o = options;
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  get info(): ConnectInfo | null {
    return this.connected ? this.#info : null;
  }

  on<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  async open(): Promise<void> {
    if (this.#client !== null) return;
    const { tls } = this.#o;
    const [ca, cert, key] = await Promise.all([readFile(tls.ca), readFile(tls.cert), readFile(tls.key)]);
    const { connect } = await import('mqtt');
    if (this.#client !== null) return;
    const client = connect(mqttClientOptions(this.#o, { ca, cert, key }));
    this.#client = client;
    const current = () => this.#client === client;
    client.on('connect', (connack) => {
      if (!current()) return;
      this.#info = { retainAvailable: connack.properties?.retainAvailable !== false };
      this.#events.emit('connect', this.#info);
    });
    client.on('close', () => {
      if (current() && !client.disconnecting) this.#events.emit('lost', undefined);
    });
    client.on('error', (err) => {
      if (current()) this.#events.emit('error', err);
    });
    client.on('message', (topic, payload, packet) => {
      if (!current()) return;
      const retained = packet.retain === true;
      this.#events.emit('message', { topic, payload, retained, headers: packet.properties?.userProperties });
    });
  }

  async close(options: { discard?: boolean } = {}): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#info = null;
    if (client !== null) await client.endAsync(options.discard === true).catch(() => undefined);
  }

  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): void {
    const acknowledged = options.acknowledged;
    if (this.#client === null) return;
    this.#client.publish(
      topic,
      payload,
      {
        qos: 1,
        ...(options.retain === true ? { retain: true } : {}),
        ...(options.headers === undefined ? {} : { properties: { userProperties: { ...options.headers } } }),
      },
      // Once the PUBACK has taken the message out of its store (or with the error that lost it), mqtt.js calls back
      // with the stored packet: a deep copy it made of the message, payload and all. It is done with that copy now,
      // so its memory goes back at once instead of at V8's next major collection (src/lib/memory.ts).
      (error, stored) => {
        if (error) return;
        const copy = stored !== undefined && 'payload' in stored ? stored.payload : undefined;
        if (Buffer.isBuffer(copy) && copy !== payload) releaseNow(copy);
        acknowledged?.();
      },
    );
  }

  async subscribe(filters: readonly string[], options: SubscribeOptions = {}): Promise<void> {
    const client = this.#client;
    if (client === null) return;
    await client.subscribeAsync([...filters], { qos: 1, ...(options.noLocal === true ? { nl: true } : {}) });
  }
}
