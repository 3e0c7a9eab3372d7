/**
 * The dock agent: the dock's side of the sync protocol (src/protocol/messages.ts). It drives every transfer: for
 * each camera that says hello it takes the inventory, pulls segments oldest first, a window of chunks at a time,
 * into an incoming file whose durable length it records in SQLite; checks the whole segment against the camera's
 * signed manifest and chain; stores segment and manifest; and only then sends a receipt it signs, which alone lets
 * the camera delete. A segment that fails is refused, reported and left on the camera. Then closing manifests and the
 * audit log. A lost connection or a broker restart resumes from the durable length.
 *
 * No camera can stop it (docs/dock-operations.md, "Limits and budgets"): each camera's unhandled messages are held to
 * a byte budget, an inventory arriving while one is pending replaces it, offers are assessed in slices against the
 * camera's budgets and refused in one reply, chunks are taken only as asked for, retained messages are ignored and
 * cleared, and a receipt is signed only for a camera enrolled at that moment.
 */
import type { Clock } from '../../hal/clock/port.ts';
import type { Unsubscribe } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import { checkChunkHeader, checkHello } from '../../protocol/checks.ts';
import type { Hello } from '../../protocol/messages.ts';
import { DOCK_HELLO_TOPIC, DOCK_SUBSCRIPTIONS } from '../../protocol/topics.ts';
import type { ConnectInfo, InboundMessage, SyncTransport } from '../../protocol/transport/port.ts';
import type { EnrolledKey } from '../enrolled.ts';
import type { DockLimits } from '../limits.ts';
import { AuditIntake } from './audit-intake.ts';
import { Dockings } from './dockings.ts';
import type { EvidenceStore } from './evidence-store.ts';
import { Gate } from './gate.ts';
import { PartialExpiry } from './partials.ts';
import type { Progress } from './progress.ts';
import { type DockIdentity, Replies } from './replies.ts';
import { CameraSession, type SessionDeps } from './session.ts';

export interface AgentOptions {
  /** The connection to the broker, handed in connected or connecting; the agent neither opens nor closes it. */
  transport: SyncTransport;
  progress: Progress;
  store: EvidenceStore;
  incomingDir: string;
  /** An enrolled camera's public signing key (and its PEM, copied into the store) as its record says now. */
  deviceKey: (device: string) => EnrolledKey | null;
  dock: DockIdentity;
  logger: Logger;
  limits: DockLimits;
  clock: Clock;
  /** Free bytes on the dock's disk now. */
  freeBytes: () => Promise<number>;
  onProgress?: (device: string, line: string) => void;
  /** How often an incoming segment is made durable (default CHECKPOINT_BYTES, 16 MiB). */
  checkpointBytes?: number;
  /** An enrolled camera's checked hello (its release, its battery): for the fleet status. */
  onHello?: (device: string, hello: Hello) => void;
  /** A camera asks for pieces of an update bundle the dock offered it (src/dock/updates.ts). */
  onUpdatePull?: (device: string, payload: Buffer) => void;
  /** A camera in session offered its inventory (every 15 s while idle): it is still docked. */
  onInventory?: (device: string) => void;
}

