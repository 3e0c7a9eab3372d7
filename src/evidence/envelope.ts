/**
 * Signed envelopes: every manifest and audit entry is `{ payload, keyId, signature }`, where `signature` is the
 * Ed25519 signature over the UTF-8 bytes of `canonicalJson(payload)`, in standard base64 with padding (88
 * characters). The hash that chains envelopes together covers the whole envelope, signature included.
 */
import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';

/** A signed payload. */
export interface Envelope<T> {
  payload: T;
  /** `keyId()` of the signing device key: 32 lower-case hex characters. */
  keyId: string;
  /** Base64 Ed25519 signature over `canonicalJson(payload)`. */
  signature: string;
}

const SIGNATURE_LENGTH = 64;

/** Signs `payload` (EVIDENCE_FORMAT if it is not canonical-JSON data). Ed25519 is deterministic: same in, same out. */
export function sign<T>(payload: T, privateKey: KeyObject, keyId: string): Envelope<T> {
  const message = Buffer.from(canonicalJson(payload), 'utf8');
  return { payload, keyId, signature: edSign(null, message, privateKey).toString('base64') };
}

/** The 64 signature bytes, or undefined unless `text` is exactly their canonical base64 (no other spelling). */
export function decodeSignature(text: unknown): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === SIGNATURE_LENGTH && bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * Whether `env.signature` is a valid signature of `env.payload` by `publicKey`. Only the signature is checked, not
 * `env.keyId`. A signature not spelled in canonical base64 is refused: another spelling of the same bytes would
 * verify yet change the envelope hash that the next link of the chain commits to.
 */
export function verifySignature(env: Envelope<unknown>, publicKey: KeyObject): boolean {
  const signature = decodeSignature(env.signature);
  if (signature === undefined) return false;
  try {
    return edVerify(null, Buffer.from(canonicalJson(env.payload), 'utf8'), publicKey, signature);
  } catch {
    return false;
  }
}

/** `sha256Hex(canonicalJson(env))`: what the next manifest's (or audit entry's) `prev` names. */
export function envelopeHash(env: Envelope<unknown>): string {
  return sha256Hex(canonicalJson(env));
}

/** The last link written to a hash chain (manifests or audit log): its seq and `envelopeHash`. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/** A copy of `head` after checking it (EVIDENCE_FORMAT for a negative seq or a hash that is not 64 hex). */
export function checkedHead(head: ChainHead | null): ChainHead | null {
  if (head === null) return null;
  if (!Number.isSafeInteger(head.seq) || head.seq < 0 || !/^[0-9a-f]{64}$/.test(head.hash)) {
    throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, 'a chain head is { seq: integer ≥ 0, hash: 64 hex characters }');
  }
  return { seq: head.seq, hash: head.hash };
}
