/**
 * The recorder against a real SQLite index and in-memory segment files: the seam between pre-roll and live, segment
 * rotation, the stop point, and a second activation straight after a stop.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../src/lib/logger.ts';
import { PreRecordRing } from '../../../../src/camera/media/ring.ts';
import type { InitSegment, MediaFragment } from '../../../../src/camera/media/types.ts';
import { Recorder, type SegmentFile } from '../../../../src/camera/recording/recorder.ts';
import { IndexDb } from '../../../../src/camera/storage/index-db.ts';

const INIT: InitSegment = { bytes: Buffer.from('init'), tracks: [] };

/** GOP n: a 1 s video fragment (30 frames) then its audio fragment; bytes name the fragment. */
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
    bytes: Buffer.from(`v${n};`),
  };
  const audio: MediaFragment = { ...video, track: 2, kind: 'audio', sampleCount: 47, bytes: Buffer.from(`a${n};`) };
  return [video, audio];
}

class MemoryFile implements SegmentFile {
  static files = new Map<string, MemoryFile>();
  data = '';
  synced = '';
  closed = false;
  readonly path: string;
  constructor(file: string) {
    this.path = file;
    MemoryFile.files.set(file, this);
  }
  get bytesWritten() {
    return this.data.length;
  }
  async write(plain: Buffer) {
    this.data += plain.toString();
  }
  async sync() {
    this.synced = this.data;
  }
  async close() {
    this.closed = true;
    return { path: this.path, bytes: this.data.length, sha256: 'x' };
  }
}

function setup(segmentSeconds = 60) {
  MemoryFile.files.clear();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-rec-'));
  const index = new IndexDb(path.join(dir, 'index.sqlite'));
  const recorder = new Recorder({
    index,
    storageDir: dir,
    deviceId: 'cam',
    segmentMs: segmentSeconds * 1000,
    stopTimeoutMs: 5000,
    openSegmentFile: async (p) => new MemoryFile(p),
    logger: silentLogger(),
  });
  recorder.setInit(INIT);
  const ring = new PreRecordRing({ prerollMs: 5000, audioInPreroll: false });
  let next = 0;
  const feed = (count: number) => {
    for (let i = 0; i < count; i++) {
      for (const f of gop(next)) {
        ring.push(f);
        recorder.onFragment(f);
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
    });
  return { index, recorder, feed, activate };
}

const contents = () => [...MemoryFile.files.values()].map((f) => f.data);

describe('Recorder', () => {
  it('writes the pre-roll (video only) then live fragments with nothing lost or repeated', async () => {
    const { recorder, feed, activate, index } = setup();
    feed(10); // media 0–10 s in the ring
    const id = activate(10_400);
    expect(id).not.toBeNull();
    feed(3); // live GOPs 10, 11, 12
    recorder.requestStop('test', 12_500);
    feed(1); // GOP 13 starts past the stop: closes, is not written
    await recorder.drain();
    // pre-roll: latest keyframe ≤ 10.4 − 5 s is GOP 5; audio only from activation on.
    expect(contents()).toEqual(['initv5;v6;v7;v8;v9;v10;a10;v11;a11;v12;a12;']);
    const [inc] = index.incidents();
    expect(inc).toMatchObject({ state: 'closed', prerollActualMs: 5400, stopMediaMs: 12_500 });
    expect(index.segmentsOf(id ?? '')).toMatchObject([
      { seq: 0, state: 'closed', frames: 8 * 30, firstMediaMs: 5000, endMediaMs: 13_000 },
    ]);
  });

  it('rotates segments on keyframes, each opening with the init segment', async () => {
    const { recorder, feed, activate, index } = setup(10);
    feed(6);
    const id = activate(6000);
    feed(25);
    recorder.requestStop('test', 31_000);
    feed(1);
    await recorder.drain();
    const segs = index.segmentsOf(id ?? '');
    expect(segs.map((s) => [s.firstMediaMs, s.endMediaMs])).toEqual([
      [1000, 11_000],
      [11_000, 21_000],
      [21_000, 31_000],
    ]);
    const joined = contents()
      .map((c) => c.replace(/^init/, ''))
      .join('');
    const videos = [...joined.matchAll(/v(\d+);/g)].map((m) => Number(m[1]));
    expect(videos).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(contents().every((c) => c.startsWith('initv'))).toBe(true);
  });

  it('syncs once the queue drains, so the flushed pre-roll is durable before live footage arrives', async () => {
    const { recorder, feed, activate } = setup();
    feed(8);
    activate(8000);
    await recorder.drain();
    const [file] = MemoryFile.files.values();
    expect(file?.synced).toBe('initv3;v4;v5;v6;v7;');
    feed(1);
    await recorder.drain();
    expect(file?.synced).toBe('initv3;v4;v5;v6;v7;v8;a8;');
  });

  it('gives a second activation right after a stop its full pre-roll', async () => {
    const { recorder, feed, activate, index } = setup();
    feed(10);
    activate(10_000);
    feed(2);
    recorder.requestStop('test', 12_000);
    feed(1);
    const second = activate(13_000);
    expect(second).not.toBeNull();
    feed(1);
    recorder.requestStop('test', 14_000);
    feed(1);
    await recorder.drain();
    const incidents = index.incidents();
    expect(incidents).toHaveLength(2);
    expect(incidents[1]?.prerollActualMs).toBe(5000);
    expect(contents()[1]).toBe('initv8;v9;v10;v11;v12;v13;a13;');
  });

  it('ignores a second activation while recording and a stop while buffering', async () => {
    const { recorder, feed, activate } = setup();
    expect(recorder.requestStop('test', 0)).toBe(false);
    feed(2);
    expect(activate(2000)).not.toBeNull();
    expect(activate(2000)).toBeNull();
    expect(recorder.state).toBe('recording');
  });
});
