import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FleetPublisher } from '../../../src/dock/fleet-publisher.ts';
import type { Withdrawal } from '../../../src/dock/revocation.ts';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { EventBus } from '../../../src/lib/event-bus.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { type FleetStatus, parseFleetStatus } from '../../../src/protocol/fleet-status.ts';
import { fleetTopic } from '../../../src/protocol/topics.ts';
import type {
  ConnectInfo,
  PublishOptions,
  SyncTransport,
  TransportEvents,
} from '../../../src/protocol/transport/port.ts';

/** A stand-in broker connection that records what is published. */
class RecordingTransport implements SyncTransport {
  readonly sent: Array<{ topic: string; record: FleetStatus; retain: boolean }> = [];
  readonly #events = new EventBus<TransportEvents>();
  connected = true;
  info: ConnectInfo | null = { retainAvailable: true };
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  publish(topic: string, payload: Buffer | string, options: PublishOptions = {}): void {
    const r = parseFleetStatus(Buffer.from(payload));
    if ('error' in r) throw new Error(r.error);
    this.sent.push({ topic, record: r.ok, retain: options.retain === true });
  }
  async subscribe(): Promise<void> {}
  on<K extends keyof TransportEvents>(event: K, listener: (payload: TransportEvents[K]) => void) {
    return this.#events.on(event, listener);
  }
  reconnect(): void {
    this.#events.emit('connect', { retainAvailable: true });
  }
}

const opened: Progress[] = [];
afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

function scene(o: { enrolled: string[]; withdrawals?: Withdrawal[] }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-fleet-pub-'));
  const clock = new FakeClock({ wallNow: Date.parse('2026-12-05T20:00:00.000Z') });
  const progress = Progress.open(dir, { wallNow: () => clock.wallNow() });
  opened.push(progress);
  const transport = new RecordingTransport();
  const publisher = new FleetPublisher({
    transport,
    progress,
    enrolled: () => o.enrolled,
    withdrawals: async () => o.withdrawals ?? [],
    clock,
    logger: silentLogger(),
    lookMs: 1000,
    refreshMs: 60_000,
  });
  return { clock, progress, transport, publisher };
}

describe('FleetPublisher', () => {
  it('publishes every camera at start, retained: enrolled never seen, and withdrawn ones still in the database', async () => {
    const withdrawn: Withdrawal = {
      device: 'cam-old',
      serial: '0A',
      notAfter: '2030-01-01T00:00:00.000Z',
      at: '2026-11-01T09:00:00.000Z',
      reason: 'reported stolen',
    };
    const { progress, transport, publisher } = scene({ enrolled: ['cam-1'], withdrawals: [withdrawn] });
    progress.seen('cam-old');
    await publisher.start();
    expect(transport.sent.map((s) => [s.topic, s.retain])).toEqual([
      [fleetTopic('cam-1'), true],
      [fleetTopic('cam-old'), true],
    ]);
    expect(transport.sent[0]?.record).toMatchObject({ enrolled: true, lastSeen: null, withdrawn: null });
    expect(transport.sent[1]?.record).toMatchObject({
      enrolled: false,
      withdrawn: { at: '2026-11-01T09:00:00.000Z', reason: 'reported stolen' },
      lastSeen: '2026-12-05T20:00:00.000Z',
    });
    await publisher.stop();
  });

  it('publishes a camera again only when its record changes, every camera at the refresh, all after a reconnect', async () => {
    const { clock, progress, transport, publisher } = scene({ enrolled: ['cam-1', 'cam-2'] });
    await publisher.start();
    expect(transport.sent).toHaveLength(2);
    await clock.advance(5000);
    expect(transport.sent).toHaveLength(2); // nothing changed
    publisher.noteHello('cam-2', { release: '1.4.0', battery: { percent: 55, volts: 3.7 } });
    progress.claims.record('cam-2', {
      session: 's',
      atMs: clock.wallNow(),
      recording: true,
      segments: 4,
      closings: 0,
      open: 1,
      chainSeq: 1,
      auditSeq: 2,
    });
    await clock.advance(1000);
    await publisher.look();
    expect(transport.sent.slice(2).map((s) => s.record)).toEqual([
      expect.objectContaining({
        device: 'cam-2',
        release: '1.4.0',
        battery: { percent: 55, volts: 3.7 },
        pending: expect.objectContaining({ segments: 4, recording: true }),
      }),
    ]);
    await clock.advance(60_000);
    await publisher.look();
    expect(transport.sent.slice(3).map((s) => s.record.device)).toEqual(['cam-1', 'cam-2']); // the refresh: both again
    const before = transport.sent.length;
    transport.reconnect();
    await publisher.look();
    expect(transport.sent.slice(before).map((s) => s.record.device)).toEqual(['cam-1', 'cam-2']);
    await publisher.stop();
  });

  it('publishes nothing while not connected, and everything once it is; not retained where the broker keeps none', async () => {
    const { transport, publisher } = scene({ enrolled: ['cam-1'] });
    transport.connected = false;
    transport.info = null;
    await publisher.start();
    expect(transport.sent).toEqual([]);
    transport.connected = true;
    transport.info = { retainAvailable: false };
    await publisher.look();
    expect(transport.sent.map((s) => [s.record.device, s.retain])).toEqual([['cam-1', false]]);
    await publisher.stop();
  });
});
