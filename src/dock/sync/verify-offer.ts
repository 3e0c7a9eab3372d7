/**
 * The dock's checks before it stores anything: a manifest offered by a camera must be signed by that camera's
 * enrolled key, be of an incident id of that camera (never a directory name of its own choosing, nor another
 * camera's incident) and describe exactly the segment offered; a received file must have the manifest's size and SHA-256;
 * and the manifest must link to the one before it in the camera's chain whenever the dock holds that one.
 */
import type { KeyObject } from 'node:crypto';
import { type Envelope, envelopeHash, verifySignature } from '../../evidence/envelope.ts';
import {
  type IncidentManifest,
  type ManifestPayload,
  parseManifest,
  type SegmentManifest,
} from '../../evidence/manifest.ts';
import { isIncidentOf } from '../../lib/ids.ts';
import type { SegmentOffer } from '../../protocol/messages.ts';

export type Verdict<T> = { ok: T } | { code: string; message: string };

export function checkSegmentOffer(
  device: string,
  key: KeyObject,
  offer: SegmentOffer,
): Verdict<{ env: Envelope<SegmentManifest>; hash: string }> {
  let env: Envelope<ManifestPayload>;
  try {
    env = parseManifest(JSON.stringify(offer.manifest));
  } catch (e) {
    return { code: 'malformed-manifest', message: (e as Error).message };
  }
  if (!verifySignature(env, key))
    return { code: 'bad-signature', message: "the manifest is not signed by this camera's enrolled key" };
  const p = env.payload;
  if (p.kind !== 'segment') return { code: 'malformed-manifest', message: 'not a segment manifest' };
  if (!isIncidentOf(offer.incident, device)) {
    return { code: 'foreign-incident', message: `${offer.incident} is not an incident id of ${device}` };
  }
  const same =
    p.device === device &&
    p.incident === offer.incident &&
    p.segment.seq === offer.seq &&
    p.segment.file === offer.file &&
    p.segment.sha256 === offer.sha256 &&
    p.segment.bytes === offer.bytes;
  if (!same) return { code: 'manifest-mismatch', message: 'the manifest does not describe the segment offered' };
  return { ok: { env: env as Envelope<SegmentManifest>, hash: envelopeHash(env) } };
}

export function checkClosing(
  device: string,
  key: KeyObject,
  incident: string,
  manifest: unknown,
): Verdict<{ env: Envelope<IncidentManifest>; hash: string }> {
  let env: Envelope<ManifestPayload>;
  try {
    env = parseManifest(JSON.stringify(manifest));
  } catch (e) {
    return { code: 'malformed-manifest', message: (e as Error).message };
  }
  if (!verifySignature(env, key))
    return { code: 'bad-signature', message: "the closing manifest is not signed by this camera's enrolled key" };
  if (!isIncidentOf(incident, device)) {
    return { code: 'foreign-incident', message: `${incident} is not an incident id of ${device}` };
  }
  if (env.payload.kind !== 'incident' || env.payload.device !== device || env.payload.incident !== incident) {
    return { code: 'manifest-mismatch', message: 'not the closing manifest of this incident' };
  }
  return { ok: { env: env as Envelope<IncidentManifest>, hash: envelopeHash(env) } };
}

/** The received file against the manifest, and the manifest against its predecessor (when the dock has it). */
export function checkReceived(
  env: Envelope<SegmentManifest>,
  actual: { bytes: number; sha256: string },
  previousHash: string | undefined,
): Verdict<true> {
  const s = env.payload.segment;
  if (actual.bytes !== s.bytes)
    return { code: 'size-mismatch', message: `${actual.bytes} bytes received, the manifest says ${s.bytes}` };
  if (actual.sha256 !== s.sha256)
    return {
      code: 'hash-mismatch',
      message: "the segment's SHA-256 differs from its signed manifest: altered on the camera or in transit",
    };
  if (previousHash !== undefined && env.payload.prev !== previousHash) {
    return {
      code: 'chain-broken',
      message: `manifest ${env.payload.chainSeq} does not link to the manifest before it`,
    };
  }
  return { ok: true };
}
