/**
 * Manifests (format `bodycam-manifest/1`): one signed manifest per segment, written beside it as
 * `<segment file>.manifest.json`, and one closing manifest per incident, `incident.manifest.json`. All manifests of a
 * device, of every incident, form one hash chain in the order they were signed: `chainSeq` counts from 0 and `prev`
 * is the `envelopeHash` of the manifest at `chainSeq − 1` (null at 0). Files hold `JSON.stringify(envelope, null, 2)`
 * and a newline; signatures and hashes are over canonical JSON, so the layout of the file does not matter.
 */
import type { KeyObject } from 'node:crypto';
import { type ChainHead, checkedHead, type Envelope, envelopeHash, sign } from './envelope.ts';
import {
  arrayOf,
  type Check,
  count,
  envelopeOf,
  fail,
  fileName,
  hex,
  isoTime,
  literal,
  nonEmptyString,
  nonNegative,
  nullable,
  number,
  object,
  parseJson,
  string,
} from './schema.ts';

/** The `format` of every manifest of this version. */
export const MANIFEST_FORMAT = 'bodycam-manifest/1';

/** Pre-roll written at activation: requested, actually written, and where its first keyframe lies. */
export interface Preroll {
  requestedMs: number;
  actualMs: number;
  firstKeyframeOffsetMs: number;
}
/** Where the wall clock came from, and its last measured offset against the reference (ms), when known. */
export interface ClockInfo {
  /** rtc, ntp, dock; `system`: the wall clock looked plausible but its provenance is unknown; `unset`: it was not. */
  source: 'rtc' | 'ntp' | 'dock' | 'system' | 'unset';
  offsetMs: number | null;
}
/** Retention policy the footage was recorded under. */
export interface Retention {
  policeAccessDays: number;
  maxMonths: number;
}
/** The payload of a segment manifest. */
export interface SegmentManifest {
  format: typeof MANIFEST_FORMAT;
  kind: 'segment';
  /** Device id, as in incident ids and the dock's directory names. */
  device: string;
  /** 0-based position in the device's one manifest chain. */
  chainSeq: number;
  /** `envelopeHash` of the manifest at `chainSeq − 1`; null only at chainSeq 0. */
  prev: string | null;
  incident: string;
  segment: {
    /** 0-based position of the segment in its incident. */
    seq: number;
    /** File name relative to the incident directory, e.g. `0000.mp4.age`. */
    file: string;
    /** Hex SHA-256 and size of the file as stored (the age ciphertext). */
    sha256: string;
    bytes: number;
    /** `recovered`: cut short (a power loss, a crash, or a write the card failed), kept up to its last sync. */
    ending: 'closed' | 'recovered';
  };
  /** Capture timeline range (ms), frames and fMP4 fragments in the segment. */
  media: { firstMs: number; endMs: number; frames: number; fragments: number };
  /** Wall-clock times (ISO, UTC) of the first and the end of the media. */
  wall: { first: string; end: string };
  /** Only on segment 0; null otherwise. */
  preroll: Preroll | null;
  clock: ClockInfo;
  retention: Retention;
  signedAt: string;
}
/** What became of the spoken warning to the person filmed. */
export interface WarningInfo {
  state: 'given' | 'partial' | 'failed' | 'suppressed' | 'pending' | 'unknown';
  reason: string | null;
  startedMediaMs: number | null;
  durationMs: number | null;
  languages: string[];
}
/** The payload of an incident's closing manifest. */
export interface IncidentManifest {
  format: typeof MANIFEST_FORMAT;
  kind: 'incident';
  device: string;
  chainSeq: number;
  prev: string | null;
  incident: string;
  /** `interrupted`: closed at start-up after a power loss or crash, not by a stop. */
  ending: 'closed' | 'interrupted';
  trigger: string;
  activatedAt: string;
  stoppedAt: string | null;
  stopReason: string | null;
  /** Every segment of the incident, seqs 0…n−1 in order, each with the `envelopeHash` of its manifest. */
  segments: Array<{ seq: number; manifest: string }>;
  preroll: Preroll | null;
  warning: WarningInfo;
  clock: ClockInfo;
  retention: Retention;
  signedAt: string;
}
/** Either kind of manifest payload, told apart by `kind`. */
export type ManifestPayload = SegmentManifest | IncidentManifest;
/** A payload without the fields the chain fills in (`chainSeq`, `prev`). */
export type Unchained<P> = P extends unknown ? Omit<P, 'chainSeq' | 'prev'> : never;
/** A payload without the fields the builders and the chain fill in. */
export type ManifestFields<P> = P extends unknown ? Omit<P, 'format' | 'kind' | 'chainSeq' | 'prev'> : never;

/** Builds a segment manifest payload (format and kind filled in) for `ManifestChain.append`. */
export function segmentManifest(fields: ManifestFields<SegmentManifest>): Unchained<SegmentManifest> {
  return { format: MANIFEST_FORMAT, kind: 'segment', ...fields };
}

