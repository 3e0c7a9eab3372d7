/**
 * The recorder and the storage reserve (docs/design.md §18), with the real index, real sealed segment files and the
 * real storage budget; only the free space is a stand-in (a card of a given size, less what the files in the temp
 * dir take), so each case is exact. The tmpfs tests (test/integration/storage-reserve.test.ts) do the same on a real
 * filesystem. Footage stops before the reserve with its stop time, an activation that cannot store a GOP is refused
 * and recorded nowhere, and a nearly full card keeps what follows the press rather than the oldest pre-roll.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { generateIdentity, parseRecipient } from '../../../src/age/keys.ts';
import { type ActivationRefused, createCameraBus, type IncidentClosed } from '../../../src/camera/events.ts';
import { storageReserve } from '../../../src/camera/health/reserve.ts';
import { StorageBudget } from '../../../src/camera/health/storage-budget.ts';
import { PreRecordRing } from '../../../src/camera/media/ring.ts';
import type { InitSegment, MediaFragment } from '../../../src/camera/media/types.ts';
import { Recorder } from '../../../src/camera/recording/recorder.ts';
import { SegmentWriter } from '../../../src/camera/recording/segments/writer.ts';
import { CameraStore } from '../../../src/camera/storage/store.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { decryptWith } from '../../harness/age.ts';
import { fileHandlePrototype } from '../../harness/file-handle.ts';

const INIT: InitSegment = { bytes: Buffer.from('init'), tracks: [] };
const VIDEO_BYTES = 50_000;
const AUDIO_BYTES = 2_000;

/** GOP n: a 1 s video fragment of 50 kB then its audio fragment; the first bytes name it. */
function gop(n: number): MediaFragment[] {
  const video: MediaFragment = {
    track: 1,
    kind: 'video',
    timescale: 1000,
    baseTime: n * 1000,
    duration: 1000,
    sampleCount: 30,
    keyframe: true,
    startMs: n * 1000,
    endMs: (n + 1) * 1000,
    bytes: Buffer.concat([Buffer.from(`v${n};`), Buffer.alloc(VIDEO_BYTES - `v${n};`.length, 0x20)]),
  };
  const audio: MediaFragment = { ...video, track: 2, kind: 'audio', sampleCount: 47, bytes: Buffer.alloc(AUDIO_BYTES) };
  return [video, audio];
}

function used(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(path.join(e.parentPath, e.name)).size;
  return n;
}

/** Runs `before` ahead of every append of footage (not the age header's), for the rest of the test. */
async function onFootageAppend(dir: string, before: () => Promise<void>) {
  const proto = await fileHandlePrototype(dir);
  const writev = proto['writev'] as (...args: unknown[]) => Promise<unknown>;
  return vi.spyOn(proto, 'writev').mockImplementation(async function (this: unknown, ...args: unknown[]) {
    if ((args[0] as Buffer[]).reduce((n, b) => n + b.length, 0) > 10_000) await before();
    return writev.apply(this, args);
  });
}

