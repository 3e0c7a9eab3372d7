/**
 * The in-memory stand-in for the object store port, for unit tests. It keeps the rules the real store enforces and
 * that evidence storage relies on (measured against Ceph RGW by test/integration/store/s3-store.test.ts): every write
 * makes a new version; a body whose MD5 or SHA-256 differs from the given digests is refused; a version under
 * COMPLIANCE retention or a legal hold cannot be deleted, and its retention cannot be shortened or its mode changed;
 * a delete without a version id only adds a delete marker.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import type {
  Body,
  BucketFacts,
  ListEntry,
  MultipartStart,
  ObjectHead,
  ObjectStore,
  PartInput,
  PendingUpload,
  PutInput,
  Retention,
  StoredVersion,
  UploadedPart,
  VersionEntry,
} from './port.ts';

interface Version {
  versionId: string;
  deleteMarker: boolean;
  bytes: Buffer;
  etag: string;
  metadata: Record<string, string>;
  retention: Retention | null;
  legalHold: boolean;
  lastModified: Date;
}

interface Upload {
  key: string;
  start: MultipartStart;
  initiated: Date;
  parts: Map<number, { bytes: Buffer; etag: string }>;
}

const md5 = (b: Buffer): Buffer => createHash('md5').update(b).digest();
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

async function bytesOf(body: Body): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const all = await readFile(body.path);
  return all.subarray(body.start, body.start + body.size);
}

export interface MemoryStoreOptions {
  /** What bucketFacts() answers (default: a bucket as evidence storage needs it). */
  facts?: BucketFacts;
  /** The store's clock (default Date.now), against which retention is enforced. */
  now?: () => number;
}

export class MemoryObjectStore implements ObjectStore {
  readonly describe = 's3://memory';
  facts: BucketFacts;
  readonly #now: () => number;
  readonly #objects = new Map<string, Version[]>();
  readonly #uploads = new Map<string, Upload>();
  #counter = 0;

  constructor(o: MemoryStoreOptions = {}) {
    this.facts = o.facts ?? {
      exists: true,
      objectLockEnabled: true,
      versioning: 'Enabled',
      defaultRetention: { mode: 'COMPLIANCE', days: 30 },
    };
    this.#now = o.now ?? Date.now;
  }

  async bucketFacts(): Promise<BucketFacts> {
    return structuredClone(this.facts);
  }

