/**
 * Signed JSON lines (`audit.jsonl`, `dockings.jsonl`): one canonical-JSON envelope per line, each ending in `\n`.
 * A line is parsed only when it is short enough, bounded in depth, a well-formed envelope and written canonically;
 * the reader streams a file with bounded memory however long it is or however long its lines are.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { canonicalJson } from './canonical.ts';
import type { Envelope } from './envelope.ts';
import { parseBoundedJson } from './json.ts';
import type { Check } from './schema.ts';

/** Longer than any entry the camera writes (a few hundred bytes); the sync protocol refuses longer lines too. */
export const MAX_LINE_BYTES = 64 * 1024;

/** One line's envelope, or why it is not one. */
export type ParsedLine<T> = { envelope: Envelope<T> } | { reason: string };

/** Parses one complete line (without its newline) as an envelope passing `check`. Never throws. */
export function parseSignedLine<T>(text: string, check: Check): ParsedLine<T> {
  if (text.length > MAX_LINE_BYTES) return { reason: `a line of ${text.length} characters` };
  let value: unknown;
  try {
    value = parseBoundedJson(text, 'the line', MAX_LINE_BYTES);
  } catch (e) {
    return { reason: (e as Error).message };
  }
  try {
    check(value, '$');
  } catch (e) {
    return { reason: e instanceof Error ? e.message : String(e) };
  }
  let canonical: string;
  try {
    canonical = canonicalJson(value);
  } catch (e) {
    return { reason: (e as Error).message };
  }
  if (canonical !== text) return { reason: 'not written as canonical JSON' };
  return { envelope: value as Envelope<T> };
}

/** What `readLines` saw of the whole file. */
export interface LinesRead {
  bytes: number;
  sha256: string;
  /** Text after the last newline (an append cut short): its line number and length; null when none. */
  tornTail: { line: number; bytes: number } | null;
}

/** A complete line (1-based number), or a line longer than MAX_LINE_BYTES (its text dropped, never buffered). */
export type Line = { line: number; text: string } | { line: number; tooLong: number };

const READ_BYTES = 64 * 1024;

/**
 * Streams the open file `fh` line by line into `onLine`, hashing every byte read. Memory stays within
 * MAX_LINE_BYTES plus one read, whatever the file holds.
 */
export async function readLines(fh: FileHandle, onLine: (line: Line) => void): Promise<LinesRead> {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(READ_BYTES);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let skipping = 0; // > 0: inside a line already too long, counting its bytes
  let lineNo = 0;
  let total = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    const chunk = buf.subarray(0, bytesRead);
    hash.update(chunk);
    total += bytesRead;
    let at = 0;
    while (at < chunk.length) {
      const nl = chunk.indexOf(0x0a, at);
      const end = nl < 0 ? chunk.length : nl;
      const piece = chunk.subarray(at, end);
      if (skipping > 0) skipping += piece.length;
      else if (pendingBytes + piece.length > MAX_LINE_BYTES) {
        skipping = pendingBytes + piece.length;
        pending = [];
        pendingBytes = 0;
      } else {
        pending.push(Buffer.from(piece));
        pendingBytes += piece.length;
      }
      if (nl < 0) break;
      lineNo++;
      if (skipping > 0) onLine({ line: lineNo, tooLong: skipping });
      else onLine({ line: lineNo, text: Buffer.concat(pending, pendingBytes).toString('utf8') });
      pending = [];
      pendingBytes = 0;
      skipping = 0;
      at = nl + 1;
    }
  }
  const tail = skipping > 0 ? skipping : pendingBytes;
  return {
    bytes: total,
    sha256: hash.digest('hex'),
    tornTail: tail > 0 ? { line: lineNo + 1, bytes: tail } : null,
  };
}
