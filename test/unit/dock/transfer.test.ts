/**
 * One segment coming in at the dock (src/dock/sync/transfer.ts), on a real incoming file and progress database under
 * the fake clock: the pull window and when it is asked again, which chunks are taken, written, dropped or refused,
 * the stall that asks again, durable checkpoints, and resuming from the durable length (or from 0 when the file is
 * shorter than that).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Progress } from '../../../src/dock/sync/progress.ts';
import { STALL_MS, Transfer, type TransferItem } from '../../../src/dock/sync/transfer.ts';
import { FakeClock } from '../../../src/hal/clock/fake.ts';
import { CHUNK_BYTES as C } from '../../../src/protocol/limits.ts';
import type { ChunkHeader, SegmentOffer } from '../../../src/protocol/messages.ts';

/** Lets I/O complete (a checkpoint's fdatasync) until `done()`, without moving the fake clock. */
async function settled(done: () => boolean): Promise<void> {
  for (let turns = 0; !done(); turns++) {
    if (turns > 1_000_000) throw new Error('never settled');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const INCIDENT = 'cam-t-20260101T000000Z-0000';

function incoming(bytes: Buffer, o: { checkpointBytes?: number } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-transfer-'));
  const clock = new FakeClock();
  const progress = Progress.open(dir, { wallNow: () => clock.wallNow() });
  const offer: SegmentOffer = {
    incident: INCIDENT,
    seq: 0,
    file: '0000.mp4.age',
    bytes: bytes.length,
    sha256: sha(bytes),
    manifest: {},
  };
  const item = { offer, hash: 'ab'.repeat(32), env: {} } as unknown as TransferItem;
  const file = path.join(dir, 'incoming.part');
  const pulls: Array<[number, number]> = [];
  const lines: string[] = [];
  let allRequested = 0;
  const open = () =>
    Transfer.open({
      file,
      offer,
      item,
      row: progress.begin({ device: 'cam-t', ...offer, chainSeq: 0, manifestHash: item.hash }),
      progress,
      clock,
      pull: (offset, count) => pulls.push([offset, count]),
      onAllRequested: () => {
        allRequested += 1;
      },
      onProgress: (line) => lines.push(line),
      ...o,
    });
  const chunk = (offset: number, over: Partial<ChunkHeader> = {}): [ChunkHeader, Buffer] => {
    const b = Buffer.from(bytes.subarray(offset, offset + C));
    return [{ session: 's', incident: INCIDENT, seq: 0, offset, sha256: sha(b), ...over }, b];
  };
  const row = () => progress.transfer('cam-t', INCIDENT, 0);
  return { clock, progress, file, pulls, lines, open, chunk, row, allRequested: () => allRequested };
}

describe('a transfer', () => {
  it('keeps a window asked for ahead, asks again at half, and completes with the digest of what came', async () => {
    const bytes = randomBytes(50 * C + 1000);
    const x = incoming(bytes);
    const t = await x.open();
    expect(x.pulls).toEqual([[0, 32]]);
    for (let i = 0; i < 16; i++) expect(await t.chunk(...x.chunk(i * C))).toBe('more');
    expect(x.pulls).toEqual([
      [0, 32],
      [32 * C, 16],
    ]);
    for (let i = 16; i < 32; i++) await t.chunk(...x.chunk(i * C));
    expect(x.pulls.at(-1)).toEqual([48 * C, 3]);
    expect(t.allRequested).toBe(true);
    expect(x.allRequested()).toBe(1);
    for (let i = 32; i < 50; i++) expect(await t.chunk(...x.chunk(i * C))).toBe('more');
    expect(await t.chunk(...x.chunk(50 * C))).toBe('complete');
    expect(t.complete).toBe(true);
    expect(t.digest()).toEqual({ bytes: bytes.length, sha256: sha(bytes) });
    await t.close();
    expect(readFileSync(x.file).equals(bytes)).toBe(true);
    expect(x.row()).toMatchObject({ received: bytes.length, receivedTotal: bytes.length });
  });

  it('takes only chunks that were asked for; drops damaged, early and repeated ones unwritten', async () => {
    const bytes = randomBytes(40 * C);
    const x = incoming(bytes);
    const t = await x.open();
    const [h0, b0] = x.chunk(0);
    expect(t.problem({ ...h0, offset: 100 }, C)).toBe('offset 100 is not on a chunk boundary');
    expect(await t.chunk({ ...h0, offset: 32 * C }, b0)).toEqual({ refused: `offset ${32 * C} was not asked for` });
    expect(await t.chunk(h0, b0.subarray(1))).toEqual({
      refused: `${C - 1} bytes at offset 0: the pull asked for ${C}`,
    });
    expect(await t.chunk(...x.chunk(0, { sha256: 'f'.repeat(64) }))).toBe('more');
    expect(await t.chunk(...x.chunk(C))).toBe('more'); // before the one expected
    expect(t.received).toBe(0);
    expect(await t.chunk(h0, b0)).toBe('more');
    expect(await t.chunk(h0, b0)).toBe('more'); // again
    expect(t.received).toBe(C);
    // A chunk of another segment is not this transfer's business.
    expect(await t.chunk({ ...h0, seq: 1 }, b0)).toBe('more');
    await t.close();
    expect(readFileSync(x.file).length).toBe(C);
  });

  it('asks again from the next byte expected when nothing comes for the stall time, on the clock it is given', async () => {
    const x = incoming(randomBytes(40 * C));
    const t = await x.open();
    await t.chunk(...x.chunk(0));
    await x.clock.advance(STALL_MS - 1);
    expect(x.pulls).toEqual([[0, 32]]);
    await x.clock.advance(1);
    expect(x.pulls).toEqual([
      [0, 32],
      [C, 32],
    ]);
    await t.close();
    await x.clock.advance(STALL_MS);
    expect(x.pulls).toHaveLength(2);
    expect(x.clock.pending).toBe(0);
  });

  it('makes what came durable at each checkpoint and resumes from there; hashes the file when resumed', async () => {
    const bytes = randomBytes(8 * C + 10);
    const x = incoming(bytes, { checkpointBytes: 2 * C });
    const t = await x.open();
    await x.clock.advance(1000);
    // A checkpoint runs beside the chunks that follow it: each is let finish before the next chunk comes.
    for (let i = 0; i < 5; i++) {
      await t.chunk(...x.chunk(i * C));
      await settled(() => x.row()?.received === 2 * C * Math.floor((i + 1) / 2));
    }
    await t.close();
    // Four chunks durable (two checkpoints); the fifth counts as received, and will come again.
    expect(x.row()).toMatchObject({ received: 4 * C, receivedTotal: 5 * C });
    expect(x.lines[0]).toBe(`${INCIDENT}/0000.mp4.age 24% of 2.1 MB, 0.5 MB/s`);

    const again = await x.open();
    expect(x.pulls.at(-1)).toEqual([4 * C, 5]);
    expect(readFileSync(x.file).length).toBe(4 * C);
    for (let i = 4; i < 8; i++) await again.chunk(...x.chunk(i * C));
    expect(await again.chunk(...x.chunk(8 * C))).toBe('complete');
    expect(again.digest()).toBeNull();
    await again.close();
    expect(sha(readFileSync(x.file))).toBe(sha(bytes));
    expect(x.row()).toMatchObject({ received: bytes.length, receivedTotal: 9 * C + 10 });
  });

  it('starts again from 0 when the incoming file is shorter than its durable length, never over a hole', async () => {
    const bytes = randomBytes(6 * C);
    const x = incoming(bytes, { checkpointBytes: C });
    const t = await x.open();
    for (let i = 0; i < 3; i++) {
      await t.chunk(...x.chunk(i * C));
      await settled(() => x.row()?.received === (i + 1) * C);
    }
    await t.close();
    expect(x.row()?.received).toBe(3 * C);
    truncateSync(x.file, C);
    const again = await x.open();
    expect(x.pulls.at(-1)).toEqual([0, 6]);
    expect(x.row()?.received).toBe(0);
    expect(again.received).toBe(0);
    await again.close();
  });
});
