/**
 * The dock's evidence store on S3 with Object Lock: every segment, manifest, closing manifest, audit batch, docking
 * record and device key becomes an object under `<prefix>/<organisation>/<device>/…` (src/evidence/object-keys.ts), written
 * once, under COMPLIANCE retention until its minimum and with its retention dates as metadata
 * (src/evidence/retention.ts), and checked after the write (src/store/verified-put.ts). A method resolves only once
 * the store has confirmed every object it wrote; a segment's local file is removed only then.
 *
 * The caller (the dock agent) has verified everything it hands over; this store only parses what it needs for the
 * dates and the names: the manifest's recording time and clock, the audit entries' sequence numbers and times.
 */
import { unlink } from 'node:fs/promises';
import { parseAuditLog } from '../../evidence/audit.ts';
import { parseDockingLine } from '../../evidence/docking.ts';
import { type IncidentManifest, parseManifest, type SegmentManifest } from '../../evidence/manifest.ts';
import {
  auditBatchObject,
  DOCKINGS_FOLDER,
  deviceKeyObject,
  deviceKeyPrefix,
  dockingObject,
  incidentObject,
  type KeyRoot,
} from '../../evidence/object-keys.ts';
import { INCIDENT_MANIFEST, manifestFileFor } from '../../evidence/paths.ts';
import { type RetentionPolicy, retentionDates, retentionMetadata } from '../../evidence/retention.ts';
import { BodycamError, ErrorCode, isBodycamError } from '../../lib/errors.ts';
import type { ObjectStore, Retention } from '../../store/port.ts';
import { DEFAULT_PLAN, type PutPlan, putVerified, SHA256_METADATA } from '../../store/verified-put.ts';
import type { EvidenceStore } from '../sync/evidence-store.ts';

export interface S3EvidenceStoreOptions {
  store: ObjectStore;
  root: KeyRoot;
  policy: RetentionPolicy;
  /** The dock's clock (ms), for the arrival time (default Date.now). */
  now?: () => number;
  plan?: PutPlan;
  /**
   * Resolves once the bucket has passed its check (bucket-check.ts); awaited before every write, so nothing is
   * written to a bucket that was never checked (at start it may not have answered). The caller memoises it.
   */
  bucketChecked?: () => Promise<void>;
}

const BINARY = 'application/octet-stream';
const JSON_TYPE = 'application/json';
const JSONL = 'application/x-ndjson';

/** One object's lock and metadata, from the recording time the device claims. */
export interface ObjectTerms {
  retention: Retention;
  metadata: Record<string, string>;
}

export class S3EvidenceStore implements EvidenceStore {
  readonly #o: S3EvidenceStoreOptions;
  readonly #now: () => number;
  readonly #plan: PutPlan;

  constructor(o: S3EvidenceStoreOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#plan = o.plan ?? DEFAULT_PLAN;
  }

