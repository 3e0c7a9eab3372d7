/** Start-up recovery against a real SQLite index and real sealed files left as a crash leaves them. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/lib/logger.ts';
import { generateIdentity, identityFileText, parseRecipient } from '../../../src/age/keys.ts';
import { SealedFileWriter } from '../../../src/camera/recording/segments/sealed-file.ts';
import { IndexDb } from '../../../src/camera/storage/index-db.ts';
import { recoverInterrupted } from '../../../src/camera/recording/segments/startup-recovery.ts';

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-recovery-'));
  const { identity, recipient } = generateIdentity();
  const identityFile = path.join(dir, 'id.key');
  writeFileSync(identityFile, identityFileText(identity, recipient, new Date()));
  const index = new IndexDb(path.join(dir, 'index.sqlite'));
  index.insertIncident(
    {
      id: 'inc',
      trigger: 'button',
      activatedAt: new Date().toISOString(),
      activationMediaMs: 30_000,
      prerollRequestedMs: 30_000,
      prerollActualMs: 30_000,
      firstMediaMs: 0,
    },
    {},
  );
  return { dir, identityFile, index, recipients: [parseRecipient(recipient)] };
}

/** A segment written and synced, then abandoned as a crash would leave it. */
async function crashedSegment(t: ReturnType<typeof setup>, seq: number, synced: Buffer, meta: object) {
  const file = path.join(t.dir, `${seq}.mp4.age`);
  const id = t.index.insertSegment('inc', seq, file, 0);
  const w = await SealedFileWriter.create({ path: file, recipients: t.recipients });
  await w.write(synced);
  await w.sync(Buffer.from(JSON.stringify(meta)));
  await w.write(Buffer.from('never synced'));
  await w.abort();
  return { file, id };
}

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
    const neverSynced = path.join(t.dir, '2.mp4.age');
    t.index.insertSegment('inc', 2, neverSynced, 9000);

    const report = await recoverInterrupted(t.index, silentLogger());
    expect(report).toEqual({ recovered: 1, lost: 1, failed: 1, interruptedIncidents: 1 });

    const segs = t.index.segmentsOf('inc');
    expect(segs.map((s) => s.state)).toEqual(['recovered', 'open', 'lost']);
    expect(segs[0]).toMatchObject({ frames: 150, fragments: 10, endMediaMs: 5000 });
    const dec = spawnSync('age', ['-d', '-i', t.identityFile, good.file]);
    expect(dec.status).toBe(0);
    expect(dec.stdout.toString()).toBe('fragment bytes');
    expect(readFileSync(`${damaged.file}.partial`).equals(damagedBytes)).toBe(true);
    expect(t.index.incidents()[0]?.state).toBe('interrupted');

    // Running it again changes nothing that was settled and still leaves the damaged one alone.
    expect(await recoverInterrupted(t.index, silentLogger())).toEqual({
      recovered: 0,
      lost: 0,
      failed: 1,
      interruptedIncidents: 0,
    });
  });
});
