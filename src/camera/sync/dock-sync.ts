/**
 * The camera's side of dock sync. While the dock-sense line says docked, the camera opens the transport it was handed
 * (MQTT 5 over TLS to the dock's broker, with its client certificate), says hello, offers its inventory and answers
 * the dock's pulls; the dock drives the transfer. Undocking closes the connection and ends the session; nothing on
 * the camera changes except on a receipt the dock signed.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../../hal/clock/port.ts';
import { Subscriptions, type Unsubscribe } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import { SerialQueue } from '../../lib/serial.ts';
import { checkAuditPull, checkPull, checkRefusal, checkRefusals, checkTime, parseJson } from '../../protocol/checks.ts';
import { MAX_DOCKING_RECORD_BYTES } from '../../protocol/limits.ts';
import { PROTOCOL, type UpdatePull } from '../../protocol/messages.ts';
import { cameraSubscriptions, DOCK_HELLO_TOPIC, parseTopic, upTopic } from '../../protocol/topics.ts';
import type { InboundMessage, SyncTransport } from '../../protocol/transport/port.ts';
import { type UndockReadiness, undockReadiness } from '../../protocol/undock.ts';
import type { CameraBus, CameraEvents } from '../events.ts';
import { takeUpdateMessage } from '../update/inbound.ts';
import type { Updater } from '../update/updater.ts';
import { ChunkSender } from './chunk-sender.ts';
import type { HeldAtDock, Offload } from './offload.ts';

export interface DockSyncOptions {
  bus: CameraBus;
  device: string;
  keyId: string;
  release: string;
  /** The connection to the dock's broker: opened while docked, closed when undocked; owned by whoever built it. */
  transport: SyncTransport;
  offload: Offload;
  /** The audit log's head: seq of the last entry appended (written or about to be), −1 when none. */
  auditHead: () => number;
  clock: Clock;
  logger: Logger;
  /** Signed updates delivered at the dock (config `update`); absent: none taken. */
  updates?: Updater;
  /** A full garbage collection, asked for as footage is handed over (chunk-sender.ts). */
  collectGarbage?: () => void;
}

export interface SyncStatus {
  docked: boolean;
  connected: boolean;
  offloaded: number;
  refused: number;
  /** Whether the camera may leave the dock now, and if not why (docs/officer-guide.md). */
  undock: UndockReadiness;
}

/** No pull for this long while connected: offer the inventory again (a dock that restarted, a lost message). */
const IDLE_REOFFER_MS = 15_000;
/** After a stop, a receipt or a new audit line while docked: offered again this soon (one offer for a burst). */
const TAIL_OFFER_MS = 300;

export class DockSync {
  readonly #o: DockSyncOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #offTransport: Unsubscribe[] = [];
  #session = '';
  readonly #chunks: ChunkSender;
  /** Opening and closing the connection, one after the other, in the order docking and undocking came. */
  readonly #link = new SerialQueue();
  #idle: TimerHandle | null = null;
  readonly #work = new SerialQueue();
  /** Receipts run on a queue of their own: their fsyncs must not hold up the chunks the dock is waiting for. */
  readonly #receipts = new SerialQueue();
  /** Segments (`incident#seq`) the dock refused while docked: offered after the others, so they hold up none. */
  readonly #refusedHere = new Set<string>();
  readonly #status: Omit<SyncStatus, 'undock'> = { docked: false, connected: false, offloaded: 0, refused: 0 };
  /** What the dock's last signed docking record says it holds (null: no record kept yet). */
  #held: HeldAtDock | null = null;
  #tail: TimerHandle | null = null;
  /** The fuel gauge's last reading, told to the dock in the hello (absent without a gauge). */
  #battery: { percent: number; volts: number } | null = null;
  /** What the hello tells the dock for the fleet status (src/protocol/fleet-status.ts). */
  #storageMinutes: number | null = null;
  #clockOffsetMs: number | null = null;
  readonly #faults = new Map<string, string>();

  constructor(options: DockSyncOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
    this.#chunks = new ChunkSender(options);
  }

