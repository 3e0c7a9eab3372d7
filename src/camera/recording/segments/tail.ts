/**
 * The recovery tail: the one contract between a segment being written and its recovery after a power cut
 * (docs/design.md §7). Each sync atomically replaces `<segment>.tail` with
 *
 *   `BCTAIL1\n` · age header length (uint32 BE) · whole chunks on disk (uint64 BE) · note length (uint32 BE) ·
 *   the progress note · the pending plaintext sealed as a final age chunk
 *
 * so recovery can cut the partial file back to the chunks the tail vouches for and append the final chunk, without
 * a key and without the index. The progress note is what the recorder knew at that sync (media end, frames,
 * fragments) as JSON: plaintext metadata, never content, committed atomically with the data it describes.
 */
import { SEALED_CHUNK_SIZE, TAG_SIZE } from '../../../age/sealer.ts';
import { BodycamError, ErrorCode } from '../../../lib/errors.ts';

const MAGIC = Buffer.from('BCTAIL1\n');
const PREAMBLE = MAGIC.length + 4 + 8 + 4;
const MAX_NOTE = 4096;
/** The age header starts with this line; anything shorter is not an age header. */
export const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');

/** How far a segment had got at a sync; the index row is set to this after a recovery. */
export interface SegmentProgress {
  /** End of the last video fragment written, capture timeline ms. */
  endMediaMs: number;
  /** Video frames written. */
  frames: number;
  /** Fragments (video and audio) written. */
  fragments: number;
}

export interface Tail {
  /** Bytes of the age header (through the payload nonce) at the start of the file. */
  headerLength: number;
  /** Whole 64 KiB chunks on disk that this tail follows. */
  chunkCount: number;
  /** The progress note; null when the writer gave none or it is unreadable (recovery then keeps the index row). */
  progress: SegmentProgress | null;
  /** The sealed final chunk to append. */
  finalChunk: Buffer;
}

export function encodeTail(t: Tail): Buffer {
  const note = t.progress === null ? Buffer.alloc(0) : Buffer.from(JSON.stringify(t.progress));
  if (note.length > MAX_NOTE) throw new BodycamError(ErrorCode.SEAL_STATE, 'tail progress note over 4 KiB');
  const preamble = Buffer.alloc(PREAMBLE);
  MAGIC.copy(preamble);
  preamble.writeUInt32BE(t.headerLength, MAGIC.length);
  preamble.writeBigUInt64BE(BigInt(t.chunkCount), MAGIC.length + 4);
  preamble.writeUInt32BE(note.length, MAGIC.length + 12);
  return Buffer.concat([preamble, note, t.finalChunk]);
}

/** Bytes of the segment file that the tail vouches for: header and whole chunks. */
export function keptLength(t: Tail): number {
  return t.headerLength + t.chunkCount * SEALED_CHUNK_SIZE;
}

function damaged(path: string, problem: string, details: Record<string, unknown> = {}): BodycamError {
  return new BodycamError(ErrorCode.SEAL_RECOVERY, `Cannot recover ${path}: ${problem}; files left as they are`, {
    path,
    ...details,
  });
}

/** Parses a tail file's bytes; a damaged one is SEAL_RECOVERY naming `path` and the problem. */
export function decodeTail(path: string, bytes: Buffer): Tail {
  if (bytes.length < PREAMBLE + TAG_SIZE || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw damaged(path, 'the tail file is not a BCTAIL1 file');
  }
  const headerLength = bytes.readUInt32BE(MAGIC.length);
  const chunkCount = Number(bytes.readBigUInt64BE(MAGIC.length + 4));
  const noteLength = bytes.readUInt32BE(MAGIC.length + 12);
  if (noteLength > MAX_NOTE || PREAMBLE + noteLength + TAG_SIZE > bytes.length) {
    throw damaged(path, 'the tail file has an impossible note length', { noteLength });
  }
  const finalChunk = bytes.subarray(PREAMBLE + noteLength);
  if (finalChunk.length > SEALED_CHUNK_SIZE || !Number.isSafeInteger(chunkCount) || headerLength < AGE_MAGIC.length) {
    throw damaged(path, 'the tail file has impossible sizes', { headerLength, chunkCount });
  }
  return {
    headerLength,
    chunkCount,
    progress: decodeProgress(bytes.subarray(PREAMBLE, PREAMBLE + noteLength)),
    finalChunk,
  };
}

/** The progress note, or null when absent or unreadable: an unreadable note costs precision, never footage. */
function decodeProgress(note: Buffer): SegmentProgress | null {
  if (note.length === 0) return null;
  try {
    const { endMediaMs, frames, fragments } = JSON.parse(note.toString('utf8')) as Record<string, unknown>;
    if (typeof endMediaMs === 'number' && typeof frames === 'number' && typeof fragments === 'number') {
      return { endMediaMs, frames, fragments };
    }
  } catch {
    // fall through
  }
  return null;
}
