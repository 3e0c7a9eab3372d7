/** Start-up recovery against a real SQLite index and real segment files left as a crash leaves them. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateIdentity, parseRecipient } from '../../../src/age/keys.ts';
import { recoverInterrupted } from '../../../src/camera/recording/segments/startup-recovery.ts';
import type { SegmentProgress } from '../../../src/camera/recording/segments/tail.ts';
import { SegmentWriter } from '../../../src/camera/recording/segments/writer.ts';
import { CameraStore } from '../../../src/camera/storage/store.ts';
import { segmentPath } from '../../../src/evidence/paths.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { decryptWith } from '../../harness/age.ts';

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-recovery-'));
  const { identity, recipient } = generateIdentity();
  const store = CameraStore.open(dir);
  store.incidents.open(
    {
      id: 'inc',
      trigger: 'button',
      activatedAt: new Date().toISOString(),
      activationMediaMs: 30_000,
      prerollRequestedMs: 30_000,
      prerollActualMs: 30_000,
      firstMediaMs: 0,
      warning: { state: 'pending' },
    },
    {},
  );
  return { dir, identity, store, recipients: [parseRecipient(recipient)] };
}

/** A segment written and synced, then abandoned as a crash would leave it. */
async function crashedSegment(t: ReturnType<typeof setup>, seq: number, synced: Buffer, progress: SegmentProgress) {
  const relative = segmentPath('inc', seq);
  const file = path.join(t.dir, relative);
  const id = t.store.segments.insert('inc', seq, relative, 0);
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.dirname(file), { recursive: true });
  const w = await SegmentWriter.create({ path: file, recipients: t.recipients });
  await w.write(synced);
  await w.sync(progress);
  await w.write(Buffer.from('never synced'));
  await w.abort();
  return { file, id };
}

const recover = (t: ReturnType<typeof setup>) => recoverInterrupted({ ...deps(t.store), logger: silentLogger() });
const deps = (store: CameraStore) => ({ incidents: store.incidents, segments: store.segments, events: store.events });

describe('recoverInterrupted', () => {
  it('recovers synced data with the progress of its last sync, marks unsynced as lost, and leaves damaged files alone', async () => {
    const t = setup();
    const good = await crashedSegment(t, 0, Buffer.from('fragment bytes'), {
      endMediaMs: 5000,
      frames: 150,
      fragments: 10,
    });
    const damaged = await crashedSegment(t, 1, Buffer.from('other bytes'), {
      endMediaMs: 9000,
      frames: 120,
      fragments: 8,
    });
    writeFileSync(`${damaged.file}.tail`, 'not a tail at all, but long enough to look like one');
    const damagedBytes = readFileSync(`${damaged.file}.partial`);
    t.store.segments.insert('inc', 2, segmentPath('inc', 2), 9000);

    expect(await recover(t)).toEqual({ recovered: 1, lost: 1, failed: 1, interruptedIncidents: 1 });

    const segs = t.store.segments.ofIncident('inc');
    expect(segs.map((s) => s.state)).toEqual(['recovered', 'open', 'lost']);
    expect(segs[0]).toMatchObject({ frames: 150, fragments: 10, endMediaMs: 5000, path: good.file });
    expect(decryptWith(t.identity, good.file).toString()).toBe('fragment bytes');
    expect(readFileSync(`${damaged.file}.partial`).equals(damagedBytes)).toBe(true);
    expect(t.store.incidents.get('inc')?.state).toBe('interrupted');
    expect(t.store.events.recent(10).map((e) => e.kind)).toEqual(['activation', 'segment_recovered', 'segment_lost']);

    // Running it again changes nothing that was settled and still leaves the damaged one alone.
    expect(await recover(t)).toEqual({ recovered: 0, lost: 0, failed: 1, interruptedIncidents: 0 });
  });
});
