import { timingSafeEqual } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { BodycamError, ErrorCode, isBodycamError, isSubsystemError } from '../lib/errors.ts';
import { storageError } from '../lib/fs.ts';
import { type AgeHeader, aeadOpen, headerMac, hkdf, MAX_HEADER_SIZE, parseHeader, type Stanza } from './header.ts';
import type { AgeIdentity } from './identity.ts';
import { PAYLOAD_NONCE_SIZE, SEALED_CHUNK_SIZE } from './sealer.ts';

export type { AgeHeader, Stanza } from './header.ts';
export { AgeIdentity, parseIdentities } from './identity.ts';

/**
 * age v1 decryption (https://age-encryption.org/v1) with X25519 identities, for custodian tools (export, verify).
 * The camera never opens what it seals. Errors tell a wrong key from a damaged file:
 * - AGE_BAD_IDENTITY: the identity text is not usable (the message never shows the secret);
 * - AGE_NO_MATCHING_IDENTITY: none of the identities is a recipient (a damaged recipient stanza looks the same);
 * - AGE_CORRUPT: malformed header, header MAC mismatch, a chunk that fails authentication, data after the end;
 * - AGE_TRUNCATED: the file ends cleanly (inside the header, or at a chunk boundary) before its final chunk.
 */

const READ_SIZE = 4 * SEALED_CHUNK_SIZE;

function corrupt(message: string, details: Record<string, unknown> = {}): BodycamError {
  return new BodycamError(ErrorCode.AGE_CORRUPT, message, details);
}

/** The file key from the first stanza one of the identities opens, trying stanzas in order (unknown types skipped). */
function unwrapFileKey(stanzas: readonly Stanza[], identities: readonly AgeIdentity[]): Buffer {
  for (const stanza of stanzas) {
    for (const identity of identities) {
      const fileKey = identity.unwrap(stanza);
      if (fileKey !== undefined) return fileKey;
    }
  }
  const x25519 = stanzas.filter((s) => s.type === 'X25519').length;
  const others = [...new Set(stanzas.filter((s) => s.type !== 'X25519').map((s) => s.type))];
  const encryptedTo: string[] = [];
  if (x25519 > 0) encryptedTo.push(`${x25519} X25519 recipient${x25519 === 1 ? '' : 's'}`);
  if (others.length > 0) encryptedTo.push(`recipients of type ${others.join(', ')}, which cannot be opened here`);
  const tried = identities.map((id) => id.recipient);
  const shown = tried.length > 3 ? [...tried.slice(0, 3), `${tried.length - 3} more`] : tried;
  throw new BodycamError(
    ErrorCode.AGE_NO_MATCHING_IDENTITY,
    `None of the given identities is a recipient of this file: it is encrypted to ${encryptedTo.join(' and ')}, ` +
      `and the identities given are those of ${shown.join(', ')}.`,
    { recipients: tried, stanzaTypes: stanzas.map((s) => s.type) },
  );
}

/**
 * Streaming age decryption with bounded memory: feed the file's bytes to `push()` in any pieces, then call
 * `finish()`. Each returns the plaintext of the chunks it authenticated. Plaintext returned is authentic, but the
 * file is whole only if `finish()` returns: a caller writing an export deletes its output when anything throws.
 * After an error, or after `finish()`, the opener is spent.
 */
export class AgeOpener {
  readonly #identities: readonly AgeIdentity[];
  /** Set once the header has arrived, a stanza opened and the MAC matched. */
  #header: AgeHeader | undefined;
  /** Bytes before the payload (header, then nonce) while they are still arriving. */
  #head: Buffer = Buffer.alloc(0);
  #fileKey: Buffer = Buffer.alloc(0);
  #inPayload = false;
  #payloadKey: Buffer = Buffer.alloc(0);
  #payloadStart = 0;
  /** The chunk being received: it is only known not to be the last once a byte after it arrives. */
  #chunk = Buffer.alloc(SEALED_CHUNK_SIZE);
  #chunkLength = 0;
  #chunkIndex = 0;
  #nonce = Buffer.alloc(12);
  #spent = false;

