import { constants } from 'node:fs';
import { type FileHandle, open, readFile, rename } from 'node:fs/promises';
import { partialFileFor, tailFileFor, tailTmpFileFor } from '../../../evidence/paths.ts';
import { BodycamError, ErrorCode, errnoCode } from '../../../lib/errors.ts';
import { exists, fsyncParent, sha256OfFile, storageError, unlinkIfPresent, writeAll } from '../../../lib/fs.ts';
import type { SegmentRow, SegmentStore } from '../../storage/segments.ts';
import { AGE_MAGIC, decodeTail, keptLength, type SegmentProgress } from './tail.ts';
import type { SealedSegment } from './writer.ts';

export interface RecoveredSegment extends SealedSegment {
  /** close() had finished the file and only its tail was left: nothing after the last sync was cut. */
  complete: boolean;
  /** The recorder's progress at the sync the file was recovered to (null when the note was absent). */
  progress: SegmentProgress | null;
}

function cannot(path: string, problem: string, details: Record<string, unknown> = {}): BodycamError {
  return new BodycamError(ErrorCode.SEAL_RECOVERY, `Cannot recover ${path}: ${problem}; files left as they are`, {
    path,
    ...details,
  });
}

/**
 * Finishes an interrupted segment from its last sync, given the final path. Returns null when no sync ever
 * completed (no tail, no final file): nothing was promised durable, so the partial file is left for the caller to
 * judge. A final file with neither tail nor partial is a segment close() finished (it removes the tail last) before
 * the index heard of it: complete, returned as it is.
 * A leftover `.tail.tmp` belongs to a sync that never returned and is discarded. Safe to run again if it is itself
 * interrupted: every step before the rename is repeatable.
 */
export async function recoverSegmentFile(path: string): Promise<RecoveredSegment | null> {
  const partial = partialFileFor(path);
  const tailFile = tailFileFor(path);
  if (await unlinkIfPresent(tailTmpFileFor(path))) await fsyncParent(path);
  let bytes: Buffer;
  try {
    bytes = await readFile(tailFile);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw storageError(e, tailFile, 'reading');
    if ((await exists(partial)) || !(await exists(path))) return null;
    return { path, ...(await sha256OfFile(path)), complete: true, progress: null };
  }
  const [hasPartial, hasFinal] = await Promise.all([exists(partial), exists(path)]);
  if (!hasPartial) {
    if (!hasFinal) throw cannot(path, 'a tail file exists but the partial file is gone');
    // close() got as far as the rename: the file is complete; only the tail was left behind.
    const { progress } = decodeTail(path, bytes);
    await unlinkIfPresent(tailFile);
    await fsyncParent(path);
    return { path, ...(await sha256OfFile(path)), complete: true, progress };
  }
  if (hasFinal) throw cannot(path, 'both the partial and the final file exist');

  const tail = decodeTail(path, bytes);
  const keep = keptLength(tail);
  let handle: FileHandle | undefined;
  try {
    // Never through a link: one planted at the partial's name (card access) would have recovery cut and rewrite
    // whatever file it points to. ELOOP leaves every file as it is, and the row open, as any failure here does.
    handle = await open(partial, constants.O_RDWR | constants.O_NOFOLLOW);
    const { size } = await handle.stat();
    if (size < keep) {
      throw cannot(path, `the partial file has ${size} bytes but the last sync covered ${keep}`, { size, keep });
    }
    const magic = Buffer.alloc(AGE_MAGIC.length);
    await handle.read(magic, 0, magic.length, 0);
    if (!magic.equals(AGE_MAGIC)) throw cannot(path, 'the partial file does not start with an age header');
    await handle.truncate(keep);
    await writeAll(handle, tail.finalChunk, keep);
    await handle.datasync();
  } catch (e) {
    throw storageError(e, partial, 'recovering');
  } finally {
    await handle?.close();
  }
  try {
    await rename(partial, path);
  } catch (e) {
    throw storageError(e, partial, 'renaming');
  }
  await fsyncParent(path);
  await unlinkIfPresent(tailFile);
  await fsyncParent(path);
  return { path, ...(await sha256OfFile(path)), complete: false, progress: tail.progress };
}

export type FinishedSegment = { state: 'lost'; bytes: 0 } | { state: 'recovered'; bytes: number; sha256: string };

/**
 * Finishes an `open` segment the way a power cut leaves it, and its index row with it: `recovered` to its last sync
 * (its progress from the tail, the index's when the note is absent), or `lost` when no sync ever completed. Used at
 * start-up and by the recorder for a segment whose writer broke. Throws (SEAL or STORAGE) when recovery fails; the
 * row then stays `open` for the next start.
 */
export async function finishInterrupted(
  segments: Pick<SegmentStore, 'finish'>,
  seg: Pick<SegmentRow, 'id' | 'path' | 'endMediaMs' | 'frames' | 'fragments' | 'bytes'>,
): Promise<FinishedSegment> {
  const indexed = { endMediaMs: seg.endMediaMs, frames: seg.frames, fragments: seg.fragments, bytes: seg.bytes };
  const result = await recoverSegmentFile(seg.path);
  if (result === null) {
    segments.finish(seg.id, 'lost', { ...indexed, bytes: 0 }, null);
    return { state: 'lost', bytes: 0 };
  }
  const synced = result.progress ?? indexed;
  segments.finish(seg.id, 'recovered', { ...synced, bytes: result.bytes }, result.sha256);
  return { state: 'recovered', bytes: result.bytes, sha256: result.sha256 };
}
