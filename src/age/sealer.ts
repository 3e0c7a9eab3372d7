import { createCipheriv, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { b64, formatStanza, headerMac, hkdf, VERSION_LINE, X25519_INFO } from './header.ts';
import { rawPublicKey, x25519PublicKey } from './keys.ts';

/**
 * age v1 encryption (https://age-encryption.org/v1) to X25519 recipients, in memory, streaming.
 * The device only seals: it never holds a key that opens what it wrote (custodian tools open with opener.ts).
 * Output order: `header`, then every `push()` result, then `finish()` — together a standard age file.
 */

/** Plaintext bytes per STREAM chunk. */
export const CHUNK_SIZE = 64 * 1024;
/** Poly1305 tag appended to each chunk. */
export const TAG_SIZE = 16;
/** Ciphertext bytes of every chunk but the last. */
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;

/** Bytes of the file key every stanza wraps. */
export const FILE_KEY_SIZE = 16;
/** Random bytes between the header and the first chunk; with the file key they derive the payload key. */
export const PAYLOAD_NONCE_SIZE = 16;

function chachaSeal(key: Buffer, nonce: Buffer, plain: Buffer): Buffer[] {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  const body = cipher.update(plain);
  cipher.final();
  return [body, cipher.getAuthTag()];
}

/** One `-> X25519` stanza wrapping the file key to one recipient with a fresh ephemeral key. */
function x25519Stanza(recipient: Buffer, fileKey: Buffer): string {
  const ephemeral = generateKeyPairSync('x25519');
  const share = rawPublicKey(ephemeral.publicKey);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: x25519PublicKey(recipient) });
  } catch (e) {
    throw new BodycamError(
      ErrorCode.SEAL_BAD_RECIPIENT,
      'recipient is not a usable X25519 public key',
      {},
      { cause: e },
    );
  }
  const wrapKey = hkdf(shared, Buffer.concat([share, recipient]), X25519_INFO);
  const body = Buffer.concat(chachaSeal(wrapKey, Buffer.alloc(12), fileKey));
  shared.fill(0);
  wrapKey.fill(0);
  return formatStanza('X25519', [b64(share)], body);
}

export class AgeSealer {
  /** Everything before the first chunk: the age header through its `--- <mac>\n` line, then the payload nonce. */
  readonly header: Buffer;
  #fileKey: Buffer;
  #payloadKey: Buffer;
  /** Plaintext not yet sealed; reused for the whole stream. */
  #pending = Buffer.alloc(CHUNK_SIZE);
  #pendingLength = 0;
  #chunkCount = 0;
  #finished = false;
  #nonce = Buffer.alloc(12);

  constructor(recipients: Buffer[]) {
    if (recipients.length === 0) {
      throw new BodycamError(ErrorCode.SEAL_STATE, 'cannot seal without at least one recipient');
    }
    for (const r of recipients) {
      if (r.length !== 32) {
        throw new BodycamError(ErrorCode.SEAL_BAD_RECIPIENT, `recipient key has ${r.length} bytes, expected 32`);
      }
    }
    this.#fileKey = randomBytes(FILE_KEY_SIZE);
    const stanzas = recipients.map((r) => x25519Stanza(r, this.#fileKey)).join('');
    const macInput = `${VERSION_LINE}\n${stanzas}---`;
    const mac = headerMac(this.#fileKey, macInput);
    const payloadNonce = randomBytes(PAYLOAD_NONCE_SIZE);
    this.#payloadKey = hkdf(this.#fileKey, payloadNonce, 'payload');
    this.header = Buffer.concat([Buffer.from(`${macInput} ${b64(mac)}\n`), payloadNonce]);
  }

  /** Chunks emitted so far by `push()`. */
  get chunkCount(): number {
    return this.#chunkCount;
  }

  /**
   * Ciphertext of the chunks that are now complete and known not to be last. A full chunk stays pending until a
   * byte follows it, because only then is it certain not to be the final one (age's own writer does the same).
   */
  push(plain: Buffer): Buffer {
    const pieces = this.pushPieces(plain);
    return pieces.length === 0 ? Buffer.alloc(0) : Buffer.concat(pieces);
  }

  /**
   * `push()` without joining the ciphertext into one Buffer: each chunk's body and tag as they came from the cipher,
   * in order, for a writer that hands them to `writev` (no copy of the footage just to join it). Each piece is a
   * Buffer of its own that nothing else holds: the caller may give its memory back once written (`releaseNow`).
   */
  pushPieces(plain: Buffer): Buffer[] {
    this.#assertOpen();
    const pieces: Buffer[] = [];
    let offset = 0;
    while (this.#pendingLength + (plain.length - offset) > CHUNK_SIZE) {
      if (this.#pendingLength === 0) {
        // Seal straight from the caller's buffer: no copy for the bulk of a large push.
        pieces.push(...this.#sealChunk(plain.subarray(offset, offset + CHUNK_SIZE), false));
        offset += CHUNK_SIZE;
      } else {
        const take = CHUNK_SIZE - this.#pendingLength;
        plain.copy(this.#pending, this.#pendingLength, offset, offset + take);
        offset += take;
        pieces.push(...this.#sealChunk(this.#pending, false));
        this.#pendingLength = 0;
      }
      this.#chunkCount++;
    }
    this.#pendingLength += plain.copy(this.#pending, this.#pendingLength, offset);
    return pieces;
  }

  /**
   * The pending bytes sealed as the final chunk, without consuming them: header + emitted chunks + this is a
   * complete age file, which is what crash recovery needs.
   */
  sealTail(): Buffer {
    this.#assertOpen();
    return Buffer.concat(this.#sealChunk(this.#pending.subarray(0, this.#pendingLength), true));
  }

  /** The final chunk. The sealer is spent afterwards and its keys are wiped. */
  finish(): Buffer {
    const last = this.sealTail();
    this.#finished = true;
    this.#fileKey.fill(0);
    this.#payloadKey.fill(0);
    this.#pending.fill(0);
    this.#pendingLength = 0;
    return last;
  }

  #sealChunk(plain: Buffer, last: boolean): Buffer[] {
    // Nonce: 11-byte big-endian chunk counter, then 1 on the last chunk. 48 bits of counter is 16 EiB of footage.
    this.#nonce.writeUIntBE(this.#chunkCount, 5, 6);
    this.#nonce[11] = last ? 1 : 0;
    return chachaSeal(this.#payloadKey, this.#nonce, plain);
  }

  #assertOpen(): void {
    if (this.#finished) throw new BodycamError(ErrorCode.SEAL_STATE, 'the age file is already finished');
  }
}