  #id(): string {
    this.#counter += 1;
    return `v${String(this.#counter).padStart(6, '0')}`;
  }

  #check(bytes: Buffer, size: number, wantMd5: Buffer, wantSha: Buffer, key: string): void {
    if (bytes.length !== size || !md5(bytes).equals(wantMd5) || !sha256(bytes).equals(wantSha)) {
      throw new BodycamError(ErrorCode.STORE_MISMATCH, `${key}: the body differs from its digests`, { key });
    }
  }

  #add(key: string, v: Omit<Version, 'versionId' | 'lastModified'>): StoredVersion {
    const version: Version = { ...v, versionId: this.#id(), lastModified: new Date(this.#now()) };
    const list = this.#objects.get(key) ?? [];
    list.push(version);
    this.#objects.set(key, list);
    return { key, versionId: version.versionId, etag: version.etag };
  }

  async put(input: PutInput): Promise<StoredVersion> {
    const bytes = Buffer.from(await bytesOf(input.body));
    this.#check(bytes, input.size, input.md5, input.sha256, input.key);
    return this.#add(input.key, {
      deleteMarker: false,
      bytes,
      etag: md5(bytes).toString('hex'),
      metadata: { ...input.metadata },
      retention: { ...input.retention },
      legalHold: false,
    });
  }

  #find(key: string, versionId?: string): Version | undefined {
    const list = this.#objects.get(key) ?? [];
    const v = versionId === undefined ? list.at(-1) : list.find((x) => x.versionId === versionId);
    return v?.deleteMarker === true ? undefined : v;
  }

  async head(key: string, versionId?: string): Promise<ObjectHead | null> {
    const v = this.#find(key, versionId);
    if (v === undefined) return null;
    return {
      key,
      versionId: v.versionId,
      etag: v.etag,
      size: v.bytes.length,
      lastModified: v.lastModified,
      metadata: { ...v.metadata },
      retention: v.retention === null ? null : { ...v.retention },
    };
  }

  async get(key: string, versionId?: string): Promise<Readable> {
    const v = this.#find(key, versionId);
    if (v === undefined) throw new BodycamError(ErrorCode.STORE_FAILED, `GetObject of ${key}: NoSuchKey`, { key });
    return Readable.from([v.bytes]);
  }

  async *list(prefix: string): AsyncIterable<ListEntry> {
    for (const key of [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      const v = this.#find(key);
      if (v !== undefined) yield { key, size: v.bytes.length, etag: v.etag, lastModified: v.lastModified };
    }
  }

  async *listVersions(prefix: string): AsyncIterable<VersionEntry> {
    for (const key of [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      const list = this.#objects.get(key) ?? [];
      for (const [i, v] of [...list.entries()].reverse()) {
        yield {
          key,
          versionId: v.versionId,
          isLatest: i === list.length - 1,
          deleteMarker: v.deleteMarker,
          size: v.bytes.length,
          etag: v.etag,
          lastModified: v.lastModified,
        };
      }
    }
  }

  #mustFind(key: string, versionId: string): Version {
    const v = this.#find(key, versionId);
    if (v === undefined) throw new BodycamError(ErrorCode.STORE_FAILED, `${key} ${versionId}: NoSuchVersion`, { key });
    return v;
  }

  async setRetention(key: string, versionId: string, retention: Retention): Promise<void> {
    const v = this.#mustFind(key, versionId);
    const old = v.retention;
    if (old !== null && old.mode === 'COMPLIANCE' && old.retainUntil.getTime() > this.#now()) {
      if (retention.mode !== 'COMPLIANCE') {
        throw new BodycamError(ErrorCode.STORE_DENIED, `${key}: can't change retention mode from COMPLIANCE`, { key });
      }
      if (retention.retainUntil.getTime() < old.retainUntil.getTime()) {
        throw new BodycamError(ErrorCode.STORE_DENIED, `${key}: retain-until date shortens the retention`, { key });
      }
    }
    v.retention = { ...retention };
  }

  async legalHold(key: string, versionId: string): Promise<boolean> {
    return this.#mustFind(key, versionId).legalHold;
  }

  async setLegalHold(key: string, versionId: string, on: boolean): Promise<void> {
    this.#mustFind(key, versionId).legalHold = on;
  }

  async delete(key: string, versionId?: string): Promise<{ versionId: string | null; deleteMarker: boolean }> {
    if (versionId === undefined) {
      const marker = this.#add(key, {
        deleteMarker: true,
        bytes: Buffer.alloc(0),
        etag: '',
        metadata: {},
        retention: null,
        legalHold: false,
      });
      return { versionId: marker.versionId, deleteMarker: true };
    }
    const list = this.#objects.get(key) ?? [];
    const i = list.findIndex((x) => x.versionId === versionId);
    const v = list[i];
    if (v === undefined) return { versionId, deleteMarker: false };
    const locked = v.retention !== null && v.retention.retainUntil.getTime() > this.#now();
    if (locked || v.legalHold) {
      throw new BodycamError(ErrorCode.STORE_DENIED, `DeleteObject of ${key}: forbidden by object lock`, { key });
    }
    list.splice(i, 1);
    return { versionId, deleteMarker: v.deleteMarker };
  }

  async startMultipart(input: MultipartStart): Promise<string> {
    const id = `u${this.#id()}`;
    this.#uploads.set(id, {
      key: input.key,
      start: structuredClone(input),
      initiated: new Date(this.#now()),
      parts: new Map(),
    });
    return id;
  }

  async uploads(key: string): Promise<PendingUpload[]> {
    return [...this.#uploads.entries()]
      .filter(([, u]) => u.key === key)
      .map(([uploadId, u]) => ({ key, uploadId, initiated: u.initiated }));
  }

  #upload(key: string, uploadId: string): Upload {
    const u = this.#uploads.get(uploadId);
    if (u === undefined || u.key !== key) {
      throw new BodycamError(ErrorCode.STORE_FAILED, `${key}: NoSuchUpload ${uploadId}`, { key });
    }
    return u;
  }

  async parts(key: string, uploadId: string): Promise<UploadedPart[]> {
    return [...this.#upload(key, uploadId).parts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partNumber, p]) => ({ partNumber, etag: p.etag, size: p.bytes.length }));
  }

  async putPart(input: PartInput): Promise<string> {
    const u = this.#upload(input.key, input.uploadId);
    const bytes = Buffer.from(await bytesOf(input.body));
    this.#check(bytes, input.size, input.md5, input.sha256, input.key);
    const etag = md5(bytes).toString('hex');
    u.parts.set(input.partNumber, { bytes, etag });
    return etag;
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<StoredVersion> {
    const u = this.#upload(key, uploadId);
    const chosen = parts.map((p) => {
      const held = u.parts.get(p.partNumber);
      if (held === undefined || held.etag !== p.etag) {
        throw new BodycamError(ErrorCode.STORE_FAILED, `${key}: InvalidPart ${p.partNumber}`, { key });
      }
      return held;
    });
    this.#uploads.delete(uploadId);
    const etag = `${md5(Buffer.concat(chosen.map((p) => Buffer.from(p.etag, 'hex')))).toString('hex')}-${chosen.length}`;
    return this.#add(key, {
      deleteMarker: false,
      bytes: Buffer.concat(chosen.map((p) => p.bytes)),
      etag,
      metadata: { ...u.start.metadata },
      retention: { ...u.start.retention },
      legalHold: false,
    });
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    this.#upload(key, uploadId);
    this.#uploads.delete(uploadId);
  }
}