/** Builds an incident closing manifest payload (format and kind filled in) for `ManifestChain.append`. */
export function incidentManifest(fields: ManifestFields<IncidentManifest>): Unchained<IncidentManifest> {
  return { format: MANIFEST_FORMAT, kind: 'incident', ...fields };
}

const preroll = nullable(
  object({ requestedMs: nonNegative, actualMs: nonNegative, firstKeyframeOffsetMs: nonNegative }),
);
const clock = object({ source: literal('rtc', 'ntp', 'dock', 'system', 'unset'), offsetMs: nullable(number) });
const retention = object({ policeAccessDays: count, maxMonths: count });
const chained = { format: literal(MANIFEST_FORMAT), device: nonEmptyString, chainSeq: count, prev: nullable(hex(64)) };

const segmentShape = object({
  ...chained,
  kind: literal('segment'),
  incident: fileName,
  segment: object({
    seq: count,
    file: fileName,
    sha256: hex(64),
    bytes: count,
    ending: literal('closed', 'recovered'),
  }),
  media: object({ firstMs: number, endMs: number, frames: count, fragments: count }),
  wall: object({ first: isoTime, end: isoTime }),
  preroll,
  clock,
  retention,
  signedAt: isoTime,
});

const incidentShape = object({
  ...chained,
  kind: literal('incident'),
  incident: fileName,
  ending: literal('closed', 'interrupted'),
  trigger: string,
  activatedAt: isoTime,
  stoppedAt: nullable(isoTime),
  stopReason: nullable(string),
  segments: arrayOf(object({ seq: count, manifest: hex(64) })),
  preroll,
  warning: object({
    state: literal('given', 'partial', 'failed', 'suppressed', 'pending', 'unknown'),
    reason: nullable(string),
    startedMediaMs: nullable(number),
    durationMs: nullable(nonNegative),
    languages: arrayOf(nonEmptyString),
  }),
  clock,
  retention,
  signedAt: isoTime,
});

/** Checks a whole manifest payload: every field, and the chain rule (`prev` null exactly at chainSeq 0). */
export const checkManifestPayload: Check = (v, path) => {
  const kind = (v as { kind?: unknown } | null)?.kind;
  (kind === 'incident' ? incidentShape : segmentShape)(v, path);
  const p = v as ManifestPayload;
  if (p.chainSeq === 0 && p.prev !== null) fail(`${path}.prev`, 'null at chainSeq 0');
  if (p.chainSeq > 0 && p.prev === null)
    fail(`${path}.prev`, 'the hash of the previous manifest (null only at chainSeq 0)');
  if (p.kind === 'segment' && p.segment.seq > 0 && p.preroll !== null) fail(`${path}.preroll`, 'null after segment 0');
};

/** Parses a manifest file's text; EVIDENCE_FORMAT (naming the field) unless it is a well-formed envelope. */
export function parseManifest(text: string): Envelope<ManifestPayload> {
  const value = parseJson(text, 'the manifest');
  envelopeOf(checkManifestPayload)(value, '$');
  return value as Envelope<ManifestPayload>;
}

/** The text of a manifest file: pretty JSON and a newline. */
export function manifestFileText(env: Envelope<ManifestPayload>): string {
  return `${JSON.stringify(env, null, 2)}\n`;
}

/**
 * The device's manifest chain. Give it the last manifest written (null for a new device); `append` fills in
 * `chainSeq` and `prev`, checks the whole payload (EVIDENCE_FORMAT), signs it and advances the head. Nothing else
 * happens: the caller writes the file, and persists the head only once the file is durable.
 */
export class ManifestChain {
  #head: ChainHead | null;

  constructor(head: ChainHead | null) {
    this.#head = checkedHead(head);
  }

  /** The last manifest appended (or given), or null when the chain is empty. */
  get head(): ChainHead | null {
    return this.#head === null ? null : { ...this.#head };
  }

  append(payload: Unchained<SegmentManifest>, privateKey: KeyObject, keyId: string): Envelope<SegmentManifest>;
  append(payload: Unchained<IncidentManifest>, privateKey: KeyObject, keyId: string): Envelope<IncidentManifest>;
  append(payload: Unchained<ManifestPayload>, privateKey: KeyObject, keyId: string): Envelope<ManifestPayload>;
  append(payload: Unchained<ManifestPayload>, privateKey: KeyObject, keyId: string): Envelope<ManifestPayload> {
    const chainSeq = this.#head === null ? 0 : this.#head.seq + 1;
    const full = { ...payload, chainSeq, prev: this.#head?.hash ?? null } as ManifestPayload;
    checkManifestPayload(full, '$');
    const env = sign(full, privateKey, keyId);
    this.#head = { seq: chainSeq, hash: envelopeHash(env) };
    return env;
  }
}