  status(): SyncStatus {
    const h = this.#o.offload.holding();
    const undock = undockReadiness({
      connected: this.#status.connected,
      recording: h.recording,
      segmentsWaiting: h.segmentsWaiting,
      closingsWaiting: h.closingsWaiting,
      incidentsOpen: h.incidentsOpen,
      chain: { own: h.chain, atDock: this.#held?.chain ?? null },
      audit: { own: this.#o.auditHead(), atDock: this.#held?.audit ?? null },
    });
    return { ...this.#status, undock };
  }

  async start(): Promise<void> {
    const t = this.#o.transport;
    this.#offTransport = [
      t.on('connect', () => this.#onConnect()),
      t.on('lost', () => {
        this.#status.connected = false;
      }),
      t.on('error', (err) => this.#o.logger.warn({ message: err.message }, 'dock connection')),
      t.on('message', (m) => this.#onArrival(m)),
    ];
    this.#subs.on('dock.changed', ({ docked }) => {
      this.#status.docked = docked;
      this.#link.push(
        () => (docked ? this.#connect() : this.#disconnect()),
        (e: unknown) => this.#o.logger.error({ err: e }, 'the dock connection could not be opened or closed'),
      );
    });
    this.#subs.on('health.battery', ({ percent, volts }) => {
      this.#battery = { percent: Math.round(percent * 10) / 10, volts: Math.round(volts * 1000) / 1000 };
    });
    this.#subs.on('health.storage', ({ minutesLeft }) => {
      this.#storageMinutes = Number.isFinite(minutesLeft) ? Math.max(0, Math.floor(minutesLeft)) : null;
    });
    this.#subs.on('clock.offset', ({ offsetMs }) => {
      this.#clockOffsetMs = Math.round(offsetMs);
    });
    this.#subs.on('health.speaker', ({ state, message }) => this.#fault('speaker', state, message));
    this.#subs.on('health.microphone', ({ state, message }) => this.#fault('microphone', state, message));
    this.#subs.on('manifest.written', () => {
      if (this.#o.transport.connected) this.#serially(() => this.#offer());
    });
    // The tail of an incident that ends while docked is offered again soon, not at the next docking (the dock pulls
    // its audit lines and signs a docking record naming them); receipts' lines wait for the offer after the last one.
    this.#subs.on('incident.closed', () => this.#offerSoon());
    // A recording started while docked is told to the dock at once: its `dock status` must not say "safe" meanwhile.
    this.#subs.on('incident.started', () => this.#offerSoon());
    this.#subs.on('offload.refused', () => this.#offerSoon());
    // The clock offset's audit line (from the dock's answer to the hello) waits for the offer after the last receipt:
    // offered at once it cost the dock a second inventory (a signature check per offer) mid-transfer.
    this.#subs.on('clock.offset', () => this.#offerSoonWhenHandedOver());
    this.#subs.on('offload.done', () => this.#offerSoonWhenHandedOver());
    this.#held = await this.#o.offload.lastHeld().catch(() => null);
  }

  /** Offered again soon once nothing offered moves: all receipted but what the dock refused while docked. */
  #offerSoonWhenHandedOver(): void {
    const h = this.#o.offload.holding();
    if (h.segmentsWaiting <= this.#refusedHere.size && h.closingsWaiting === 0) this.#offerSoon();
  }

  #offerSoon(): void {
    if (!this.#o.transport.connected || this.#tail !== null) return;
    this.#tail = this.#o.clock.setTimeout(() => {
      this.#tail = null;
      if (this.#o.transport.connected) this.#serially(() => this.#offer());
    }, TAIL_OFFER_MS);
  }

  async stop(): Promise<void> {
    this.#subs.clear();
    await this.#link.idle();
    await this.#disconnect();
    for (const off of this.#offTransport.splice(0)) off();
    await this.#work.idle();
    await this.#receipts.idle();
  }

  async #connect(): Promise<void> {
    try {
      await this.#o.transport.open();
    } catch (e) {
      this.#o.logger.error({ err: e }, 'docked, but the dock credentials cannot be read (dock section of the config)');
    }
  }

  #onConnect(): void {
    this.#status.connected = true;
    this.#session = randomUUID();
    this.#o.logger.info({ session: this.#session }, 'connected to the dock');
    const greet = () =>
      this.#serially(async () => {
        this.#hello();
        await this.#offer();
      });
    this.#o.transport.subscribe(cameraSubscriptions(this.#o.device)).then(greet, greet);
  }

  #onArrival(m: InboundMessage): void {
    const handle = () => this.#onMessage(m.topic, m.payload);
    const type = parseTopic(m.topic)?.type;
    if (type === 'update-part' || type === 'update') {
      // Update pieces go straight to the updater (it only copies them): they must not wait behind chunks.
      takeUpdateMessage(m, this.#o.device, this.#o.updates, (topic, why) => this.#reject(topic, why));
      return;
    }
    if (type !== 'ack') {
      this.#serially(handle);
      return;
    }
    this.#receipts.push(handle, (e: unknown) => this.#o.logger.error({ err: e }, 'a receipt could not be handled'));
  }

  /** Tells the dock again what the camera is (an update's outcome changed): a hello, if connected. */
  helloAgain(): void {
    if (this.#o.transport.connected) this.#serially(async () => this.#hello());
  }

  /** Asks the dock for pieces of the update bundle it offered. */
  pullUpdate(body: UpdatePull): void {
    if (this.#o.transport.connected) this.#publish('update-pull', body);
  }

  async #disconnect(): Promise<void> {
    this.#o.updates?.disconnected();
    this.#refusedHere.clear();
    this.#status.connected = false;
    if (this.#idle !== null) this.#o.clock.clearTimeout(this.#idle);
    this.#idle = null;
    if (this.#tail !== null) this.#o.clock.clearTimeout(this.#tail);
    this.#tail = null;
    await this.#o.transport.close({ discard: true });
  }

  /** Work runs one message at a time, in arrival order. */
  #serially(op: () => Promise<void>): void {
    this.#work.push(op, (e: unknown) => this.#o.logger.error({ err: e }, 'dock sync step failed'));
  }

  #publish(type: 'hello' | 'inventory' | 'audit' | 'update-pull', body: unknown): void {
    this.#o.transport.publish(upTopic(this.#o.device, type), JSON.stringify(body));
  }

  #hello(): void {
    this.#publish('hello', {
      protocol: PROTOCOL,
      session: this.#session,
      device: this.#o.device,
      keyId: this.#o.keyId,
      release: this.#o.release,
      sentMono: this.#o.clock.now(),
      ...(this.#battery === null ? {} : { battery: this.#battery }),
      ...(this.#storageMinutes === null ? {} : { storageMinutesLeft: this.#storageMinutes }),
      ...(this.#clockOffsetMs === null ? {} : { clockOffsetMs: this.#clockOffsetMs }),
      ...(this.#faults.size === 0 ? {} : { faults: [...this.#faults.values()] }),
      ...(this.#o.updates === undefined || this.#o.updates.reports().length === 0
        ? {}
        : { updates: this.#o.updates.reports() }),
    });
  }

  #fault(part: string, state: 'ok' | 'fault', message: string): void {
    if (state === 'ok') this.#faults.delete(part);
    else this.#faults.set(part, `${part}: ${message}`.slice(0, 200));
  }

  async #offer(): Promise<void> {
    this.#publish('inventory', await this.#o.offload.inventory(this.#session, this.#refusedHere));
    this.#armIdle();
  }

  #armIdle(): void {
    if (this.#idle !== null) this.#o.clock.clearTimeout(this.#idle);
    this.#idle = this.#o.clock.setTimeout(() => {
      this.#idle = null;
      if (this.#o.transport.connected) this.#serially(() => this.#offer());
    }, IDLE_REOFFER_MS);
  }

  async #onMessage(topic: string, payload: Buffer): Promise<void> {
    if (topic === DOCK_HELLO_TOPIC) {
      // The dock (re)started: it has lost nothing but our session and our offer.
      this.#hello();
      await this.#offer();
      return;
    }
    const t = parseTopic(topic);
    if (t === null || t.device !== this.#o.device || t.dir !== 'down') return;
    this.#armIdle();
    switch (t.type) {
      case 'pull': {
        const m = checkPull(payload);
        if ('error' in m) {
          this.#reject(topic, m.error);
          return;
        }
        await this.#chunks.send(m.ok);
        return;
      }
      case 'audit-pull': {
        const m = checkAuditPull(payload);
        if ('error' in m) {
          this.#reject(topic, m.error);
          return;
        }
        this.#publish('audit', {
          session: m.ok.session,
          fromSeq: m.ok.fromSeq,
          lines: await this.#o.offload.auditLines(m.ok.fromSeq),
        });
        return;
      }
      case 'ack': {
        const body = parseJson(payload);
        if ('error' in body) {
          this.#reject(topic, body.error);
          return;
        }
        const r = await this.#o.offload.receipt(body.ok);
        if ('refused' in r) {
          this.#o.logger.warn({ reason: r.refused }, 'a receipt was refused: nothing deleted');
          this.#o.bus.emit('offload.refused', { by: 'camera', file: null, reason: r.refused });
          return;
        }
        if (r.again) return; // a repeated receipt (ours went astray): already acted on
        if (r.done === 'segment') this.#status.offloaded += 1;
        this.#o.bus.emit('offload.done', { done: r.done, file: r.file, sha256: r.sha256 });
        return;
      }
      case 'docking': {
        if (payload.length > MAX_DOCKING_RECORD_BYTES) {
          this.#reject(topic, 'a docking record far larger than any');
          return;
        }
        const r = await this.#o.offload.docking(payload.toString('utf8'));
        if ('refused' in r) {
          this.#o.logger.warn({ reason: r.refused }, 'a docking record was refused');
          return;
        }
        this.#held = r.held;
        if (r.kept) this.#o.logger.info({ record: r.seq, held: r.held }, 'docking record kept');
        return;
      }
      case 'refuse': {
        const m = checkRefusal(payload);
        if ('error' in m) {
          this.#reject(topic, m.error);
          return;
        }
        this.#status.refused += 1;
        this.#refusedHere.add(`${m.ok.incident}#${m.ok.seq}`);
        this.#o.logger.error({ ...m.ok }, 'the dock refused a segment: kept on the camera');
        this.#o.bus.emit('offload.refused', {
          by: 'dock',
          file: `${m.ok.incident}#${m.ok.seq}`,
          reason: `${m.ok.code}: ${m.ok.message}`,
        });
        return;
      }
      case 'refusals': {
        const m = checkRefusals(payload);
        if ('error' in m) {
          this.#reject(topic, m.error);
          return;
        }
        const codes = new Map<string, number>();
        for (const r of m.ok.segments) {
          this.#refusedHere.add(`${r.incident}#${r.seq}`);
          codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        }
        const reasons = [...codes].map(([code, n]) => `${n} ${code}`);
        if (m.ok.notConsidered > 0) reasons.push(`${m.ok.notConsidered} not considered (offered again later)`);
        this.#status.refused += m.ok.segments.length;
        this.#o.logger.error(
          { refused: m.ok.segments.length, notConsidered: m.ok.notConsidered, first: m.ok.segments[0] },
          'the dock refused offers: kept on the camera',
        );
        // One event for the lot: the audit log gets one line, however many the dock refused.
        this.#o.bus.emit('offload.refused', { by: 'dock', file: null, reason: reasons.join(', ') });
        return;
      }
      case 'time': {
        const m = checkTime(payload);
        if ('error' in m) {
          this.#reject(topic, m.error);
          return;
        }
        const now = this.#o.clock.now();
        // The dock answered half way through the round trip (NTP's assumption).
        const offsetMs = Math.round(m.ok.dockWallMs - (this.#o.clock.wallNow() - (now - m.ok.echoMono) / 2));
        this.#o.bus.emit('clock.offset', { offsetMs, roundTripMs: Math.round(now - m.ok.echoMono), source: 'dock' });
        return;
      }
      default: {
        this.#reject(topic, `unknown message type ${t.type}`);
        return;
      }
    }
  }

  #reject(topic: string, reason: string): void {
    this.#o.logger.warn({ topic, reason }, 'a dock message was refused');
  }
}
