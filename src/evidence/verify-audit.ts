/**
 * A device's audit log: every entry signed by the device key, seqs contiguous, each `prev` naming the entry before.
 * A torn last line (a power cut during an append) is a warning; a malformed complete line is an error.
 */
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../lib/errors.ts';
import { AUDIT_LOG, parseAuditLog } from './audit.ts';
import { verifySignature } from './envelope.ts';
import type { DeviceFindings } from './report.ts';
import { relJoin } from './scan.ts';

/** The key a device is checked against, or null when there is none. */
export type DeviceKey = { key: KeyObject; id: string } | null;

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}–${to}`;
}

/**
 * Checks `audit.jsonl` in `deviceAbs` and returns how many of its entries belong to the device. `owners` maps key
 * ids given to the verifier to their device, to name the device an entry came from.
 */
export async function checkAudit(
  deviceAbs: string,
  deviceRel: string,
  key: DeviceKey,
  owners: ReadonlyMap<string, string>,
  f: DeviceFindings,
): Promise<number> {
  const file = relJoin(deviceRel, AUDIT_LOG);
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(deviceAbs, AUDIT_LOG));
  } catch (e) {
    const errno = errnoCode(e);
    if (errno === 'ENOENT') f.warn('audit-missing', 'the device has no audit log here', { segment: file });
    else f.error('unreadable', `the audit log cannot be read (${errno ?? String(e)})`, { segment: file });
    return 0;
  }
  const log = parseAuditLog(bytes);
  for (const m of log.malformed) {
    f.error('audit-malformed', `not a well-formed audit entry (${m.reason}): altered or inserted`, {
      segment: file,
      line: m.line,
    });
  }
  const ours: Array<(typeof log.entries)[number] & { bad: boolean }> = [];
  for (const e of log.entries) {
    const where = { segment: file, line: e.line };
    if (key !== null && e.envelope.keyId !== key.id) {
      const owner = owners.get(e.envelope.keyId);
      const whose = owner === undefined ? '' : ` (device ${owner})`;
      f.error('wrong-device', `entry signed by key ${e.envelope.keyId}${whose}, not by this device's key`, where);
      continue;
    }
    const bad = key !== null && !verifySignature(e.envelope, key.key);
    if (bad)
      f.error('bad-signature', `the signature of entry ${e.envelope.payload.seq} does not match: altered`, where);
    ours.push({ ...e, bad });
  }
  let before: (typeof ours)[number] | undefined;
  for (const e of ours) {
    const seq = e.envelope.payload.seq;
    const where = { segment: file, line: e.line };
    if (before === undefined) {
      if (seq > 0)
        f.warn(
          'audit-starts-late',
          `the log starts at entry ${seq}; earlier entries were removed or are kept elsewhere`,
          where,
        );
    } else {
      const last = before.envelope.payload.seq;
      if (seq > last + 1) {
        f.error('audit-gap', `entries ${range(last + 1, seq - 1)} missing before line ${e.line}: removed`, where);
      } else if (seq <= last) {
        f.error('audit-broken', `entry ${seq} follows entry ${last}: entries reordered or replayed`, where);
      } else if (!e.bad && !before.bad && e.envelope.payload.prev !== before.hash) {
        f.error('audit-broken', `entry ${seq}'s prev does not match entry ${last}: an entry was replaced`, where);
      }
    }
    before = e;
  }
  if (log.tornTail !== null) {
    f.warn('audit-torn-tail', `an append cut short (${log.tornTail.bytes} bytes, a power loss), ignored`, {
      segment: file,
      line: log.tornTail.line,
    });
  }
  return ours.length;
}
