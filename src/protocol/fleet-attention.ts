/**
 * What needs attention in a fleet, first: a pure ranking of fleet status records (fleet-status.ts), used by
 * `bodycam fleet status` at the centre. Each record gets every reason that applies; the most urgent decides its
 * place, then the site and the device id.
 */
import type { FleetStatus } from './fleet-status.ts';

/** Thresholds past which a camera needs a look. */
export const ATTENTION = {
  /** Evidence still on the camera this long after the camera said so. */
  pendingMs: 24 * 3_600_000,
  /** Fewer minutes of recording left than this. */
  storageMinutes: 60,
  /** A camera clock further from the dock's than this. */
  clockOffsetMs: 2000,
  /** Not seen at a dock for this long. */
  unseenMs: 7 * 24 * 3_600_000,
} as const;

/** Reasons, most urgent first: the order of this list is the order of the report. */
export const REASONS = [
  'fault',
  'withdrawn',
  'evidence pending offload',
  'storage low',
  'clock offset',
  'not seen',
  'never seen',
] as const;
export type Reason = (typeof REASONS)[number];

/** Why `s` needs attention at `nowMs` (empty: it does not), most urgent first. */
export function attentionOf(s: FleetStatus, nowMs: number): Reason[] {
  const why: Reason[] = [];
  if (s.faults.length > 0) why.push('fault');
  if (s.withdrawn !== null) why.push('withdrawn');
  const p = s.pending;
  if (p !== null && p.segments + p.closings > 0 && nowMs - Date.parse(p.reportedAt) >= ATTENTION.pendingMs) {
    why.push('evidence pending offload');
  }
  if (s.storageMinutesLeft !== null && s.storageMinutesLeft < ATTENTION.storageMinutes) why.push('storage low');
  if (s.clockOffsetMs !== null && Math.abs(s.clockOffsetMs) > ATTENTION.clockOffsetMs) why.push('clock offset');
  if (s.lastSeen === null) why.push('never seen');
  else if (nowMs - Date.parse(s.lastSeen) >= ATTENTION.unseenMs) why.push('not seen');
  return why;
}

export interface FleetRow {
  site: string;
  status: FleetStatus;
  attention: Reason[];
}

/** Every camera of every site, what needs attention first (by its most urgent reason), then by site and device. */
export function orderFleet(records: ReadonlyArray<{ site: string; status: FleetStatus }>, nowMs: number): FleetRow[] {
  const rank = (why: readonly Reason[]) => (why.length === 0 ? REASONS.length : REASONS.indexOf(why[0] as Reason));
  return records
    .map((r) => ({ ...r, attention: attentionOf(r.status, nowMs) }))
    .sort(
      (a, b) =>
        rank(a.attention) - rank(b.attention) ||
        a.site.localeCompare(b.site) ||
        a.status.device.localeCompare(b.status.device),
    );
}
