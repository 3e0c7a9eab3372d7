/**
 * The object store port: the few S3 operations evidence storage needs, on one bucket, with Object Lock. Two
 * drivers side by side: `S3ObjectStore` (s3.ts, any S3 with Object Lock; Ceph RGW in tests) and `MemoryObjectStore`
 * (memory.ts, a stand-in that keeps the same lock rules for unit tests). Errors are BodycamErrors with STORE_ codes:
 * STORE_UNREACHABLE (no answer), STORE_DENIED (refused: a locked object, a shortened retention, no permission),
 * STORE_BUCKET (no such bucket), STORE_MISMATCH (the body did not arrive as sent), STORE_FAILED (anything else).
 *
 * Every write carries the body's MD5 and SHA-256. The store checks both against what it received and refuses the
 * write when either differs: MD5 as `Content-MD5`, SHA-256 as the SigV4 signed payload hash (`x-amz-content-sha256`),
 * which S3 and Ceph RGW check. (The newer `x-amz-checksum-sha256` header is silently ignored by Ceph 16.)
 */
import type { Readable } from 'node:stream';

/** Object Lock retention. Only COMPLIANCE is written: no one, administrators included, can shorten or lift it. */
export interface Retention {
  mode: 'COMPLIANCE' | 'GOVERNANCE';
  retainUntil: Date;
}

/** A body: bytes in memory, or a byte range of a local file (streamed, never read whole). */
export type Body = Buffer | { path: string; start: number; size: number };

/** What the store is asked to keep, with the digests it checks the received bytes against. */
export interface PutInput {
  key: string;
  body: Body;
  size: number;
  /** Digests of the body (raw bytes, 16 and 32 long). */
  md5: Buffer;
  sha256: Buffer;
  /** Object Lock retention written with the object. */
  retention: Retention;
  /** User metadata (`x-amz-meta-*`): lower-case ASCII names, ASCII values. */
  metadata: Record<string, string>;
  contentType: string;
}

/** One stored version of an object. */
export interface StoredVersion {
  key: string;
  versionId: string;
  /** The store's ETag, without quotes: the MD5 hex of a single put; `<md5 of part MD5s>-<parts>` of a multipart. */
  etag: string;
}

export interface ObjectHead extends StoredVersion {
  size: number;
  lastModified: Date;
  metadata: Record<string, string>;
  retention: Retention | null;
}

/** An entry of a version listing: an object version or a delete marker. */
export interface VersionEntry {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  /** 0 and '' for delete markers. */
  size: number;
  etag: string;
  lastModified: Date;
}

/** The latest version of an object in a listing by prefix. */
export interface ListEntry {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
}

export interface MultipartStart {
  key: string;
  retention: Retention;
  metadata: Record<string, string>;
  contentType: string;
}

export interface PartInput {
  key: string;
  uploadId: string;
  /** 1-based. */
  partNumber: number;
  body: Body;
  size: number;
  md5: Buffer;
  sha256: Buffer;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface PendingUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/** What the bucket says of itself, for the start-up check (bucket-check.ts). */
export interface BucketFacts {
  exists: boolean;
  objectLockEnabled: boolean;
  versioning: 'Enabled' | 'Suspended' | 'Off';
  /** The bucket's default retention rule, when it has one. */
  defaultRetention: { mode: 'COMPLIANCE' | 'GOVERNANCE'; days: number } | null;
}

export interface ObjectStore {
  /** A name for messages: `s3://bucket` at the endpoint. */
  readonly describe: string;
  bucketFacts(): Promise<BucketFacts>;

  /** One request; the store refuses a body whose MD5 or SHA-256 differs from the given ones (STORE_MISMATCH). */
  put(input: PutInput): Promise<StoredVersion>;
  /** The latest version (or `versionId`), or null when there is none (or the latest is a delete marker). */
  head(key: string, versionId?: string): Promise<ObjectHead | null>;
  /** The bytes of the latest version (or `versionId`); STORE_FAILED when there is none. */
  get(key: string, versionId?: string): Promise<Readable>;
  /** Latest versions of the keys under `prefix`, in key order, page by page. */
  list(prefix: string): AsyncIterable<ListEntry>;
  /** Every version and delete marker under `prefix`, page by page. */
  listVersions(prefix: string): AsyncIterable<VersionEntry>;

  setRetention(key: string, versionId: string, retention: Retention): Promise<void>;
  /** Whether the version is under a legal hold (a request of its own: HEAD does not tell on every store). */
  legalHold(key: string, versionId: string): Promise<boolean>;
  setLegalHold(key: string, versionId: string, on: boolean): Promise<void>;
  /** With a version id: removes that version (refused while locked or held). Without: adds a delete marker. */
  delete(key: string, versionId?: string): Promise<{ versionId: string | null; deleteMarker: boolean }>;

  /** Multipart upload, resumable: `uploads` finds a pending one, `parts` what it already holds. */
  startMultipart(input: MultipartStart): Promise<string>;
  uploads(key: string): Promise<PendingUpload[]>;
  parts(key: string, uploadId: string): Promise<UploadedPart[]>;
  putPart(input: PartInput): Promise<string>;
  completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<StoredVersion>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
}