  /** Retention and metadata for an object recorded at `claimedMs` (null: unknown) by a clock that was set or not. */
  terms(claimedMs: number | null, clockSet: boolean): ObjectTerms {
    const dates = retentionDates({ claimedMs, clockSet, arrivedMs: this.#now() }, this.#o.policy);
    return {
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(dates.minimumUntilMs) },
      metadata: retentionMetadata(dates),
    };
  }

  async putSegment(
    device: string,
    incident: string,
    file: string,
    source: string,
    manifestText: string,
  ): Promise<void> {
    await this.#o.bucketChecked?.();
    const m = this.#manifest(manifestText, 'segment') as SegmentManifest;
    const terms = this.terms(Date.parse(m.wall.first), m.clock.source !== 'unset');
    const key = incidentObject(this.#o.root, device, incident, file);
    const manifestKey = manifestFileFor(key);
    // One listing answers for both keys (the manifest's name begins with the segment's): a HEAD only for one there.
    const present = new Set<string>();
    for await (const e of this.#o.store.list(key)) present.add(e.key);
    // The segment first: a manifest in the store always has its segment beside it.
    const sha256 = m.segment.sha256; // checked by the dock agent against the bytes, and by the store again
    const absent = !present.has(key);
    await putVerified(this.#o.store, { key, source, sha256, absent, ...terms, contentType: BINARY }, this.#plan);
    await putVerified(
      this.#o.store,
      {
        key: manifestKey,
        source: Buffer.from(manifestText),
        absent: !present.has(manifestKey),
        ...terms,
        contentType: JSON_TYPE,
      },
      this.#plan,
    );
    await unlink(source);
  }

  async putClosing(device: string, incident: string, manifestText: string): Promise<void> {
    await this.#o.bucketChecked?.();
    const m = this.#manifest(manifestText, 'incident') as IncidentManifest;
    const terms = this.terms(Date.parse(m.activatedAt), m.clock.source !== 'unset');
    const key = incidentObject(this.#o.root, device, incident, INCIDENT_MANIFEST);
    await putVerified(
      this.#o.store,
      { key, source: Buffer.from(manifestText), ...terms, contentType: JSON_TYPE },
      this.#plan,
    );
  }

  /** Stores the lines as one immutable batch named by its first and last sequence numbers. */
  async appendAudit(device: string, lines: string): Promise<void> {
    await this.#o.bucketChecked?.();
    const log = parseAuditLog(lines);
    const first = log.entries[0]?.envelope.payload;
    const last = log.entries.at(-1)?.envelope.payload;
    if (first === undefined || last === undefined || log.malformed.length > 0 || log.tornTail !== null) {
      throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `audit lines of ${device} are not whole audit entries`, {
        device,
      });
    }
    // Kept from the newest entry's time, so each entry is kept at least the minimum from its own.
    const terms = this.terms(Date.parse(last.at), true);
    const key = auditBatchObject(this.#o.root, device, first.seq, last.seq);
    await putVerified(this.#o.store, { key, source: Buffer.from(lines), ...terms, contentType: JSONL }, this.#plan);
  }

  /**
   * Written once: the same key again only extends its lock to the minimum from now (it must outlive the evidence it
   * verifies); another key for the device is refused (STORE_CONFLICT).
   */
  async putDeviceKey(device: string, pem: string): Promise<void> {
    await this.#o.bucketChecked?.();
    const key = deviceKeyObject(this.#o.root, device);
    try {
      await putVerified(
        this.#o.store,
        { key, source: Buffer.from(pem), ...this.terms(null, false), contentType: 'application/x-pem-file' },
        this.#plan,
      );
    } catch (e) {
      if (!isBodycamError(e, ErrorCode.STORE_CONFLICT)) throw e;
      throw new BodycamError(
        ErrorCode.STORE_CONFLICT,
        `${this.#o.store.describe} already holds another signing key for device ${device} at ${key}; a device's key is ` +
          `written once (another dock of organisation ${this.#o.root.organisation} enrolled a different camera under ` +
          'this id?): nothing of this device is stored until that is resolved',
        { device, key },
        { cause: e },
      );
    }
  }

  /** One object per record, named by its seq; kept at least the minimum from now (it vouches for what came before). */
  async appendDocking(device: string, line: string): Promise<void> {
    await this.#o.bucketChecked?.();
    const parsed = parseDockingLine(line.endsWith('\n') ? line.slice(0, -1) : line);
    if ('reason' in parsed) {
      throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `a docking record of ${device} is not one: ${parsed.reason}`, {
        device,
      });
    }
    const key = dockingObject(this.#o.root, device, parsed.envelope.payload.seq);
    const text = line.endsWith('\n') ? line : `${line}\n`;
    await putVerified(
      this.#o.store,
      { key, source: Buffer.from(text), ...this.terms(null, false), contentType: JSONL },
      this.#plan,
    );
  }

  async lastDocking(device: string): Promise<string | null> {
    let last: string | null = null;
    for await (const e of this.#o.store.list(`${deviceKeyPrefix(this.#o.root, device)}${DOCKINGS_FOLDER}/`)) {
      if (last === null || e.key > last) last = e.key;
    }
    if (last === null) return null;
    const text = await this.#text(last);
    return text.endsWith('\n') ? text.slice(0, -1) : text;
  }

  /** The segment object with this size and SHA-256 (the store checked both at the write) and its manifest beside it. */
  async holdsSegment(
    device: string,
    incident: string,
    file: string,
    expect: { bytes: number; sha256: string },
  ): Promise<boolean> {
    const key = incidentObject(this.#o.root, device, incident, file);
    const head = await this.#o.store.head(key);
    if (head === null || head.size !== expect.bytes || head.metadata[SHA256_METADATA] !== expect.sha256) return false;
    return (await this.#o.store.head(manifestFileFor(key))) !== null;
  }

  async holdsClosing(device: string, incident: string, manifestText: string): Promise<boolean> {
    const key = incidentObject(this.#o.root, device, incident, INCIDENT_MANIFEST);
    if ((await this.#o.store.head(key)) === null) return false;
    return (await this.#text(key)) === manifestText;
  }

  async #text(key: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of await this.#o.store.get(key)) chunks.push(Buffer.from(c as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }

  #manifest(text: string, kind: 'segment' | 'incident'): SegmentManifest | IncidentManifest {
    const p = parseManifest(text).payload;
    if (p.kind !== kind) {
      throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `expected a ${kind} manifest, got a ${p.kind} manifest`);
    }
    return p;
  }
}
