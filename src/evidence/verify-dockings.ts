/**
 * A device's docking records (docking.ts), streamed: each signed by an anchored dock key for this device. At a dock
 * they are the dock's own chain of records (seq contiguous from 0, each `prev` naming the one before); a camera keeps
 * those it received, in any order and with gaps. Returned: the highest manifest chain head and audit head that a
 * valid record vouches for, which the completeness check then holds the evidence to.
 */
import { errnoCode } from '../lib/errors.ts';
import type { Anchor } from './anchors.ts';
import { type DockingRecord, parseDockingLine } from './docking.ts';
import { type ChainHead, type Envelope, envelopeHash, verifySignature } from './envelope.ts';
import { readLines } from './lines.ts';
import { DOCKINGS_LOG } from './paths.ts';
import type { DeviceFindings, ProvenHead } from './report.ts';
import { type FileRead, openFile } from './tree-fs.ts';
import { type FileRef, relJoin } from './walk-incident.ts';

/** A head a record vouches for (its hash too, to compare with the evidence). */
export interface Bound extends ProvenHead {
  hash: string;
}

export interface DockingsResult {
  records: number;
  chain: Bound | null;
  audit: Bound | null;
}

function higher(current: Bound | null, head: ChainHead | null, env: Envelope<DockingRecord>): Bound | null {
  if (head === null || (current !== null && current.seq >= head.seq)) return current;
  const record = { seq: env.payload.seq, at: env.payload.at, dockKeyId: env.keyId };
  return { seq: head.seq, hash: head.hash, record };
}

/**
 * Checks `file` (null: no records here). `chained`: the dock's own records (contiguous chain); a camera's are not.
 * `expected`: the device has evidence a docking should have left a record for (receipts, or stored manifests).
 */
export async function checkDockings(
  file: FileRef | null,
  deviceRel: string,
  device: string,
  chained: boolean,
  docks: readonly Anchor[],
  expected: boolean,
  f: DeviceFindings,
  files: FileRead[],
): Promise<DockingsResult> {
  const result: DockingsResult = { records: 0, chain: null, audit: null };
  if (file === null) {
    if (expected) {
      f.warn('no-docking-record', "no docking record here: completeness rests on this device's own audit log", {
        segment: relJoin(deviceRel, DOCKINGS_LOG),
      });
    }
    return result;
  }
  const where = (line: number) => ({ segment: file.rel, line });
  let unchecked = 0;
  let before: { seq: number; hash: string } | null = null;
  const onRecord = (line: number, text: string) => {
    const parsed = parseDockingLine(text);
    if ('reason' in parsed) {
      f.error('docking-malformed', `not a well-formed docking record (${parsed.reason})`, where(line));
      return;
    }
    const env = parsed.envelope;
    const p = env.payload;
    if (docks.length === 0) {
      unchecked++;
      return;
    }
    const dock = docks.find((d) => d.id === env.keyId);
    if (dock === undefined || !verifySignature(env, dock.key)) {
      const why = dock === undefined ? `signed by key ${env.keyId}, not by a given dock key` : 'its signature fails';
      f.error('docking-bad-signature', `record ${p.seq}: ${why}: forged or altered`, where(line));
      return;
    }
    if (p.device !== device) {
      f.error('docking-malformed', `record ${p.seq} is a record of device ${p.device}, not of ${device}`, where(line));
      return;
    }
    const hash = envelopeHash(env);
    if (chained) {
      if (before === null && p.seq > 0)
        f.error('docking-gap', `the records start at ${p.seq}: earlier ones removed`, where(line));
      else if (before !== null && p.seq !== before.seq + 1) {
        f.error(
          'docking-gap',
          `record ${p.seq} follows record ${before.seq}: records removed or reordered`,
          where(line),
        );
      } else if (before !== null && p.prev !== before.hash) {
        f.error('docking-broken', `record ${p.seq}'s prev does not match record ${before.seq}: replaced`, where(line));
      }
      before = { seq: p.seq, hash };
    }
    result.records++;
    result.chain = higher(result.chain, p.chain, env);
    result.audit = higher(result.audit, p.audit, env);
  };
  try {
    const { fh } = await openFile(file.abs);
    try {
      const read = await readLines(fh, (l) => {
        if ('tooLong' in l)
          f.error('docking-malformed', `a line of ${l.tooLong} bytes, longer than any record`, where(l.line));
        else onRecord(l.line, l.text);
      });
      files.push({ file: file.rel, bytes: read.bytes, sha256: read.sha256 });
      if (read.tornTail !== null) {
        f.warn(
          'docking-malformed',
          `a record cut short (${read.tornTail.bytes} bytes, a power loss), ignored`,
          where(read.tornTail.line),
        );
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    f.error('unreadable', `the docking records cannot be read (${errnoCode(e) ?? String(e)})`, { segment: file.rel });
  }
  if (unchecked > 0) {
    f.warn('dockings-unchecked', `${unchecked} docking record(s) here, not checked: give the dock's key (--dock-key)`, {
      segment: file.rel,
    });
  }
  return result;
}
