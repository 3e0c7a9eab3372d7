/**
 * One camera's fleet status (`bodycam-fleet-status/1`): what a fleet manager needs, built by the dock from what it
 * knows and published retained on the camera's status topic (topics.ts `fleetTopic`), bridged to the centre under
 * `sites/<site>/`. It holds states and counts only: never footage, a key, a manifest or a hash of either.
 *
 * ```json
 * { "format": "bodycam-fleet-status/1", "device": "cam-0001", "at": "2026-12-05T20:00:00.000Z",
 *   "enrolled": true, "withdrawn": null, "release": "0.9.0", "battery": { "percent": 81, "volts": 3.9 },
 *   "storageMinutesLeft": null, "faults": ["2 segment(s) refused by the dock"],
 *   "lastSeen": "…", "lastDocking": "…",
 *   "pending": { "segments": 3, "closings": 1, "recording": false, "reportedAt": "…" }, "clockOffsetMs": null }
 * ```
 * A null means "not known here" (a camera never seen, a release that does not report it), never "none".
 */

import { CONTROL_CHARACTERS } from './checks.ts';
export const FLEET_STATUS_FORMAT = 'bodycam-fleet-status/1';

/** What the camera last said it holds that the dock has not acknowledged (evidence pending offload). */
export interface FleetPending {
  segments: number;
  closings: number;
  /** Null from a camera too old to say. */
  recording: boolean | null;
  /** When the dock heard it (ISO 8601, the dock's clock). */
  reportedAt: string;
}

export interface FleetStatus {
  format: typeof FLEET_STATUS_FORMAT;
  device: string;
  /** When the dock built this record (ISO 8601, the dock's clock). */
  at: string;
  enrolled: boolean;
  withdrawn: { at: string; reason: string } | null;
  release: string | null;
  battery: { percent: number; volts: number } | null;
  storageMinutesLeft: number | null;
  /** Faults to look at, each a sentence; empty when none is known. */
  faults: string[];
  lastSeen: string | null;
  /** When the dock last signed a docking record for it. */
  lastDocking: string | null;
  pending: FleetPending | null;
  /** Camera clock minus dock clock, ms, when known. */
  clockOffsetMs: number | null;
}

/** What the dock knows of one camera, gathered from its database, enrolment records and the camera's hello. */
export interface FleetFacts {
  device: string;
  enrolled: boolean;
  withdrawn: { at: string; reason: string } | null;
  lastSeen: string | null;
  /** Segments the dock refused (kept on the camera). */
  refused: number;
  docking: { signedAt: string; rollback: string | null } | null;
  claim: { atMs: number; segments: number; closings: number; recording: boolean | null } | null;
  /** From the camera's last hello since the dock started, or null. */
  hello: {
    release: string;
    battery?: { percent: number; volts: number };
    storageMinutesLeft?: number;
    faults?: readonly string[];
    clockOffsetMs?: number;
  } | null;
}

/**
 * Text the dock itself puts in a record (an operator's withdrawal reason, a rollback's description) as the centre
 * reads it: control characters as spaces, within MAX_TEXT, never empty; otherwise one multi-line reason would make
 * the camera's whole record unreadable at the centre.
 */
function readable(t: string): string {
  const one = t.replace(new RegExp(CONTROL_CHARACTERS.source, 'gu'), ' ').slice(0, MAX_TEXT);
  return one.trim() === '' ? '-' : one;
}

/** The record for `facts`, built at `atMs` (pure). */
export function buildFleetStatus(facts: FleetFacts, atMs: number): FleetStatus {
  const faults = [...(facts.hello?.faults ?? [])];
  if (facts.refused > 0) faults.push(`${facts.refused} segment(s) refused by the dock (kept on the camera)`);
  if (facts.docking?.rollback != null) faults.push(readable(`rolled back: ${facts.docking.rollback}`));
  const c = facts.claim;
  return {
    format: FLEET_STATUS_FORMAT,
    device: facts.device,
    at: new Date(atMs).toISOString(),
    enrolled: facts.enrolled,
    withdrawn: facts.withdrawn === null ? null : { at: facts.withdrawn.at, reason: readable(facts.withdrawn.reason) },
    release: facts.hello?.release ?? null,
    battery: facts.hello?.battery ?? null,
    storageMinutesLeft: facts.hello?.storageMinutesLeft ?? null,
    faults,
    lastSeen: facts.lastSeen,
    lastDocking: facts.docking?.signedAt ?? null,
    pending:
      c === null
        ? null
        : {
            segments: c.segments,
            closings: c.closings,
            recording: c.recording,
            reportedAt: new Date(c.atMs).toISOString(),
          },
    clockOffsetMs: facts.hello?.clockOffsetMs ?? null,
  };
}