  constructor(identities: readonly AgeIdentity[]) {
    if (identities.length === 0) {
      throw new BodycamError(ErrorCode.AGE_BAD_IDENTITY, 'at least one identity is needed to open an age file');
    }
    this.#identities = identities;
  }

  /** The header once it has arrived and one of the identities opened it (MAC verified); undefined before. */
  get header(): AgeHeader | undefined {
    return this.#header;
  }

  /** Plaintext of the chunks that `data` completes (possibly empty). */
  push(data: Buffer): Buffer {
    return this.#guard(() => {
      let offset = 0;
      if (!this.#inPayload) {
        offset = this.#takeHead(data);
        if (!this.#inPayload) return Buffer.alloc(0);
      }
      const plain: Buffer[] = [];
      while (offset < data.length) {
        if (this.#chunkLength === SEALED_CHUNK_SIZE) {
          plain.push(this.#openChunk(this.#chunk, true));
          this.#chunkLength = 0;
        }
        if (this.#chunkLength === 0 && data.length - offset > SEALED_CHUNK_SIZE) {
          // A whole chunk with more after it, straight from the caller's buffer.
          plain.push(this.#openChunk(data.subarray(offset, offset + SEALED_CHUNK_SIZE), true));
          offset += SEALED_CHUNK_SIZE;
          continue;
        }
        const n = data.copy(this.#chunk, this.#chunkLength, offset);
        this.#chunkLength += n;
        offset += n;
      }
      return plain.length === 1 ? (plain[0] ?? Buffer.alloc(0)) : Buffer.concat(plain);
    });
  }

  /** Plaintext of the final chunk; throws AGE_TRUNCATED when the file stopped before it. */
  finish(): Buffer {
    const last = this.#guard(() => {
      if (!this.#inPayload) {
        if (this.#header === undefined) parseHeader(this.#head); // a malformed partial header is AGE_CORRUPT
        const where = this.#header === undefined ? 'inside its header' : 'inside the payload nonce';
        const message = this.#head.length === 0 ? 'the file is empty' : `the file ends ${where}`;
        throw new BodycamError(ErrorCode.AGE_TRUNCATED, message, { bytes: this.#head.length });
      }
      const offset = this.#payloadStart + this.#chunkIndex * SEALED_CHUNK_SIZE;
      if (this.#chunkLength === SEALED_CHUNK_SIZE && this.#tryChunk(this.#chunk, false) !== undefined) {
        throw new BodycamError(
          ErrorCode.AGE_TRUNCATED,
          `the file ends after chunk ${this.#chunkIndex} (at byte ${offset + SEALED_CHUNK_SIZE}) without its final ` +
            'chunk: it was cut short',
          { chunk: this.#chunkIndex, offset: offset + SEALED_CHUNK_SIZE },
        );
      }
      if (this.#chunkLength === 0) {
        throw new BodycamError(ErrorCode.AGE_TRUNCATED, 'the file ends before its first chunk', { offset });
      }
      return this.#openChunk(this.#chunk.subarray(0, this.#chunkLength), false);
    });
    this.#wipe();
    return last;
  }

  #guard<T>(step: () => T): T {
    if (this.#spent) throw new BodycamError(ErrorCode.SEAL_STATE, 'this age opener is spent (finished or failed)');
    try {
      return step();
    } catch (e) {
      this.#wipe();
      throw e;
    }
  }

  /** Collects header and nonce; returns how much of `data` they took. */
  #takeHead(data: Buffer): number {
    const before = this.#head.length;
    this.#head = Buffer.concat([this.#head, data]);
    if (this.#header === undefined) {
      // Parse again only when a line may have ended, the start may betray a non-age file, or the size cap is hit.
      const worth = data.includes(0x0a) || before < 64 || this.#head.length > MAX_HEADER_SIZE;
      const header = worth ? parseHeader(this.#head) : undefined;
      if (header === undefined) return data.length;
      this.#fileKey = unwrapFileKey(header.stanzas, this.#identities);
      if (!timingSafeEqual(headerMac(this.#fileKey, header.macInput), header.mac)) {
        throw corrupt('the header MAC does not match: the header was altered or damaged');
      }
      this.#header = header;
      this.#payloadStart = header.length + PAYLOAD_NONCE_SIZE;
    }
    if (this.#head.length < this.#payloadStart) return data.length;
    this.#payloadKey = hkdf(this.#fileKey, this.#head.subarray(this.#header.length, this.#payloadStart), 'payload');
    this.#fileKey.fill(0);
    this.#head = Buffer.alloc(0);
    this.#inPayload = true;
    return this.#payloadStart - before;
  }

  /** Opens the pending chunk; `more` says bytes follow it, so it must not be the last. */
  #openChunk(sealed: Buffer, more: boolean): Buffer {
    const index = this.#chunkIndex;
    const offset = this.#payloadStart + index * SEALED_CHUNK_SIZE;
    const plain = this.#tryChunk(sealed, !more);
    if (plain === undefined) {
      if (more && this.#tryChunk(sealed, true) !== undefined) {
        throw corrupt(`there are bytes after the final chunk (chunk ${index}), from byte ${offset + sealed.length}`, {
          chunk: index,
          offset: offset + sealed.length,
        });
      }
      throw corrupt(
        `chunk ${index} (at byte ${offset}) fails authentication: the file is damaged${more ? '' : ' or cut short'}`,
        { chunk: index, offset },
      );
    }
    if (!more && plain.length === 0 && index > 0) {
      throw corrupt(`the final chunk ${index} (at byte ${offset}) is empty, which age forbids`, {
        chunk: index,
        offset,
      });
    }
    this.#chunkIndex++;
    return plain;
  }

  #tryChunk(sealed: Buffer, last: boolean): Buffer | undefined {
    // 11-byte big-endian counter (the top 5 bytes stay zero: 2^48 chunks is 16 EiB), then the last-chunk flag.
    this.#nonce.writeUIntBE(this.#chunkIndex, 5, 6);
    this.#nonce[11] = last ? 1 : 0;
    return aeadOpen(this.#payloadKey, this.#nonce, sealed);
  }

  #wipe(): void {
    this.#spent = true;
    this.#fileKey.fill(0);
    this.#payloadKey.fill(0);
    this.#chunk.fill(0);
  }
}

/** Opens a whole age file held in memory (small files and tests; use `openAgeFile` for segments). */
export function openAgeBuffer(file: Buffer, identities: readonly AgeIdentity[]): Buffer {
  const opener = new AgeOpener(identities);
  const body = opener.push(file);
  return Buffer.concat([body, opener.finish()]);
}

/**
 * The plaintext of the age file at `path`, read in pieces of a few chunks, so memory stays bounded however large the
 * file. Opening errors carry the path in their message and details; I/O errors are STORAGE_IO.
 */
export async function* openAgeFile(path: string, identities: readonly AgeIdentity[]): AsyncGenerator<Buffer> {
  const opener = new AgeOpener(identities);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw storageError(e, path, 'opening');
  }
  try {
    const piece = Buffer.alloc(READ_SIZE);
    for (;;) {
      const { bytesRead } = await handle.read(piece, 0, piece.length, null).catch((e: unknown) => {
        throw storageError(e, path, 'reading');
      });
      if (bytesRead === 0) break;
      const plain = withPath(path, () => opener.push(piece.subarray(0, bytesRead)));
      if (plain.length > 0) yield plain;
    }
    const last = withPath(path, () => opener.finish());
    if (last.length > 0) yield last;
  } finally {
    await handle.close();
  }
}

function withPath<T>(path: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (!isSubsystemError(e, 'AGE')) throw e;
    throw new BodycamError(e.code, `${path}: ${e.message}`, { ...e.details, path }, { cause: e });
  }
}

/** The identities are not recipients of the file (or its recipient stanzas are damaged): try another key. */
export function isWrongIdentity(e: unknown): e is BodycamError {
  return isBodycamError(e, ErrorCode.AGE_NO_MATCHING_IDENTITY);
}

/** The file is damaged, altered or cut short (AGE_CORRUPT, AGE_TRUNCATED): another key will not help. */
export function isDamagedAgeFile(e: unknown): e is BodycamError {
  return isBodycamError(e, ErrorCode.AGE_CORRUPT) || isBodycamError(e, ErrorCode.AGE_TRUNCATED);
}
