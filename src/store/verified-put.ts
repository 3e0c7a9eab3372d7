/**
 * Writing an object so that it counts as stored: once, under Object Lock, checked afterwards.
 *
 * - Write once: when the key already holds the same bytes (size, SHA-256 metadata and ETag), nothing is written
 *   again (a retry after a crash); when it holds other bytes, STORE_CONFLICT, and nothing is written.
 * - Each request carries the body's MD5 and SHA-256, which the store checks against what it received
 *   (`Content-MD5`; the SigV4 signed payload hash): a body damaged on the way is refused, not stored.
 * - Large bodies go up as a multipart upload, resumable: a later call finds the pending upload, keeps the parts
 *   whose size and ETag (their MD5) match this body's, and sends only the rest.
 * - Afterwards: a single put counts as stored once the store's answer names a new version whose ETag (the MD5 the
 *   store computed of the bytes it keeps) is this body's MD5. The SHA-256 was checked by the store before it
 *   committed (the signed payload hash), size follows from both digests, and the retention and metadata went in the
 *   same atomic request. (Ceph 16 takes lock headers into a bucket without Object Lock and stores the object
 *   unlocked: its answer then has no version id, which is refused as STORE_BUCKET; the evidence store checks the
 *   bucket's Object Lock before its first write.) A multipart object is read back with HEAD: its
 *   size, its ETag (the MD5 of the parts' MD5s), the SHA-256 in its metadata and its COMPLIANCE retention, set when
 *   the upload began (a resumed upload's is extended to the one asked for now); any difference is STORE_MISMATCH.
 *
 * Why not read the bytes back: it doubles the traffic and proves nothing more against a store that lies (it can
 * serve good bytes once and lose them later); what catches that is the verifier, reading objects later. Why not the
 * `x-amz-checksum-sha256` header: Ceph 16 accepts and ignores it (a wrong checksum was stored without complaint).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import type { ObjectHead, ObjectStore, Retention, StoredVersion, UploadedPart } from './port.ts';

/** The metadata name under which every object carries the SHA-256 (hex) of its bytes. */
export const SHA256_METADATA = 'sha256';

/** How bodies are sent: one request up to `multipartAboveBytes`, else parts of `partBytes` (S3: ≥ 5 MiB). */
export interface PutPlan {
  partBytes: number;
  multipartAboveBytes: number;
}

export const DEFAULT_PLAN: PutPlan = { partBytes: 16 * 1024 * 1024, multipartAboveBytes: 32 * 1024 * 1024 };

export interface PartDigest {
  partNumber: number;
  start: number;
  size: number;
  md5: Buffer;
  sha256: Buffer;
}

export interface Digests {
  size: number;
  md5: Buffer;
  sha256: Buffer;
  /** The body cut into parts of `partBytes` (one part when it is empty); none when it goes up whole. */
  parts: PartDigest[];
}

/**
 * Digests in one pass: the whole body's MD5, its SHA-256 (unless the caller knows it: then it is taken as given, and
 * the store checks it), and each part's MD5 and SHA-256 when the body goes up in parts.
 */
class Digester {
  readonly #partBytes: number | null;
  readonly #md5 = createHash('md5');
  readonly #sha: Hash | null;
  readonly parts: PartDigest[] = [];
  #size = 0;
  #part: { start: number; size: number; md5: Hash; sha: Hash } | null = null;

  constructor(partBytes: number | null, knownSha: boolean) {
    this.#partBytes = partBytes;
    this.#sha = knownSha ? null : createHash('sha256');
  }

