/**
 * Docking records (`bodycam-docking/1`): at each docking the dock signs what it now holds verified of that camera,
 * its manifest chain head (the highest chainSeq with every manifest below it held, and that manifest's envelope
 * hash) and its audit head (the last audit entry held, seq and hash). The dock keeps its records of a camera as a
 * hash chain of its own (`<device>/dockings.jsonl` in its evidence store: `seq` from 0, `prev` the hash of the record
 * before) and hands each to the camera, which keeps the ones it receives in its storage (`dockings.jsonl`, not
 * necessarily contiguous). A verifier given the dock's key then knows the card or the store held at least that much:
 * anything missing below a recorded head was removed, anything different at it was rolled back.
 *
 * Lines are canonical JSON envelopes, signed with the dock's Ed25519 key, as in `audit.jsonl`.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import { type ChainHead, type Envelope, envelopeHash, sign } from './envelope.ts';
import { parseBoundedJson } from './json.ts';
import { MAX_LINE_BYTES, type ParsedLine, parseSignedLine } from './lines.ts';
import {
  type Check,
  count,
  envelopeOf,
  fail,
  hex,
  isoTime,
  literal,
  nonEmptyString,
  nullable,
  object,
} from './schema.ts';

export const DOCKING_FORMAT = 'bodycam-docking/1';

/** One docking record (the payload of its envelope, signed by the dock). */
export interface DockingRecord {
  format: typeof DOCKING_FORMAT;
  device: string;
  /** 0-based position in the dock's records of this device. */
  seq: number;
  /** `envelopeHash` of the record at `seq − 1`; null only at seq 0. */
  prev: string | null;
  at: string;
  /** Highest chainSeq with every manifest 0…seq held and verified at the dock, and that manifest's hash. */
  chain: ChainHead | null;
  /** Last audit entry held (every entry 0…seq, linked and signed), and its hash. */
  audit: ChainHead | null;
}

const head = nullable(object({ seq: count, hash: hex(64) }));
const recordShape = object({
  format: literal(DOCKING_FORMAT),
  device: nonEmptyString,
  seq: count,
  prev: nullable(hex(64)),
  at: isoTime,
  chain: head,
  audit: head,
});

export const checkDockingRecord: Check = (v, path) => {
  recordShape(v, path);
  const r = v as DockingRecord;
  if ((r.seq === 0) !== (r.prev === null)) fail(`${path}.prev`, 'null at seq 0 and a hash after it');
};

const checkEnvelope = envelopeOf(checkDockingRecord);

/** Signs the next record after `last` (null for the first of this device). */
export function signDocking(
  fields: Pick<DockingRecord, 'device' | 'at' | 'chain' | 'audit'>,
  last: ChainHead | null,
  privateKey: KeyObject,
  keyId: string,
): Envelope<DockingRecord> {
  const record: DockingRecord = {
    format: DOCKING_FORMAT,
    device: fields.device,
    seq: last === null ? 0 : last.seq + 1,
    prev: last?.hash ?? null,
    at: fields.at,
    chain: fields.chain,
    audit: fields.audit,
  };
  checkDockingRecord(record, '$');
  return sign(record, privateKey, keyId);
}

/** Parses one line of `dockings.jsonl` (or a record received as a message); never throws. */
export function parseDockingLine(text: string): ParsedLine<DockingRecord> {
  return parseSignedLine<DockingRecord>(text, checkEnvelope);
}

/** Parses a record received as a message (any JSON layout; it is stored as canonical JSON); never throws. */
export function parseDockingMessage(text: string): ParsedLine<DockingRecord> {
  try {
    const value = parseBoundedJson(text, 'the docking record', MAX_LINE_BYTES);
    checkEnvelope(value, '$');
    return { envelope: value as Envelope<DockingRecord> };
  } catch (e) {
    return { reason: (e as Error).message };
  }
}

/** The line appended to `dockings.jsonl` for a record. */
export function dockingLine(env: Envelope<DockingRecord>): string {
  return `${canonicalJson(env)}\n`;
}

/** The head (seq, hash) a record makes of the dock's chain of records. */
export function dockingHead(env: Envelope<DockingRecord>): ChainHead {
  return { seq: env.payload.seq, hash: envelopeHash(env) };
}
