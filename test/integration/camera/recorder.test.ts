/**
 * The recorder against the real parts it writes through: a real SQLite index (CameraStore), real sealed segment
 * files (SegmentWriter in a temp dir, decrypted again with the custodian's identity) and the event bus. Covers the
 * seam between pre-roll and live, segment rotation, the stop point, the sync after a drained queue, and a second
 * activation straight after a stop.
 */
import { copyFileSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { generateIdentity, parseRecipient } from '../../../src/age/keys.ts';
import { createCameraBus } from '../../../src/camera/events.ts';
import { PreRecordRing } from '../../../src/camera/media/ring.ts';
import type { InitSegment, MediaFragment } from '../../../src/camera/media/types.ts';
import { Recorder } from '../../../src/camera/recording/recorder.ts';
import { recoverSegmentFile } from '../../../src/camera/recording/segments/recover-file.ts';
import { SegmentWriter } from '../../../src/camera/recording/segments/writer.ts';
import { CameraStore } from '../../../src/camera/storage/store.ts';
import { partialFileFor, segmentPath } from '../../../src/evidence/paths.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { decryptWith } from '../../harness/age.ts';
import { failFileHandle, fileHandlePrototype } from '../../harness/file-handle.ts';

const INIT: InitSegment = { bytes: Buffer.from('init'), tracks: [] };

/** GOP n: a 1 s video fragment (30 frames) then its audio fragment; bytes name the fragment (then `pad` zeros). */
function gop(n: number, pad = 0): MediaFragment[] {
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
    bytes: Buffer.concat([Buffer.from(`v${n};`), Buffer.alloc(pad)]),
  };
  const audio: MediaFragment = {
    ...video,
    track: 2,
    kind: 'audio',
    sampleCount: 47,
    bytes: Buffer.concat([Buffer.from(`a${n};`), Buffer.alloc(pad)]),
  };
  return [video, audio];
}

/**
 * Makes the first `writev` (of any file handle) whose byte count `matches` fail once with ENOSPC, `delayMs` late;
 * every other call goes through. Restore with the returned spy's `mockRestore()`.
 */
async function failWritev(dir: string, matches: (bytes: number) => boolean, delayMs: number, times = 1) {
  const proto = await fileHandlePrototype(dir);
  const original = proto['writev'] as (...args: unknown[]) => Promise<unknown>;
  let fail = times;
  return vi.spyOn(proto, 'writev').mockImplementation(async function (this: unknown, ...args: unknown[]) {
    const bytes = (args[0] as Buffer[]).reduce((n, b) => n + b.length, 0);
    if (matches(bytes) && fail-- > 0) {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
    }
    return original.apply(this, args);
  });
}

