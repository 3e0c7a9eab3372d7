/**
 * Offload receipts (`bodycam-receipt/1`): the dock's signed statement that it stores a segment, verified against the
 * segment's manifest. The camera deletes a segment only on a receipt signed by its enrolled dock, and keeps the
 * receipt beside the segment's manifest (`<segment>.receipt.json`), so a verifier of the camera's storage can tell an
 * offloaded segment from a deleted one.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import { type Envelope, sign, verifySignature } from './envelope.ts';

export const RECEIPT_FORMAT = 'bodycam-receipt/1';

export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  /** A segment (its ciphertext, `sha256`/`bytes` of the file), or an incident's closing manifest (`sha256` is the
   * manifest's envelope hash, `bytes` 0, `seq` the number of segments, `file` `incident.manifest.json`). */
  kind: 'segment' | 'incident';
  device: string;
  incident: string;
  seq: number;
  file: string;
  sha256: string;
  bytes: number;
  /** envelopeHash of the segment's manifest the dock verified it against. */
  manifest: string;
  storedAt: string;
}

export function signReceipt(fields: Omit<Receipt, 'format'>, privateKey: KeyObject, keyId: string): Envelope<Receipt> {
  return sign({ format: RECEIPT_FORMAT, ...fields }, privateKey, keyId);
}

/** Whether `env` is a receipt signed by `dockKey` for exactly this segment. */
export function receiptMatches(
  env: unknown,
  dockKey: KeyObject,
  expected: Pick<Receipt, 'kind' | 'device' | 'incident' | 'seq' | 'file' | 'sha256' | 'bytes'>,
): boolean {
  if (typeof env !== 'object' || env === null) return false;
  const e = env as Envelope<Receipt>;
  const p = e.payload as Partial<Receipt> | undefined;
  if (p === undefined || p.format !== RECEIPT_FORMAT) return false;
  for (const k of ['kind', 'device', 'incident', 'seq', 'file', 'sha256', 'bytes'] as const)
    if (p[k] !== expected[k]) return false;
  try {
    return verifySignature(e, dockKey);
  } catch {
    return false;
  }
}

export function receiptFileText(env: Envelope<Receipt>): string {
  return `${JSON.stringify(JSON.parse(canonicalJson(env)), null, 2)}\n`;
}
