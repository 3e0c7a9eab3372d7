/**
 * The dock's fleet status: one record per camera (src/protocol/fleet-status.ts) published QoS 1 on its status topic
 * (`bodycam/fleet/v1/<id>`), retained where the broker keeps retained messages (a site bridged to the centre). Every
 * camera the dock knows appears: enrolled ones, seen or not, and withdrawn ones still in its database. A record goes
 * out at start, whenever it changes (looked at every `lookMs`), and again for every camera every `refreshMs`, so a
 * central broker that lost its retained messages has them all back within that time.
 */
import type { Clock, TimerHandle } from '../hal/clock/port.ts';
import type { Logger } from '../lib/logger.ts';
import { buildFleetStatus, type FleetFacts, fleetStatusKey } from '../protocol/fleet-status.ts';
import { fleetTopic } from '../protocol/topics.ts';
import type { SyncTransport } from '../protocol/transport/port.ts';
import type { Withdrawal } from './revocation.ts';
import type { Progress } from './sync/progress.ts';

export interface FleetPublisherOptions {
  transport: SyncTransport;
  progress: Progress;
  /** Device ids enrolled now. */
  enrolled: () => string[];
  /** The dock's withdrawals (the newest per camera is shown). */
  withdrawals: () => Promise<Withdrawal[]>;
  clock: Clock;
  logger: Logger;
  /** How often the records are built again and the changed ones published (default 5 s). */
  lookMs?: number;
  /** How often every record is published, changed or not (default 10 min). */
  refreshMs?: number;
}

export type HelloFacts = NonNullable<FleetFacts['hello']>;

export class FleetPublisher {
  readonly #o: FleetPublisherOptions;
  readonly #hellos = new Map<string, HelloFacts>();
  /** What was last published per camera (the record without its time). */
  readonly #sent = new Map<string, string>();
  #timer: TimerHandle | null = null;
  #offConnect: (() => void) | null = null;
  #lastFull = Number.NEGATIVE_INFINITY;
  #busy: Promise<void> = Promise.resolve();

  constructor(options: FleetPublisherOptions) {
    this.#o = options;
  }

  /** What a camera's hello said (release, battery…): kept in memory, published at the next look. */
  noteHello(device: string, hello: HelloFacts): void {
    this.#hellos.set(device, hello);
  }

  /** What the camera's last hello since the dock started said, or null (the dock's page shows it). */
  hello(device: string): HelloFacts | null {
    return this.#hellos.get(device) ?? null;
  }

  async start(): Promise<void> {
    // A new connection may be to a broker that restarted and lost what it kept: everything goes again.
    this.#offConnect = this.#o.transport.on('connect', () => {
      this.#sent.clear();
      void this.look();
    });
    await this.look();
    this.#timer = this.#o.clock.setInterval(() => {
      void this.look();
    }, this.#o.lookMs ?? 5000);
  }

  async stop(): Promise<void> {
    this.#offConnect?.();
    if (this.#timer !== null) this.#o.clock.clearInterval(this.#timer);
    this.#timer = null;
    await this.#busy;
  }

  /** Builds every record and publishes those that changed (all of them when a refresh is due). */
  look(): Promise<void> {
    this.#busy = this.#busy.then(
      () => this.#look(),
      () => this.#look(),
    );
    return this.#busy;
  }

  async #look(): Promise<void> {
    const { transport, clock, logger } = this.#o;
    try {
      const facts = await this.#facts();
      const full = clock.now() - this.#lastFull >= (this.#o.refreshMs ?? 600_000);
      if (full) this.#lastFull = clock.now();
      if (!transport.connected) return; // nothing marked sent: all of it goes at the next look once connected
      const retain = transport.info?.retainAvailable === true;
      for (const f of facts) {
        const record = buildFleetStatus(f, clock.wallNow());
        const key = fleetStatusKey(record);
        if (!full && this.#sent.get(f.device) === key) continue;
        transport.publish(fleetTopic(f.device), JSON.stringify(record), { retain });
        this.#sent.set(f.device, key);
      }
    } catch (e) {
      // Not connected, or the database busy: the next look publishes what is still unsent.
      logger.warn({ message: (e as Error).message }, 'fleet status not published yet');
    }
  }

  async #facts(): Promise<FleetFacts[]> {
    const { progress } = this.#o;
    const enrolled = new Set(this.#o.enrolled());
    const summary = new Map(progress.summary().map((d) => [d.device, d]));
    const withdrawals = await this.#o.withdrawals();
    const devices = [...new Set([...enrolled, ...summary.keys()])].sort();
    return devices.map((device) => {
      const d = summary.get(device);
      const docking = progress.dockings.last(device);
      const claim = progress.claims.last(device);
      const w = enrolled.has(device) ? undefined : withdrawals.filter((x) => x.device === device).at(-1);
      return {
        device,
        enrolled: enrolled.has(device),
        withdrawn: w === undefined ? null : { at: w.at, reason: w.reason },
        lastSeen: d?.lastSeen ?? null,
        refused: d?.refused ?? 0,
        docking: docking === null ? null : { signedAt: docking.signedAt, rollback: docking.rollback },
        claim:
          claim === null
            ? null
            : { atMs: claim.atMs, segments: claim.segments, closings: claim.closings, recording: claim.recording },
        hello: this.#hellos.get(device) ?? null,
      };
    });
  }
}