/** The record without its time of building: two records that differ only in `at` say the same. */
export function fleetStatusKey(s: FleetStatus): string {
  const { at: _at, ...rest } = s;
  return JSON.stringify(rest);
}

/** Largest record a reader takes (a record is a few hundred bytes). */
export const MAX_FLEET_STATUS_BYTES = 16 * 1024;

const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const MAX_TEXT = 1000;
const MAX_FAULTS = 100;

type Rec = Record<string, unknown>;

const isRecord = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(r: Rec, k: string, nullable: boolean): string | null {
  const v = r[k];
  if (v === null && nullable) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT || CONTROL_CHARACTERS.test(v)) {
    throw new Error(
      `${k} must be ${nullable ? 'null or ' : ''}a string of 1–${MAX_TEXT} characters, without control characters`,
    );
  }
  return v;
}

function time(r: Rec, k: string, nullable: boolean): string | null {
  const v = text(r, k, nullable);
  if (v !== null && Number.isNaN(Date.parse(v))) throw new Error(`${k} must be an ISO 8601 time`);
  return v;
}

function count(r: Rec, k: string): number {
  const v = r[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${k} must be a whole number ≥ 0`);
  return v;
}

function numberOrNull(r: Rec, k: string, min: number, max: number): number | null {
  const v = r[k];
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new Error(`${k} must be null or a number within ${min}–${max}`);
  }
  return v;
}

function sub(r: Rec, k: string): Rec | null {
  const v = r[k];
  if (v === null) return null;
  if (!isRecord(v)) throw new Error(`${k} must be null or an object`);
  return v;
}

/** Reads a record as published: `{ok}`, or `{error}` saying what is wrong with it (nothing is thrown). */
export function parseFleetStatus(payload: Buffer): { ok: FleetStatus } | { error: string } {
  if (payload.length > MAX_FLEET_STATUS_BYTES) {
    return { error: `a fleet status is at most ${MAX_FLEET_STATUS_BYTES} bytes; this one is ${payload.length}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    return { error: 'not JSON' };
  }
  try {
    if (!isRecord(doc)) throw new Error('not a JSON object');
    if (doc['format'] !== FLEET_STATUS_FORMAT) throw new Error(`format must be ${FLEET_STATUS_FORMAT}`);
    const device = text(doc, 'device', false) ?? '';
    if (!ID.test(device)) throw new Error('device must be a device id');
    if (typeof doc['enrolled'] !== 'boolean') throw new Error('enrolled must be true or false');
    const w = sub(doc, 'withdrawn');
    const b = sub(doc, 'battery');
    const p = sub(doc, 'pending');
    const faults = doc['faults'];
    if (!Array.isArray(faults) || faults.length > MAX_FAULTS) {
      throw new Error(`faults must be a list of at most ${MAX_FAULTS} sentences`);
    }
    const faultList = faults.map((f, i) => text({ [`faults[${i}]`]: f }, `faults[${i}]`, false) ?? '');
    const recording = p?.['recording'];
    if (p !== null && recording !== null && typeof recording !== 'boolean') {
      throw new Error('pending.recording must be null, true or false');
    }
    return {
      ok: {
        format: FLEET_STATUS_FORMAT,
        device,
        at: time(doc, 'at', false) ?? '',
        enrolled: doc['enrolled'],
        withdrawn: w === null ? null : { at: time(w, 'at', false) ?? '', reason: text(w, 'reason', false) ?? '' },
        release: text(doc, 'release', true),
        battery:
          b === null
            ? null
            : { percent: numberOrNull(b, 'percent', 0, 100) ?? 0, volts: numberOrNull(b, 'volts', 0, 60) ?? 0 },
        storageMinutesLeft: numberOrNull(doc, 'storageMinutesLeft', 0, 1e9),
        faults: faultList,
        lastSeen: time(doc, 'lastSeen', true),
        lastDocking: time(doc, 'lastDocking', true),
        pending:
          p === null
            ? null
            : {
                segments: count(p, 'segments'),
                closings: count(p, 'closings'),
                recording: (recording as boolean | null | undefined) ?? null,
                reportedAt: time(p, 'reportedAt', false) ?? '',
              },
        clockOffsetMs: numberOrNull(doc, 'clockOffsetMs', -1e12, 1e12),
      },
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
