/**
 * Checks of incoming sync messages: every field's type and bounds, so a hostile or broken peer gets a clear reason
 * (`{ error }`) and nothing else happens. Never throws.
 */

import { SEGMENT_FILE } from '../evidence/paths.ts';
import {
  MAX_AUDIT_LINE_CHARS,
  MAX_AUDIT_LINES,
  MAX_JSON_BYTES,
  MAX_OFFERS_PER_INVENTORY,
  MAX_PULL_CHUNKS,
  MAX_SEGMENT_BYTES,
  MAX_SEQ,
} from './limits.ts';
import {
  type AuditBatch,
  type AuditPull,
  type ChunkHeader,
  type DockTime,
  type Hello,
  type Inventory,
  PROTOCOL,
  type Pull,
  type Refusal,
  type Refusals,
  type SegmentOffer,
  type UpdateKind,
  type UpdateOffer,
  type UpdatePartHeader,
  type UpdatePull,
  type UpdateReport,
} from './messages.ts';

export type Checked<T> = { ok: T } | { error: string };

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;

function str(r: Rec, k: string, re: RegExp = ID): string {
  const v = r[k];
  if (typeof v !== 'string' || !re.test(v))
    throw new Error(`${k} must be ${re === ID ? 'an identifier' : `like ${re.source}`}`);
  return v;
}
function int(r: Rec, k: string, max = Number.MAX_SAFE_INTEGER, min = 0): number {
  const v = r[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new Error(`${k} must be a whole number from ${min} to ${max}`);
  return v;
}
function num(r: Rec, k: string): number {
  const v = r[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${k} must be a number`);
  return v;
}

/** JSON bytes → object, bounded. */
export function parseJson(payload: Buffer): Checked<Rec> {
  if (payload.length > MAX_JSON_BYTES) return { error: `message of ${payload.length} bytes is over ${MAX_JSON_BYTES}` };
  try {
    const v = JSON.parse(payload.toString('utf8')) as unknown;
    return isRec(v) ? { ok: v } : { error: 'message is not a JSON object' };
  } catch {
    return { error: 'message is not JSON' };
  }
}

function check<T>(payload: Buffer, build: (r: Rec) => T): Checked<T> {
  const parsed = parseJson(payload);
  if ('error' in parsed) return parsed;
  try {
    return { ok: build(parsed.ok) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export const checkHello = (p: Buffer): Checked<Hello> =>
  check(p, (r) => {
    if (r['protocol'] !== PROTOCOL) throw new Error(`protocol must be ${PROTOCOL}`);
    return {
      protocol: PROTOCOL,
      session: str(r, 'session'),
      device: str(r, 'device'),
      keyId: str(r, 'keyId', /^[0-9a-f]{32}$/),
      release: str(r, 'release'),
      sentMono: num(r, 'sentMono'),
      ...(r['battery'] === undefined ? {} : { battery: battery(r['battery']) }),
      ...(r['storageMinutesLeft'] === undefined ? {} : { storageMinutesLeft: int(r, 'storageMinutesLeft', 1e9) }),
      ...(r['clockOffsetMs'] === undefined ? {} : { clockOffsetMs: offset(r) }),
      ...(r['faults'] === undefined ? {} : { faults: faults(r['faults']) }),
      ...(r['updates'] === undefined ? {} : { updates: updateReports(r['updates']) }),
    };
  });

const VERSION = /^[0-9A-Za-z.+-]{1,64}$/;
const UPDATE_STATES = new Set(['installing', 'healthy', 'rolled-back', 'refused', 'deferred']);

function kindOf(r: Rec): UpdateKind {
  if (r['kind'] !== 'release' && r['kind'] !== 'config') throw new Error('kind must be release or config');
  return r['kind'];
}

/** A hello's update reports: at most two (release, config), reasons as short sentences. */
function updateReports(v: unknown): UpdateReport[] {
  if (!Array.isArray(v) || v.length > 2) throw new Error('updates must be a list of at most 2 reports');
  return v.map((u) => {
    if (!isRec(u)) throw new Error('an update report must be an object');
    const state = u['state'];
    if (typeof state !== 'string' || !UPDATE_STATES.has(state)) throw new Error('update state unknown');
    const reason = u['reason'];
    if (
      reason !== undefined &&
      (typeof reason !== 'string' || reason.length > 300 || CONTROL_CHARACTERS.test(reason))
    ) {
      throw new Error('an update reason must be at most 300 characters, without control characters');
    }
    return {
      kind: kindOf(u),
      version: str(u, 'version', VERSION),
      state: state as UpdateReport['state'],
      ...(reason === undefined ? {} : { reason }),
    };
  });
}

export const checkUpdateOffer = (p: Buffer): Checked<UpdateOffer> =>
  check(p, (r) => ({
    kind: kindOf(r),
    version: str(r, 'version', VERSION),
    bytes: int(r, 'bytes', 512 * 1024 * 1024),
    sha256: str(r, 'sha256', HEX64),
  }));

export const checkUpdatePull = (p: Buffer): Checked<UpdatePull> =>
  check(p, (r) => ({
    kind: kindOf(r),
    version: str(r, 'version', VERSION),
    offset: int(r, 'offset'),
    count: int(r, 'count', MAX_PULL_CHUNKS),
  }));

/** An `update-part`'s MQTT 5 user properties. */
export function checkUpdatePartHeader(props: Record<string, string | string[]> | undefined): Checked<UpdatePartHeader> {
  try {
    if (props === undefined) throw new Error('an update part needs its user properties');
    const one = (k: string) => {
      const v = props[k];
      return Array.isArray(v) ? v[0] : v;
    };
    const r: Rec = { kind: one('kind'), version: one('version'), offset: decimal(one('offset')) };
    return { ok: { kind: kindOf(r), version: str(r, 'version', VERSION), offset: int(r, 'offset') } };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** A hello's clock offset: a number of ms within ±10¹² (decades; anything else is not a measurement). */
function offset(r: Rec): number {
  const v = num(r, 'clockOffsetMs');
  if (Math.abs(v) > 1e12) throw new Error('clockOffsetMs must be within ±10^12');
  return v;
}

/**
 * Control characters (C0, DEL, C1): never in text a camera or a site sends for people to read, where a terminal
 * escape could hide or rewrite lines of `bodycam fleet status` (a compromised camera saying all is well).
 */
export const CONTROL_CHARACTERS = /\p{Cc}/u;

/** A hello's faults: at most 20 sentences of at most 200 characters, without control characters. */
function faults(v: unknown): string[] {
  if (!Array.isArray(v) || v.length > 20) throw new Error('faults must be a list of at most 20 sentences');
  return v.map((f) => {
    if (typeof f !== 'string' || f.length === 0 || f.length > 200 || CONTROL_CHARACTERS.test(f)) {
      throw new Error('each fault must be a sentence of 1–200 characters, without control characters');
    }
    return f;
  });
}

/** The optional battery of a hello: charge 0–100 %, voltage 0–60 V. */
function battery(v: unknown): { percent: number; volts: number } {
  if (!isRec(v)) throw new Error('battery must be an object');
  const percent = num(v, 'percent');
  const volts = num(v, 'volts');
  if (percent < 0 || percent > 100) throw new Error('battery.percent must be within 0–100');
  if (volts < 0 || volts > 60) throw new Error('battery.volts must be within 0–60');
  return { percent, volts };
}

function offer(v: unknown): SegmentOffer {
  if (!isRec(v)) throw new Error('a segment offer must be an object');
  return {
    incident: str(v, 'incident'),
    seq: int(v, 'seq', MAX_SEQ),
    file: str(v, 'file', SEGMENT_FILE),
    bytes: int(v, 'bytes', MAX_SEGMENT_BYTES),
    sha256: str(v, 'sha256', HEX64),
    manifest: v['manifest'],
  };
}

function chainHead(v: unknown, what: string): { seq: number; hash: string } | null {
  if (v === null) return null;
  if (!isRec(v)) throw new Error(`${what} must be null or { seq, hash }`);
  return { seq: int(v, 'seq'), hash: str(v, 'hash', HEX64) };
}

/** The optional `heads` of an inventory: undefined when absent (an older camera). */
function heads(v: unknown): Inventory['heads'] {
  if (v === undefined) return undefined;
  if (!isRec(v)) throw new Error('heads must be an object');
  return { chain: chainHead(v['chain'], 'heads.chain'), audit: chainHead(v['audit'], 'heads.audit') };
}

/** The optional `holding` of an inventory: undefined when absent (an older camera). */
function holding(v: unknown): Inventory['holding'] {
  if (v === undefined) return undefined;
  if (!isRec(v)) throw new Error('holding must be an object');
  if (typeof v['recording'] !== 'boolean') throw new Error('holding.recording must be true or false');
  return {
    recording: v['recording'],
    segments: int(v, 'segments'),
    closings: int(v, 'closings'),
    open: int(v, 'open'),
  };
}

export const checkInventory = (p: Buffer): Checked<Inventory> => {
  const r = checkInventoryHead(p, Number.POSITIVE_INFINITY);
  return 'error' in r ? r : { ok: r.ok.inventory };
};

/**
 * An inventory with only its first `n` segment offers and `n` closing manifests checked and kept; the other
 * segment offers are counted, not looked at, and the other closings left for a later inventory (a camera may list
 * thousands more than the dock considers).
 */
export const checkInventoryHead = (p: Buffer, n: number): Checked<{ inventory: Inventory; notConsidered: number }> =>
  check(p, (r) => {
    const h = heads(r['heads']);
    const held = holding(r['holding']);
    const segs = r['segments'];
    const incs = r['incidents'];
    if (!Array.isArray(segs) || segs.length > 100_000) throw new Error('segments must be a list');
    if (!Array.isArray(incs) || incs.length > 100_000) throw new Error('incidents must be a list');
    const considered = segs.slice(0, n);
    const inventory = {
      session: str(r, 'session'),
      segments: considered.map(offer),
      incidents: incs.slice(0, n).map((v) => {
        if (!isRec(v)) throw new Error('an incident offer must be an object');
        return { incident: str(v, 'incident'), manifest: v['manifest'] };
      }),
      auditHead: int(r, 'auditHead', Number.MAX_SAFE_INTEGER, -1),
      ...(h === undefined ? {} : { heads: h }),
      ...(held === undefined ? {} : { holding: held }),
    };
    return { inventory, notConsidered: segs.length - considered.length };
  });

/** A decimal user property; anything else (empty, blanks, hex, exponent, sign) is NaN, which `int` refuses. */
const decimal = (v: string | undefined): number => (v !== undefined && /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN);

/** A chunk's MQTT 5 user properties (strings), checked. */
export function checkChunkHeader(props: Record<string, string | string[]> | undefined): Checked<ChunkHeader> {
  try {
    if (props === undefined) throw new Error('a chunk needs its user properties');
    const one = (k: string) => {
      const v = props[k];
      return Array.isArray(v) ? v[0] : v;
    };
    const r: Rec = {
      session: one('session'),
      incident: one('incident'),
      seq: decimal(one('seq')),
      offset: decimal(one('offset')),
      sha256: one('sha256'),
    };
    return {
      ok: {
        session: str(r, 'session'),
        incident: str(r, 'incident'),
        seq: int(r, 'seq', MAX_SEQ),
        offset: int(r, 'offset'),
        sha256: str(r, 'sha256', HEX64),
      },
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export const checkAuditBatch = (p: Buffer): Checked<AuditBatch> =>
  check(p, (r) => {
    const lines = r['lines'];
    if (
      !Array.isArray(lines) ||
      lines.length > MAX_AUDIT_LINES ||
      !lines.every((l) => typeof l === 'string' && l.length < MAX_AUDIT_LINE_CHARS)
    ) {
      throw new Error('lines must be a list of strings');
    }
    return { session: str(r, 'session'), fromSeq: int(r, 'fromSeq'), lines: lines as string[] };
  });

export const checkTime = (p: Buffer): Checked<DockTime> =>
  check(p, (r) => ({ session: str(r, 'session'), dockWallMs: num(r, 'dockWallMs'), echoMono: num(r, 'echoMono') }));

export const checkPull = (p: Buffer): Checked<Pull> =>
  check(p, (r) => ({
    session: str(r, 'session'),
    incident: str(r, 'incident'),
    seq: int(r, 'seq', MAX_SEQ),
    offset: int(r, 'offset'),
    count: int(r, 'count', MAX_PULL_CHUNKS, 1),
  }));

export const checkAuditPull = (p: Buffer): Checked<AuditPull> =>
  check(p, (r) => ({ session: str(r, 'session'), fromSeq: int(r, 'fromSeq') }));

export const checkRefusal = (p: Buffer): Checked<Refusal> =>
  check(p, (r) => ({
    session: str(r, 'session'),
    incident: str(r, 'incident'),
    seq: int(r, 'seq', MAX_SEQ),
    code: str(r, 'code'),
    message: typeof r['message'] === 'string' ? (r['message'] as string).slice(0, 2000) : '',
  }));

export const checkRefusals = (p: Buffer): Checked<Refusals> =>
  check(p, (r) => {
    const segs = r['segments'];
    if (!Array.isArray(segs) || segs.length > MAX_OFFERS_PER_INVENTORY) throw new Error('segments must be a list');
    return {
      session: str(r, 'session'),
      segments: segs.map((v) => {
        if (!isRec(v)) throw new Error('a refusal must be an object');
        const message = typeof v['message'] === 'string' ? v['message'].slice(0, 2000) : '';
        return { incident: str(v, 'incident'), seq: int(v, 'seq', MAX_SEQ), code: str(v, 'code'), message };
      }),
      notConsidered: int(r, 'notConsidered'),
    };
  });