async function setup(segmentSeconds = 60, pad = 0) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-rec-'));
  const { identity, recipient } = generateIdentity();
  const recipients = [parseRecipient(recipient)];
  const clock = new FakeClock();
  const store = CameraStore.open(dir, { wallNow: () => clock.wallNow() });
  const bus = createCameraBus();
  /** How many of the next segment files the card refuses to create (EMFILE, before any byte is there). */
  const refuseOpens = { count: 0 };
  const synced: Array<{ seq: number; endMs: number }> = [];
  bus.on('segment.synced', ({ seq, endMs }) => synced.push({ seq, endMs }));
  const recorder = new Recorder({
    bus,
    incidents: store.incidents,
    segments: store.segments,
    storageDir: dir,
    deviceId: 'cam',
    segmentMs: segmentSeconds * 1000,
    stopTimeoutMs: 5000,
    openSegmentFile: (file) => {
      if (refuseOpens.count === 0) return SegmentWriter.create({ path: file, recipients });
      refuseOpens.count -= 1;
      return Promise.reject(Object.assign(new Error(`${file}: too many open files`), { code: 'EMFILE' }));
    },
    clock,
    logger: silentLogger(),
  });
  await recorder.start();
  bus.emit('capture.init', INIT);
  const ring = new PreRecordRing({ prerollMs: 5000, audioInPreroll: false });
  let next = 0;
  const feed = (count: number) => {
    for (let i = 0; i < count; i++) {
      for (const f of gop(next, pad)) {
        ring.push(f);
        bus.emit('capture.fragment', f);
      }
      next += 1;
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
  /** Plaintext of every closed segment of `incidentId`, in order. */
  const contents = (incidentId: string) =>
    store.segments.ofIncident(incidentId).map((s) => decryptWith(identity, s.path).toString());
  return { dir, identity, store, bus, recorder, clock, synced, feed, activate, contents, refuseOpens };
}

describe('Recorder', () => {
  it('writes the pre-roll (video only) then live fragments with nothing lost or repeated', async () => {
    const { recorder, feed, activate, store, contents } = await setup();
    feed(10); // media 0–10 s in the ring
    const id = activate(10_400);
    if (id === null) throw new Error('activation refused');
    feed(3); // live GOPs 10, 11, 12
    recorder.requestStop('test', 12_500);
    feed(1); // GOP 13 starts past the stop: closes, is not written
    await recorder.drain();
    // pre-roll: latest keyframe ≤ 10.4 − 5 s is GOP 5; audio only from activation on.
    expect(contents(id)).toEqual(['initv5;v6;v7;v8;v9;v10;a10;v11;a11;v12;a12;']);
    expect(store.incidents.all()).toMatchObject([{ state: 'closed', prerollActualMs: 5400, stopMediaMs: 12_500 }]);
    expect(store.segments.ofIncident(id)).toMatchObject([
      { seq: 0, state: 'closed', frames: 8 * 30, firstMediaMs: 5000, endMediaMs: 13_000 },
    ]);
  });

  it('rotates segments on keyframes, each opening with the init segment', async () => {
    const { recorder, feed, activate, store, contents } = await setup(10);
    feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('activation refused');
    feed(25);
    recorder.requestStop('test', 31_000);
    feed(1);
    await recorder.drain();
    const segs = store.segments.ofIncident(id);
    expect(segs.map((s) => [s.firstMediaMs, s.endMediaMs])).toEqual([
      [1000, 11_000],
      [11_000, 21_000],
      [21_000, 31_000],
    ]);
    const plain = contents(id);
    expect(plain).toHaveLength(3);
    expect(plain.every((c) => c.startsWith('initv'))).toBe(true);
    const videos = [
      ...plain
        .map((c) => c.replace(/^init/, ''))
        .join('')
        .matchAll(/v(\d+);/g),
    ].map((m) => Number(m[1]));
    expect(videos).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('syncs once the queue drains: the flushed pre-roll is recoverable before live footage arrives', async () => {
    const { recorder, feed, activate, synced, dir, identity } = await setup();
    feed(8);
    const id = activate(8000);
    await recorder.drain();
    expect(synced).toEqual([{ seq: 0, endMs: 8000 }]);
    // What a power cut now would leave: recovery of a copy of the partial file and its tail gives the pre-roll.
    const segDir = path.join(dir, 'footage', id ?? '');
    const copy = mkdtempSync(path.join(os.tmpdir(), 'bodycam-rec-cut-'));
    for (const f of readdirSync(segDir)) copyFileSync(path.join(segDir, f), path.join(copy, f));
    const recovered = await recoverSegmentFile(path.join(copy, '0000.mp4.age'));
    expect(recovered?.progress).toEqual({ endMediaMs: 8000, frames: 5 * 30, fragments: 5 });
    expect(decryptWith(identity, path.join(copy, '0000.mp4.age')).toString()).toBe('initv3;v4;v5;v6;v7;');
    feed(1);
    await recorder.drain();
    expect(synced.at(-1)).toEqual({ seq: 0, endMs: 9000 });
  });

  it('gives a second activation right after a stop its full pre-roll', async () => {
    const { recorder, feed, activate, store, contents } = await setup();
    feed(10);
    activate(10_000);
    feed(2);
    recorder.requestStop('test', 12_000);
    feed(1);
    const second = activate(13_000);
    if (second === null) throw new Error('second activation refused');
    feed(1);
    recorder.requestStop('test', 14_000);
    feed(1);
    await recorder.drain();
    const incidents = store.incidents.all();
    expect(incidents).toHaveLength(2);
    expect(incidents[1]?.prerollActualMs).toBe(5000);
    expect(contents(second)).toEqual(['initv8;v9;v10;v11;v12;v13;a13;']);
  });

  it('closes with what arrived when no fragment passes the stop point in time (fake clock)', async () => {
    const { recorder, feed, activate, store, clock } = await setup();
    feed(6);
    const id = activate(6000);
    feed(1);
    recorder.requestStop('test', 60_000);
    await clock.advance(4999);
    expect(recorder.state).toBe('stopping');
    await clock.advance(1);
    await recorder.drain();
    expect(recorder.state).toBe('buffering');
    expect(store.incidents.get(id ?? '')).toMatchObject({ state: 'closed', stopReason: 'test' });
  });

  it('ignores a second activation while recording and a stop while buffering', async () => {
    const { recorder, feed, activate } = await setup();
    expect(recorder.requestStop('test', 0)).toBe(false);
    feed(2);
    expect(activate(2000)).not.toBeNull();
    expect(activate(2000)).toBeNull();
    expect(recorder.state).toBe('recording');
  });

  it('closes the segment and the incident when close() is the first to hear of a failed background append', async () => {
    // 200 kB fragments: each write() leaves its ciphertext to the writer's background append.
    const pad = 200_000;
    const { dir, recorder, feed, activate, store, bus, identity } = await setup(60, pad);
    const faults: string[] = [];
    bus.on('storage.fault', ({ code }) => faults.push(code));
    feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('activation refused');
    await recorder.drain();
    // The next append fails once (a transient ENOSPC), after the write()s that handed it over have returned.
    const writev = await failWritev(dir, () => true, 20);
    try {
      feed(1); // GOP 6
      recorder.requestStop('test', 7000);
      feed(1); // GOP 7 starts at the stop: the close follows GOP 6's writes with no sync between
      await recorder.drain();
    } finally {
      writev.mockRestore();
    }
    expect(faults).toEqual(['STORAGE_FULL']); // the officer is told
    expect(store.incidents.get(id)).toMatchObject({ state: 'closed', stopReason: 'test' });
    const [seg] = store.segments.ofIncident(id);
    expect(seg).toMatchObject({ state: 'closed', endMediaMs: 7000 });
    const zeros = Buffer.alloc(pad).toString();
    const want = ['v1;', 'v2;', 'v3;', 'v4;', 'v5;', 'v6;', 'a6;'].map((f) => f + zeros).join('');
    expect(decryptWith(identity, seg?.path ?? '').toString() === `init${want}`).toBe(true);
  });

  it('closes the incident when the card refuses the close twice: the segment ends at its last sync', async () => {
    const pad = 200_000;
    const { dir, recorder, feed, activate, store, bus, identity } = await setup(60, pad);
    const faults: string[] = [];
    bus.on('storage.fault', ({ code }) => faults.push(code));
    const closed: string[] = [];
    bus.on('incident.closed', ({ id }) => closed.push(id));
    feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('activation refused');
    await recorder.drain(); // the pre-roll (GOPs 1–5) is synced
    // GOP 6's background append fails, and so does the close's retry of it.
    const writev = await failWritev(dir, () => true, 20, 2);
    try {
      feed(1); // GOP 6
      recorder.requestStop('test', 7000);
      feed(1); // GOP 7 starts at the stop
      await recorder.drain();
    } finally {
      writev.mockRestore();
    }
    expect(faults).toEqual(['STORAGE_FULL', 'STORAGE_FULL']); // the officer is told, each time
    // Closed now, not left `recording` until the next start.
    expect(closed).toEqual([id]);
    expect(store.incidents.get(id)).toMatchObject({ state: 'closed', stopReason: 'test' });
    expect(recorder.state).toBe('buffering');
    const [seg] = store.segments.ofIncident(id);
    expect(seg).toMatchObject({ state: 'recovered', endMediaMs: 6000 });
    const zeros = Buffer.alloc(pad).toString();
    const want = ['v1;', 'v2;', 'v3;', 'v4;', 'v5;'].map((f) => f + zeros).join('');
    expect(decryptWith(identity, seg?.path ?? '').toString() === `init${want}`).toBe(true);
  });

  it('counts a fragment whose write() rejected: the writer took it, and the segment holds it', async () => {
    // 600 kB fragments: the pre-roll flush runs more than 2 MiB ahead of the disk, so write()s wait for appends.
    const pad = 600_000;
    const { dir, recorder, feed, activate, store, bus, identity } = await setup(60, pad);
    const faults: string[] = [];
    bus.on('storage.fault', ({ code }) => faults.push(code));
    feed(6);
    const writev = await failWritev(dir, (bytes) => bytes > pad / 2, 0);
    let id: string | null = null;
    try {
      id = activate(6000); // pre-roll GOPs 1–5; the first footage append fails once
      recorder.requestStop('test', 6000);
      feed(1); // GOP 6 starts at the stop
      await recorder.drain();
    } finally {
      writev.mockRestore();
    }
    if (id === null) throw new Error('activation refused');
    expect(faults).toEqual(['STORAGE_FULL']);
    const [seg] = store.segments.ofIncident(id);
    const zeros = Buffer.alloc(pad).toString();
    const want = ['v1;', 'v2;', 'v3;', 'v4;', 'v5;'].map((f) => f + zeros).join('');
    expect(decryptWith(identity, seg?.path ?? '').toString() === `init${want}`).toBe(true);
    // The index (and so the manifest) describes what the file holds: five GOPs, not four.
    expect(seg).toMatchObject({ state: 'closed', frames: 5 * 30, endMediaMs: 6000 });
  });

  it('gives up a segment whose fsync failed, keeps it to its last sync, and records on in a new one', async () => {
    const { dir, recorder, feed, activate, store, bus, identity, contents } = await setup();
    const faults: string[] = [];
    bus.on('storage.fault', ({ code }) => faults.push(code));
    const recovered: Array<{ seq: number; state: string }> = [];
    bus.on('segment.recovered', ({ seq, state }) => recovered.push({ seq, state }));
    feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('activation refused');
    await recorder.drain(); // the pre-roll (GOPs 1–5) is synced
    const datasync = await failFileHandle(dir, 'datasync', 1, 'EIO');
    try {
      feed(1); // GOP 6: its sync's fsync fails; Linux may have dropped those pages, so no later sync may claim them
      await recorder.drain();
    } finally {
      datasync.mockRestore();
    }
    feed(1); // GOP 7 opens a new segment
    recorder.requestStop('test', 9000);
    feed(3); // GOP 9 starts at the stop
    await recorder.drain();
    expect(faults).toEqual(['STORAGE_IO']); // the officer is told
    expect(store.incidents.get(id)).toMatchObject({ state: 'closed', stopReason: 'test' });
    const [broken, next] = store.segments.ofIncident(id);
    // The broken segment is finished at once to its last good sync, as a start after a power cut would.
    expect([broken?.seq, broken?.state, next?.seq, next?.state]).toEqual([0, 'recovered', 1, 'closed']);
    expect(recovered).toEqual([{ seq: 0, state: 'recovered' }]);
    expect(readdirSync(path.dirname(broken?.path ?? '')).sort()).toEqual(
      [broken, next].map((s) => path.basename(s?.path ?? '')).sort(),
    );
    expect(decryptWith(identity, broken?.path ?? '').toString()).toBe('initv1;v2;v3;v4;v5;');
    expect(broken).toMatchObject({ endMediaMs: 6000, frames: 5 * 30 });
    expect(decryptWith(identity, next?.path ?? '').toString()).toBe('initv7;a7;v8;a8;');
    expect(contents(id)).toHaveLength(2);
  });

  it('leaves no row for a segment file the card would not create, and records on in the same seq', async () => {
    const { recorder, feed, activate, store, bus, contents, refuseOpens } = await setup(2);
    const faults: string[] = [];
    bus.on('storage.fault', ({ code }) => faults.push(code));
    feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('activation refused');
    await recorder.drain(); // the pre-roll in segments 0 (GOPs 1–2), 1 (3–4) and 2 (from 5)
    refuseOpens.count = 2;
    feed(3); // GOP 6 goes to segment 2; GOP 7 rotates and GOPs 7 and 8 find no file to go to; GOP 9 opens segment 3
    recorder.requestStop('test', 10_000);
    feed(2); // GOP 10 starts at the stop
    await recorder.drain();
    expect(faults).toEqual(['EMFILE', 'EMFILE']); // each refusal is reported, and the officer told
    expect(store.segments.ofIncident(id).map((s) => [s.seq, s.state])).toEqual([
      [0, 'closed'],
      [1, 'closed'],
      [2, 'closed'],
      [3, 'closed'],
    ]);
    expect(contents(id)).toEqual(['initv1;v2;', 'initv3;v4;', 'initv5;v6;a6;', 'initv9;a9;']);
    expect(readdirSync(path.dirname(store.segments.ofIncident(id)[0]?.path ?? ''))).toHaveLength(4);
    expect(store.incidents.get(id)).toMatchObject({ state: 'closed', stopReason: 'test' });
  });

  it('moves past a segment path already taken by a dangling symlink instead of retrying it forever', async () => {
    const { dir, recorder, feed, activate, store, identity } = await setup(2);
    feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('activation refused');
    await recorder.drain(); // segments 0, 1 and 2 (from GOP 5)
    // Someone with the card plants a link to nowhere where segment 3's file will be made: O_EXCL refuses it, and a
    // stat that follows links would call the path free, so the same seq would be tried at every keyframe.
    symlinkSync('/nonexistent/bodycam', partialFileFor(path.join(dir, segmentPath(id, 3))));
    feed(3); // GOP 7 cannot open segment 3; GOP 8 opens segment 4
    recorder.requestStop('test', 10_000);
    feed(2);
    await recorder.drain();
    const rows = store.segments.ofIncident(id);
    expect(rows.map((s) => [s.seq, s.state])).toEqual([
      [0, 'closed'],
      [1, 'closed'],
      [2, 'closed'],
      [3, 'open'], // kept for start-up recovery, which decides what the entry at its path is
      [4, 'closed'],
    ]);
    expect(decryptWith(identity, rows[4]?.path ?? '').toString()).toBe('initv8;a8;v9;a9;');
  });

  it("closes the incident at a stop whose segment's final fsync failed, the segment kept to its last sync", async () => {
    const { dir, recorder, feed, activate, store, identity } = await setup();
    feed(6);
    const id = activate(6000);
    if (id === null) throw new Error('activation refused');
    await recorder.drain(); // the pre-roll (GOPs 1–5) is synced
    feed(1); // GOP 6, synced
    await recorder.drain();
    const datasync = await failFileHandle(dir, 'datasync', 1, 'EIO');
    try {
      recorder.requestStop('test', 7000);
      feed(1); // GOP 7 starts at the stop: close() fails its fsync
      await recorder.drain();
    } finally {
      datasync.mockRestore();
    }
    expect(store.incidents.get(id)).toMatchObject({ state: 'closed', stopReason: 'test' });
    const [seg] = store.segments.ofIncident(id);
    expect(seg).toMatchObject({ state: 'recovered', endMediaMs: 7000 });
    expect(decryptWith(identity, seg?.path ?? '').toString()).toBe('initv1;v2;v3;v4;v5;v6;a6;');
  });
});
