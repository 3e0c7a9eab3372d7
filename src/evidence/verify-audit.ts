/**
 * A device's audit log, streamed with bounded memory: every entry signed by the device's anchor key, seqs contiguous
 * from 0, each `prev` naming the entry before. A torn last line (a power cut during an append) is a warning; a
 * malformed complete line is an error. Returned for the completeness checks: the manifests the log names (the camera
 * writes a `manifest` entry `{chainSeq, hash, kind, file}` for each) and the hashes at the seqs asked for.
 */

import { errnoCode } from '../lib/errors.ts';
import type { Anchor } from './anchors.ts';
import { type AuditEntry, parseAuditLine } from './audit.ts';
import type { ChainHead } from './envelope.ts';
import { envelopeHash, verifySignature } from './envelope.ts';
import { readLines } from './lines.ts';
import { AUDIT_LOG } from './paths.ts';
import type { DeviceFindings } from './report.ts';
import { count, hex } from './schema.ts';
import { type FileRead, openFile } from './tree-fs.ts';
import { type FileRef, relJoin } from './walk-incident.ts';

/** A manifest the audit log names. */
export interface NamedManifest {
  line: number;
  chainSeq: number;
  hash: string;
  file: string;
}

export interface AuditResult {
  /** Entries of this device (signed by its key, or unchecked without one). */
  entries: number;
  /** The last entry of the contiguous chain from the first one, or null. */
  head: ChainHead | null;
  /** The lowest seq present. */
  first: number | null;
  named: NamedManifest[];
  /** Hashes at the seqs in `watch`, where present. */
  at: Map<number, string>;
}

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}–${to}`;
}

const isCount = (v: unknown) => {
  try {
    count(v, '');
    return true;
  } catch {
    return false;
  }
};
const isHash = (v: unknown) => {
  try {
    hex(64)(v, '');
    return true;
  } catch {
    return false;
  }
};

/**
 * Checks the audit log `file` (null: none here) against `anchor` (null: signatures unchecked, reported elsewhere).
 * `missingIsError`: on a camera the log exists from its first start; at a dock it arrives after the footage.
 */
export async function checkAudit(
  file: FileRef | null,
  deviceRel: string,
  anchor: Anchor | null,
  watch: ReadonlySet<number>,
  missingIsError: boolean,
  f: DeviceFindings,
  files: FileRead[],
): Promise<AuditResult> {
  const result: AuditResult = { entries: 0, head: null, first: null, named: [], at: new Map() };
  if (file === null) {
    const segment = relJoin(deviceRel, AUDIT_LOG);
    if (missingIsError) f.error('audit-missing', 'the device has no audit log here', { segment });
    else f.warn('audit-missing', 'the device has no audit log here (yet)', { segment });
    return result;
  }
  const where = (line: number) => ({ segment: file.rel, line });
  let before: { seq: number; hash: string; bad: boolean } | null = null;
  const onEntry = (line: number, text: string) => {
    const parsed = parseAuditLine(text);
    if ('reason' in parsed) {
      f.error('audit-malformed', `not a well-formed audit entry (${parsed.reason}): altered or inserted`, where(line));
      return;
    }
    const env = parsed.envelope;
    const p: AuditEntry = env.payload;
    if (anchor !== null && env.keyId !== anchor.id) {
      f.error('wrong-device', `entry signed by key ${env.keyId}, not by this device's key ${anchor.id}`, where(line));
      return;
    }
    const bad = anchor !== null && !verifySignature(env, anchor.key);
    if (bad) f.error('bad-signature', `the signature of entry ${p.seq} does not match: altered`, where(line));
    const hash = envelopeHash(env);
    result.entries++;
    if (watch.has(p.seq)) result.at.set(p.seq, hash);
    if (!bad && p.kind === 'manifest') {
      const d = p.data;
      if (isCount(d['chainSeq']) && isHash(d['hash'])) {
        const named = { line, chainSeq: d['chainSeq'] as number, hash: d['hash'] as string };
        result.named.push({ ...named, file: typeof d['file'] === 'string' ? d['file'] : '' });
      } else f.error('audit-malformed', 'a manifest entry without a chainSeq and hash', where(line));
    }
    if (before === null) {
      result.first = p.seq;
      if (p.seq > 0) {
        f.error(
          'audit-starts-late',
          `the log starts at entry ${p.seq}; entries ${range(0, p.seq - 1)} were removed`,
          where(line),
        );
      }
    } else if (p.seq > before.seq + 1) {
      f.error(
        'audit-gap',
        `entries ${range(before.seq + 1, p.seq - 1)} missing before line ${line}: removed`,
        where(line),
      );
    } else if (p.seq <= before.seq) {
      f.error('audit-broken', `entry ${p.seq} follows entry ${before.seq}: entries reordered or replayed`, where(line));
    } else if (!bad && !before.bad && p.prev !== before.hash) {
      f.error(
        'audit-broken',
        `entry ${p.seq}'s prev does not match entry ${before.seq}: an entry was replaced`,
        where(line),
      );
    }
    if (before === null || p.seq > before.seq) {
      before = { seq: p.seq, hash, bad };
      result.head = { seq: p.seq, hash };
    }
  };
  try {
    const { fh } = await openFile(file.abs);
    try {
      const read = await readLines(fh, (l) => {
        if ('tooLong' in l) {
          f.error(
            'audit-malformed',
            `a line of ${l.tooLong} bytes, longer than any entry: altered or inserted`,
            where(l.line),
          );
        } else onEntry(l.line, l.text);
      });
      files.push({ file: file.rel, bytes: read.bytes, sha256: read.sha256 });
      if (read.tornTail !== null) {
        f.warn(
          'audit-torn-tail',
          `an append cut short (${read.tornTail.bytes} bytes, a power loss), ignored`,
          where(read.tornTail.line),
        );
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    f.error('unreadable', `the audit log cannot be read (${errnoCode(e) ?? String(e)})`, { segment: file.rel });
  }
  return result;
}