/** A recorder on a card with room for `footageBytes` beyond the reserve of an empty card. */
async function setup(footageBytes: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-reserve-'));
  const { identity, recipient } = generateIdentity();
  const clock = new FakeClock();
  const store = CameraStore.open(dir, { wallNow: () => clock.wallNow() });
  const reserve = storageReserve({ blockSize: 4096, segmentsOnCard: 0, incidentsOnCard: 0, walBytesNow: 0 }).bytes;
  const capacity = reserve + footageBytes + used(dir);
  const budget = new StorageBudget({
    dir,
    rate: { bytesPerSecond: VIDEO_BYTES + AUDIO_BYTES, audioBytesPerGop: AUDIO_BYTES, gopSeconds: 1 },
    segmentSeconds: 10,
    lowMinutes: 30,
    // The reserve of an empty card throughout, so the room is exactly `footageBytes`.
    contents: () => ({ segmentsOnCard: 0, incidentsOnCard: 0, walBytesNow: 0 }),
    probe: () => ({ freeBytes: capacity - used(dir), blockSize: 4096 }),
  });
  const bus = createCameraBus();
  const refused: ActivationRefused[] = [];
  const closed: IncidentClosed[] = [];
  bus.on('activation.refused', (r) => refused.push(r));
  bus.on('incident.closed', (c) => closed.push(c));
  const recorder = new Recorder({
    bus,
    incidents: store.incidents,
    segments: store.segments,
    storageDir: dir,
    deviceId: 'cam',
    segmentMs: 10_000,
    stopTimeoutMs: 5000,
    openSegmentFile: (file) => SegmentWriter.create({ path: file, recipients: [parseRecipient(recipient)] }),
    clock,
    logger: silentLogger(),
    space: budget,
  });
  await recorder.start();
  bus.emit('capture.init', INIT);
  const ring = new PreRecordRing({ prerollMs: 5000, audioInPreroll: false });
  let next = 0;
  /** Feeds GOPs one at a time, letting the writes land in between, as live capture does. */
  const feed = async (count: number) => {
    for (let i = 0; i < count; i++) {
      for (const f of gop(next)) {
        ring.push(f);
        bus.emit('capture.fragment', f);
      }
      next += 1;
      await recorder.drain();
    }
  };
  const activate = (atMs: number) =>
    recorder.activate({
      trigger: 't',
      activationMs: atMs,
      requestedPrerollMs: 5000,
      preroll: ring.selectPreroll(atMs).fragments,
      warning: { speak: true },
    });
  const videoOf = (id: string) =>
    store.segments
      .ofIncident(id)
      .map((s) => decryptWith(identity, s.path).toString('latin1'))
      .join('')
      .match(/v\d+;/g);
  return { dir, store, recorder, budget, refused, closed, feed, activate, videoOf, reserve, capacity };
}