export class DockAgent {
  readonly #o: AgentOptions;
  readonly #sessions = new Map<string, CameraSession>();
  readonly #audit: AuditIntake;
  readonly #replies: Replies;
  readonly #partials: PartialExpiry;
  readonly #gate: Gate;
  readonly #deps: SessionDeps;
  /** The device key last copied into the store, per camera. */
  readonly #copied = new Map<string, string>();
  /** When each camera's last hello was recorded (Clock port time). */
  readonly #seenAt = new Map<string, number>();
  #offTransport: Unsubscribe[] = [];

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#audit = new AuditIntake(options.progress, options.store, options.logger);
    this.#replies = new Replies({
      transport: options.transport,
      progress: options.progress,
      deviceKey: options.deviceKey,
      dock: options.dock,
      logger: options.logger,
      wallNow: () => this.#now(),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
    this.#gate = new Gate(options);
    this.#partials = new PartialExpiry({
      dir: options.incomingDir,
      maxAgeMs: options.limits.partialMaxAgeHours * 3_600_000,
      clock: options.clock,
      logger: options.logger,
      inUse: () => new Set([...this.#sessions.values()].flatMap((s) => s.files)),
    });
    const { progress, store, dock, logger } = options;
    this.#deps = {
      ...options,
      dockings: new Dockings({ progress, store, dock, logger, now: () => this.#now() }),
      audit: this.#audit,
      replies: this.#replies,
      gate: this.#gate,
      othersWillWrite: (self, underWayOnly) =>
        [...this.#sessions.values()].reduce((n, s) => (s === self ? n : n + s.willWrite(underWayOnly)), 0),
      withdraw: (self) => {
        if (this.#sessions.get(self.device) === self) this.#forget(self.device);
      },
    };
  }

  async start(): Promise<void> {
    const { transport } = this.#o;
    const announce = (info: ConnectInfo) => {
      this.#gate.retainAvailable = info.retainAvailable;
      const hello = () => transport.publish(DOCK_HELLO_TOPIC, JSON.stringify({ at: this.#now() }));
      // No local: the retained messages we clear are not sent back to us.
      transport.subscribe(DOCK_SUBSCRIPTIONS, { noLocal: true }).then(hello, hello);
    };
    this.#offTransport = [transport.on('connect', announce), transport.on('message', (m) => this.#onMessage(m))];
    if (transport.info !== null) announce(transport.info);
    await this.#partials.start();
  }

  /** Stops taking messages and lets every session finish its step; the transport stays with its owner. */
  async stop(): Promise<void> {
    for (const off of this.#offTransport.splice(0)) off();
    await this.#partials.stop();
    for (const s of this.#sessions.values()) {
      await s.work;
      await s.close();
    }
  }

  #now(): number {
    return this.#o.clock.wallNow();
  }

  #onMessage(m: InboundMessage): void {
    const { topic, payload } = m;
    const t = this.#gate.admit(m);
    if (t === null) return;
    if ('withdrawn' in t) {
      this.#forget(t.withdrawn);
      return;
    }
    if (t.type === 'hello') {
      this.#onHello(t.device, payload, t.key);
      return;
    }
    const session = this.#sessions.get(t.device);
    if (session === undefined) return;
    switch (t.type) {
      case 'inventory':
        session.offer(payload, t.key.key);
        this.#o.onInventory?.(t.device);
        return;
      case 'chunk': {
        const h = checkChunkHeader(m.headers);
        if ('error' in h) this.#refuseMessage(t.device, topic, h.error);
        else if (h.ok.session === session.id) session.chunk(h.ok, payload);
        return;
      }
      case 'audit':
        session.audit(payload, t.key.key);
        return;
      case 'update-pull':
        this.#o.onUpdatePull?.(t.device, payload);
        return;
      default:
        this.#refuseMessage(t.device, topic, `unknown message type ${t.type}`);
    }
  }

  #onHello(device: string, payload: Buffer, key: EnrolledKey): void {
    const m = checkHello(payload);
    if ('error' in m || m.ok.device !== device) {
      this.#refuseMessage(device, 'hello', 'error' in m ? m.error : 'device differs from the topic');
      return;
    }
    if (m.ok.keyId !== key.keyId) {
      this.#o.logger.error(
        { device, offered: m.ok.keyId, enrolled: key.keyId },
        'a camera with another signing key than enrolled: nothing taken',
      );
      return;
    }
    if (m.ok.battery !== undefined) this.#o.logger.info({ device, battery: m.ok.battery }, 'camera battery');
    this.#o.onHello?.(device, m.ok);
    const old = this.#sessions.get(device);
    old?.end();
    const session = new CameraSession({ id: m.ok.session, device, keyId: key.keyId }, this.#deps, old);
    this.#sessions.set(device, session);
    session.serially(async () => {
      // At most once a minute: a hello is cheap to send, a commit is not.
      if ((this.#seenAt.get(device) ?? Number.NEGATIVE_INFINITY) + 60_000 <= this.#o.clock.now()) {
        this.#o.progress.seen(device);
        this.#seenAt.set(device, this.#o.clock.now());
      }
      if (this.#copied.get(device) !== key.pem) {
        await this.#o.store.putDeviceKey(device, key.pem);
        this.#copied.set(device, key.pem);
      }
      this.#replies.send(device, 'time', { session: session.id, dockWallMs: this.#now(), echoMono: m.ok.sentMono });
    });
  }

  /** Ends a camera's session (withdrawn): its transfers stop where they are, nothing more is pulled or receipted. */
  #forget(device: string): void {
    this.#sessions.get(device)?.end();
    this.#sessions.delete(device);
  }

  #refuseMessage(device: string, topic: string, reason: string): void {
    this.#gate.warn(device, 'a camera message was refused', { topic, reason });
  }
}
