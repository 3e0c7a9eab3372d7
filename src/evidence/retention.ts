/**
 * How long evidence is kept in the object store, as dates written with every object: `recorded` (when it was
 * recorded), `minimum-until` (Object Lock COMPLIANCE retention: no one can delete it before) and `delete-due` (when
 * the custody service deletes it, unless held). Belgian police function act arts. 25/1–25/8: footage is kept at
 * least 30 days and at most 12 months; the organisation's policy (the dock's configuration) decides within that.
 * The camera's retention hint in its manifests is not used: a compromised camera could otherwise lock objects for
 * decades, or for no time at all.
 *
 * The recording time is the device's claim, used only when plausible: its clock was set, it is not before
 * EARLIEST_RECORDING_MS, and not later than the store's arrival (a few minutes of clock skew are clamped). Otherwise
 * the arrival time stands in. Whatever the claim, an object stays locked for at least ARRIVAL_HOLD_MS after it
 * arrives, so footage docked late (or stamped early) cannot be deleted the moment it lands.
 */

export interface RetentionPolicy {
  /** Object Lock COMPLIANCE period from the recording, in days (the law's police access month: 30). */
  minimumDays: number;
  /** Deletion due this many calendar months after the recording (at most 12 by law). */
  deleteAfterMonths: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { minimumDays: 30, deleteAfterMonths: 12 };

/** A wall clock before this is one that was never set (the camera's own rule: see its clock check). */
export const EARLIEST_RECORDING_MS = Date.UTC(2026, 0, 1);
/** A claimed recording time up to this far after arrival is clock skew, clamped to the arrival. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Every object stays locked at least this long after it arrives. */
export const ARRIVAL_HOLD_MS = 24 * 3600_000;
const DAY_MS = 24 * 3600_000;

export interface RetentionInput {
  /** The device's recording time (ms), or null when it gave none. */
  claimedMs: number | null;
  /** The device's clock was set (its manifests' clock source is not `unset`). */
  clockSet: boolean;
  /** When the store took the object (the dock's clock). */
  arrivedMs: number;
}

export interface RetentionDates {
  recordedMs: number;
  /** Where `recordedMs` came from: the device's claim, or the arrival in its place. */
  recordedBy: 'device' | 'arrival';
  minimumUntilMs: number;
  deleteDueMs: number;
}

/** `ms` plus `months` calendar months in UTC; a day past the target month's end becomes its last day. */
export function addMonthsUtc(ms: number, months: number): number {
  const d = new Date(ms);
  const day = d.getUTCDate();
  const target = new Date(ms);
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.getTime();
}

/** The dates of an object. Pure. */
export function retentionDates(input: RetentionInput, policy: RetentionPolicy): RetentionDates {
  const claim = input.claimedMs;
  const plausible =
    claim !== null &&
    Number.isFinite(claim) &&
    input.clockSet &&
    claim >= EARLIEST_RECORDING_MS &&
    claim <= input.arrivedMs + CLOCK_SKEW_MS;
  const recordedMs = plausible ? Math.min(claim, input.arrivedMs) : input.arrivedMs;
  const minimumUntilMs = Math.max(recordedMs + policy.minimumDays * DAY_MS, input.arrivedMs + ARRIVAL_HOLD_MS);
  const deleteDueMs = Math.max(addMonthsUtc(recordedMs, policy.deleteAfterMonths), minimumUntilMs);
  return { recordedMs, recordedBy: plausible ? 'device' : 'arrival', minimumUntilMs, deleteDueMs };
}

/** Object metadata names (`x-amz-meta-*`) of the dates. */
export const RETENTION_METADATA = {
  recorded: 'recorded',
  recordedBy: 'recorded-by',
  minimumUntil: 'minimum-until',
  deleteDue: 'delete-due',
} as const;

/** The dates as object metadata (ISO 8601 UTC). */
export function retentionMetadata(d: RetentionDates): Record<string, string> {
  return {
    [RETENTION_METADATA.recorded]: new Date(d.recordedMs).toISOString(),
    [RETENTION_METADATA.recordedBy]: d.recordedBy,
    [RETENTION_METADATA.minimumUntil]: new Date(d.minimumUntilMs).toISOString(),
    [RETENTION_METADATA.deleteDue]: new Date(d.deleteDueMs).toISOString(),
  };
}