describe('recorder and the storage reserve', () => {
  it('stops before the reserve: closed, stop time where the footage ends, reason storage-full', async () => {
    // Room for about 20 GOPs of footage (52 kB each).
    const { recorder, feed, activate, store, closed, videoOf, budget, dir, capacity, reserve } = await setup(
      20 * (VIDEO_BYTES + AUDIO_BYTES) + 30_000,
    );
    await feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('refused');
    await feed(40);
    await recorder.drain();
    expect(recorder.state).toBe('buffering');
    expect(closed).toHaveLength(1);
    const [incident] = store.incidents.all();
    expect(incident).toMatchObject({ id, state: 'closed', stopReason: 'storage-full' });
    const segs = store.segments.ofIncident(id);
    expect(segs.every((s) => s.state === 'closed')).toBe(true);
    // The stop time is where the last written GOP ends, and nothing after it was written.
    const last = segs.at(-1);
    expect(incident?.stopMediaMs).toBe(last?.endMediaMs);
    expect(closed[0]).toEqual({ id, reason: 'storage-full', stopAtMs: last?.endMediaMs });
    const gops = videoOf(id) ?? [];
    expect(gops[0]).toBe('v1;'); // the pre-roll from its keyframe
    expect(gops.length).toBeGreaterThanOrEqual(18);
    expect(gops).toEqual(gops.map((_, i) => `v${i + 1};`)); // continuous
    // The reserve is untouched: what the card holds leaves at least the reserve free.
    expect(capacity - used(dir)).toBeGreaterThanOrEqual(reserve);
    budget.refresh();
    expect(budget.canRecord()).toBe(false);
  });

  it('refuses an activation when not even one GOP fits: nothing opened, nothing written, nothing indexed', async () => {
    const { feed, activate, store, refused, dir, reserve } = await setup(30_000);
    await feed(6);
    const before = readdirSync(dir, { recursive: true }).length;
    expect(activate(6000)).toBeNull();
    expect(refused).toEqual([
      { trigger: 't', reason: 'storage-full', freeBytes: expect.any(Number), reserveBytes: reserve },
    ]);
    expect(store.incidents.all()).toEqual([]);
    expect(store.events.recent(10).map((e) => e.kind)).not.toContain('activation');
    expect(readdirSync(dir, { recursive: true }).length).toBe(before);
  });

  it('records on a nearly full card from the press: the pre-roll gives up its oldest GOPs', async () => {
    // Room for about 6 GOPs: half of it (3) for the pre-roll, the rest for what follows the press.
    const { recorder, feed, activate, store, videoOf } = await setup(6 * (VIDEO_BYTES + AUDIO_BYTES) + 20_000);
    await feed(10);
    const id = activate(10_000);
    if (id === null) throw new Error('refused');
    await feed(10);
    await recorder.drain();
    const gops = videoOf(id) ?? [];
    expect(gops.length).toBeGreaterThanOrEqual(4);
    expect(gops[0]).not.toBe('v5;'); // the full 5 s pre-roll would start at GOP 5
    expect(gops).toContain('v10;'); // the footage after the press is there
    const [incident] = store.incidents.all();
    expect(incident?.prerollActualMs).toBeLessThan(5000);
    expect(incident?.prerollRequestedMs).toBe(5000);
    expect(incident?.stopReason).toBe('storage-full');
  });

  it('a reading of free space while the writer holds footage back still counts that footage', async () => {
    const room = 4_000_000;
    const { dir, recorder, budget, feed, activate, capacity, reserve } = await setup(room);
    await feed(6);
    // The card takes nothing for a while: the pre-roll's ciphertext waits in the writer, not yet in a statfs.
    const { promise: gate, resolve: open } = Promise.withResolvers<void>();
    const { promise: held, resolve: holding } = Promise.withResolvers<void>();
    const spy = await onFootageAppend(dir, async () => {
      holding();
      await gate;
    });
    try {
      expect(activate(6000)).not.toBeNull(); // pre-roll: GOPs 1-5
      await held;
      const handed = 5 * (VIDEO_BYTES + AUDIO_BYTES);
      budget.refresh(); // the storage monitor's reading, every few seconds
      expect(budget.headroom()).toBeLessThanOrEqual(room - handed);
    } finally {
      open();
      spy.mockRestore();
    }
    await recorder.drain();
    // Synced: the reading after the sync sees the files themselves, and nothing is counted twice.
    expect(budget.headroom()).toBe(capacity - used(dir) - reserve);
  });

  it('after a failed sync, footage the writer still holds stays counted until a sync puts it on the card', async () => {
    const room = 4_000_000;
    const { dir, recorder, budget, feed, activate, capacity, reserve } = await setup(room);
    await feed(6);
    let refuse = true;
    const spy = await onFootageAppend(dir, async () => {
      if (refuse) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
    });
    try {
      expect(activate(6000)).not.toBeNull(); // pre-roll: GOPs 1-5, whose appends the card refuses
      await recorder.drain(); // the sync fails; the writer keeps the ciphertext for the next try
      budget.refresh();
      expect(budget.headroom()).toBeLessThanOrEqual(room - 5 * (VIDEO_BYTES + AUDIO_BYTES));
      refuse = false;
      await feed(1); // GOP 6: the writer appends what it held, and the sync succeeds
    } finally {
      spy.mockRestore();
    }
    expect(budget.headroom()).toBe(capacity - used(dir) - reserve);
  });

  it('records normally with room to spare', async () => {
    const { recorder, feed, activate, store } = await setup(100 * 1024 * 1024);
    await feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('refused');
    await feed(12);
    recorder.requestStop('test', 18_000);
    await feed(1);
    await recorder.drain();
    expect(store.incidents.all()).toMatchObject([{ id, state: 'closed', stopReason: 'test', prerollActualMs: 5000 }]);
  });
});
