/**
 * The custody log's records: who did what to which stored objects, why and when, each signed (Ed25519) and chained
 * to the one before by the SHA-256 of its stored text. Pure: building, signing and checking a chain of records.
 * The log itself (custody-log.ts) keeps one write-once, COMPLIANCE-locked object per record, so a record cannot be
 * edited or removed while locked, and a record removed or rewritten later breaks the chain or shows as a new version.
 */
import { type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../evidence/canonical.ts';
import { keyId } from '../evidence/keys.ts';

export const CUSTODY_VERSION = 1;
/** The `prev` of the first record. */
export const GENESIS = '0'.repeat(64);

/**
 * What a record speaks of: the store's own operations (a legal hold set or released, an expiry), and every access
 * decision and use of the custody service (a grant or a refusal by the policy, a prosecutor's decision recorded, an
 * incident shared with another organisation, footage viewed, downloaded or exported).
 */
export const CUSTODY_ACTIONS = [
  'hold-set',
  'hold-release',
  'expire',
  'access-grant',
  'access-refuse',
  'authorise',
  'share',
  'view',
  'download',
  'export',
] as const;
export type CustodyAction = (typeof CUSTODY_ACTIONS)[number];

/** One object version a record speaks of. */
export interface TouchedObject {
  key: string;
  versionId: string;
}

export interface CustodyRecord {
  v: number;
  /** 1, 2, 3, … without gaps. */
  seq: number;
  /** SHA-256 (hex) of the previous record's stored text; GENESIS for the first. */
  prev: string;
  /** ISO 8601 UTC. */
  at: string;
  operator: string;
  action: CustodyAction;
  reason: string;
  /** The incident acted on ('' when the action is not about one incident, as expiry). */
  incident: string;
  objects: TouchedObject[];
  /**
   * What else the action needs said, as text fields (absent on the store's own operations): the device of the
   * incident, the policy's basis or its refusal, a prosecutor's decision's reference, the organisation shared with.
   */
  detail?: Record<string, string>;
  /** keyId() of the key that signed. */
  signer: string;
}

/** What is stored: the record and its signature (base64) over the record's canonical JSON. */
export interface SignedCustodyRecord {
  record: CustodyRecord;
  signature: string;
}

/** The stored text of a signed record (canonical JSON, so its hash does not depend on who wrote it). */
export function custodyText(signed: SignedCustodyRecord): string {
  return canonicalJson(signed);
}

export function custodyHash(signed: SignedCustodyRecord): string {
  return sha256Hex(custodyText(signed));
}

export function signCustodyRecord(record: Omit<CustodyRecord, 'v' | 'signer'>, key: KeyObject): SignedCustodyRecord {
  const full: CustodyRecord = { v: CUSTODY_VERSION, ...record, signer: keyId(key) };
  const signature = sign(null, Buffer.from(canonicalJson(full)), key).toString('base64');
  return { record: full, signature };
}

/** The next record after `last` (null: the log is empty). */
export function nextLink(last: SignedCustodyRecord | null): { seq: number; prev: string } {
  return last === null ? { seq: 1, prev: GENESIS } : { seq: last.record.seq + 1, prev: custodyHash(last) };
}

const ACTIONS: readonly string[] = CUSTODY_ACTIONS;

const textFields = (d: unknown): boolean =>
  typeof d === 'object' &&
  d !== null &&
  !Array.isArray(d) &&
  Object.values(d as Record<string, unknown>).every((x) => typeof x === 'string');

/** Reads a stored record's text; a description of what is wrong when it is not one. */
export function parseCustodyText(text: string): { ok: SignedCustodyRecord } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'not JSON' };
  }
  const v = value as Partial<SignedCustodyRecord> | null;
  const r = v?.record as Partial<CustodyRecord> | undefined;
  if (typeof v?.signature !== 'string' || r === undefined || r === null) return { error: 'not a signed record' };
  const fieldsOk =
    r.v === CUSTODY_VERSION &&
    Number.isSafeInteger(r.seq) &&
    typeof r.prev === 'string' &&
    typeof r.at === 'string' &&
    typeof r.operator === 'string' &&
    typeof r.action === 'string' &&
    ACTIONS.includes(r.action) &&
    typeof r.reason === 'string' &&
    typeof r.incident === 'string' &&
    typeof r.signer === 'string' &&
    Array.isArray(r.objects) &&
    r.objects.every((o: Partial<TouchedObject>) => typeof o?.key === 'string' && typeof o.versionId === 'string') &&
    (r.detail === undefined || textFields(r.detail));
  if (!fieldsOk) return { error: 'a record field is missing or of the wrong type' };
  const signed = v as SignedCustodyRecord;
  // The stored text must be the canonical one: anything else would let two texts carry one signature.
  if (custodyText(signed) !== text) return { error: 'not in canonical form' };
  return { ok: signed };
}

/**
 * Problems of a chain of records in log order (empty: it verifies): sequence without gaps from 1, each `prev` the
 * hash of the one before, each signature good under `key` (from provisioning, never from the log).
 */
export function chainProblems(records: readonly SignedCustodyRecord[], key: KeyObject): string[] {
  const problems: string[] = [];
  let last: SignedCustodyRecord | null = null;
  for (const signed of records) {
    const want = nextLink(last);
    const r = signed.record;
    if (r.seq !== want.seq) problems.push(`record ${r.seq}: expected sequence number ${want.seq}`);
    else if (r.prev !== want.prev) problems.push(`record ${r.seq}: does not chain to record ${want.seq - 1}`);
    const good =
      r.signer === keyId(key) &&
      verify(null, Buffer.from(canonicalJson(r)), key, Buffer.from(signed.signature, 'base64'));
    if (!good) problems.push(`record ${r.seq}: signature does not verify under key ${keyId(key)}`);
    last = signed;
  }
  return problems;
}