  update(chunk: Buffer): void {
    this.#md5.update(chunk);
    this.#sha?.update(chunk);
    const partBytes = this.#partBytes;
    if (partBytes === null) {
      this.#size += chunk.length;
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      this.#part ??= { start: this.#size, size: 0, md5: createHash('md5'), sha: createHash('sha256') };
      const take = Math.min(chunk.length - at, partBytes - this.#part.size);
      const piece = chunk.subarray(at, at + take);
      this.#part.md5.update(piece);
      this.#part.sha.update(piece);
      this.#part.size += take;
      this.#size += take;
      at += take;
      if (this.#part.size === partBytes) this.#closePart();
    }
  }

  #closePart(): void {
    const p = this.#part;
    if (p === null) return;
    this.parts.push({
      partNumber: this.parts.length + 1,
      start: p.start,
      size: p.size,
      md5: p.md5.digest(),
      sha256: p.sha.digest(),
    });
    this.#part = null;
  }

  finish(knownSha?: Buffer): Digests {
    if (this.#partBytes !== null && (this.#part !== null || this.parts.length === 0)) {
      this.#part ??= { start: 0, size: 0, md5: createHash('md5'), sha: createHash('sha256') };
      this.#closePart();
    }
    const sha256 = this.#sha?.digest() ?? knownSha ?? Buffer.alloc(32);
    return { size: this.#size, md5: this.#md5.digest(), sha256, parts: this.parts };
  }
}

/** Digests of `body`; parts of `partBytes` (null: none); `knownSha` is taken as its SHA-256 instead of hashing. */
export function digestBuffer(body: Buffer, partBytes: number | null, knownSha?: Buffer): Digests {
  const d = new Digester(partBytes, knownSha !== undefined);
  d.update(body);
  return d.finish(knownSha);
}

/** The same for a file, streamed. */
export async function digestFile(file: string, partBytes: number | null, knownSha?: Buffer): Promise<Digests> {
  const d = new Digester(partBytes, knownSha !== undefined);
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) d.update(chunk as Buffer);
  return d.finish(knownSha);
}

/** The ETag S3 gives a multipart object: the MD5 of the parts' MD5s, a dash, the number of parts. */
export function multipartEtag(parts: readonly { md5: Buffer }[]): string {
  const all = createHash('md5')
    .update(Buffer.concat(parts.map((p) => p.md5)))
    .digest('hex');
  return `${all}-${parts.length}`;
}

/** The ETag the store gives a body with these digests: the parts' when it went up in parts, else its MD5. */
export function expectedEtag(d: Digests): string {
  return d.parts.length > 0 ? multipartEtag(d.parts) : d.md5.toString('hex');
}

/** What is wrong with a stored version against what was sent (empty when nothing is). Pure. */
export function headProblems(head: ObjectHead, d: Digests, etag: string, retention: Retention): string[] {
  const problems: string[] = [];
  if (head.size !== d.size) problems.push(`size ${head.size}, sent ${d.size}`);
  if (head.etag !== etag) problems.push(`ETag ${head.etag}, expected ${etag}`);
  const sha = d.sha256.toString('hex');
  if (head.metadata[SHA256_METADATA] !== sha) {
    problems.push(`SHA-256 metadata ${head.metadata[SHA256_METADATA] ?? '(none)'}, sent ${sha}`);
  }
  if (head.retention === null) problems.push('no retention');
  else if (head.retention.mode !== retention.mode) problems.push(`retention mode ${head.retention.mode}`);
  return problems;
}

export interface VerifiedPut {
  key: string;
  /** Bytes, or the path of a local file (streamed). */
  source: Buffer | string;
  retention: Retention;
  metadata: Record<string, string>;
  contentType: string;
  /**
   * The body's SHA-256 (hex) when the caller already knows it (a verified segment's, from its manifest): a body that
   * goes up whole is not hashed again, the store refusing one whose SHA-256 is not this; one that goes up in parts is
   * hashed here and refused before anything is sent when it differs.
   */
  sha256?: string;
  /**
   * The caller listed the key a moment ago and it was not there: the write-once check needs no HEAD of its own
   * (one listing can answer for several keys). A key that appeared since gets a new version, still of these bytes
   * or refused; the verifier reports versions it did not expect.
   */
  absent?: boolean;
}

export interface PutOutcome {
  version: StoredVersion;
  size: number;
  sha256: string;
  /** The key already held these bytes: nothing was written. */
  already: boolean;
}

/** Writes `input` once, under its retention, and checks the stored version (see the top of this file). */
export async function putVerified(
  store: ObjectStore,
  input: VerifiedPut,
  plan: PutPlan = DEFAULT_PLAN,
): Promise<PutOutcome> {
  const size = Buffer.isBuffer(input.source) ? input.source.length : (await stat(input.source)).size;
  const parted = size > plan.multipartAboveBytes;
  const known = input.sha256 === undefined ? undefined : Buffer.from(input.sha256, 'hex');
  // A body that goes up whole is held in memory once (it is at most multipartAboveBytes); parts are read as sent.
  const whole = parted ? null : Buffer.isBuffer(input.source) ? input.source : await readFile(input.source);
  let d: Digests;
  // A body going up whole carries the known SHA-256 in its request, and the store refuses other bytes. Parts carry
  // their own digests, which prove nothing of the whole: so a body going up in parts is hashed here, and one whose
  // SHA-256 is not the one vouched for (a file changed on the dock's disk) is refused before anything is sent.
  if (whole !== null) d = digestBuffer(whole, null, known);
  else if (Buffer.isBuffer(input.source)) d = digestBuffer(input.source, plan.partBytes);
  else d = await digestFile(input.source, plan.partBytes);
  if (whole === null && known !== undefined && !d.sha256.equals(known)) {
    throw new BodycamError(
      ErrorCode.STORE_MISMATCH,
      `${input.key}: the body's SHA-256 is ${d.sha256.toString('hex')}, not the ${input.sha256} it must be (changed since it was verified?); nothing was sent`,
      { key: input.key },
    );
  }
  if (d.size !== size) {
    throw new BodycamError(ErrorCode.STORE_FAILED, `${input.key}: the source changed while it was read`, {
      key: input.key,
    });
  }
  const sha256 = d.sha256.toString('hex');
  const etag = expectedEtag(d);
  const existing = input.absent === true ? null : await store.head(input.key);
  if (existing !== null) {
    const same = existing.size === d.size && existing.metadata[SHA256_METADATA] === sha256;
    if (!same || (existing.etag !== etag && existing.etag !== d.md5.toString('hex'))) {
      throw new BodycamError(
        ErrorCode.STORE_CONFLICT,
        `${input.key} already holds other bytes in ${store.describe} (version ${existing.versionId}: ${existing.size} bytes, ` +
          `SHA-256 ${existing.metadata[SHA256_METADATA] ?? 'unknown'}; this one: ${d.size} bytes, SHA-256 ${sha256}); nothing was written`,
        { key: input.key, versionId: existing.versionId },
      );
    }
    await atLeast(store, existing, input.retention);
    return { version: existing, size: d.size, sha256, already: true };
  }
  const metadata = { ...input.metadata, [SHA256_METADATA]: sha256 };
  if (whole === null) {
    const version = await multipart(store, input, d, metadata);
    const head = await store.head(input.key, version.versionId);
    const problems = head === null ? ['it is not there'] : headProblems(head, d, etag, input.retention);
    if (head === null || problems.length > 0) throw mismatch(store, version, problems);
    await atLeast(store, head, input.retention);
    return { version, size: d.size, sha256, already: false };
  }
  const version = await store.put({
    key: input.key,
    body: whole,
    size: d.size,
    md5: d.md5,
    sha256: d.sha256,
    retention: input.retention,
    metadata,
    contentType: input.contentType,
  });
  // The store's answer is its account of the version it keeps: the ETag is the MD5 it computed of those bytes.
  if (version.etag !== etag) throw mismatch(store, version, [`ETag ${version.etag}, expected ${etag}`]);
  return { version, size: d.size, sha256, already: false };
}

function mismatch(store: ObjectStore, version: StoredVersion, problems: string[]): BodycamError {
  return new BodycamError(
    ErrorCode.STORE_MISMATCH,
    `${version.key} version ${version.versionId} in ${store.describe} is not what was sent: ${problems.join('; ')}`,
    { key: version.key, versionId: version.versionId, problems },
  );
}

/** Extends a version's retention to `retention` when it ends earlier (retention can be extended, never shortened). */
async function atLeast(store: ObjectStore, head: ObjectHead, retention: Retention): Promise<void> {
  if (head.retention !== null && head.retention.retainUntil.getTime() >= retention.retainUntil.getTime()) return;
  await store.setRetention(head.key, head.versionId, retention);
}

async function multipart(
  store: ObjectStore,
  input: VerifiedPut,
  d: Digests,
  metadata: Record<string, string>,
): Promise<StoredVersion> {
  const key = input.key;
  const pending = (await store.uploads(key)).sort((a, b) => b.initiated.getTime() - a.initiated.getTime());
  let uploadId: string | undefined;
  let held: UploadedPart[] = [];
  for (const u of pending) {
    const parts = uploadId === undefined ? await store.parts(key, u.uploadId) : [];
    // A pending upload is taken up only when every part it holds is a part of this body (same number, size and
    // MD5); one holding nothing, or anything else, began with other bytes or metadata, and is dropped.
    const ours = (p: UploadedPart): boolean => {
      const mine = d.parts[p.partNumber - 1];
      return mine !== undefined && mine.size === p.size && mine.md5.toString('hex') === p.etag;
    };
    if (uploadId === undefined && parts.length > 0 && parts.every(ours)) {
      uploadId = u.uploadId;
      held = parts;
    } else {
      await store.abortMultipart(key, u.uploadId);
    }
  }
  uploadId ??= await store.startMultipart({
    key,
    retention: input.retention,
    metadata,
    contentType: input.contentType,
  });
  const done: UploadedPart[] = [];
  for (const part of d.parts) {
    const etag = part.md5.toString('hex');
    const have = held.find((p) => p.partNumber === part.partNumber);
    if (have !== undefined) {
      done.push(have);
      continue;
    }
    const body = Buffer.isBuffer(input.source)
      ? input.source.subarray(part.start, part.start + part.size)
      : { path: input.source, start: part.start, size: part.size };
    const got = await store.putPart({
      key,
      uploadId,
      partNumber: part.partNumber,
      body,
      size: part.size,
      md5: part.md5,
      sha256: part.sha256,
    });
    if (got !== etag) {
      throw new BodycamError(
        ErrorCode.STORE_MISMATCH,
        `${key} part ${part.partNumber}: ETag ${got}, expected ${etag}`,
        { key },
      );
    }
    done.push({ partNumber: part.partNumber, etag, size: part.size });
  }
  return store.completeMultipart(key, uploadId, done);
}
