/**
 * Export's one read of each segment: the ciphertext is hashed as it is decrypted, byte for byte the same bytes, and
 * the plaintext fMP4 of every segment is appended to one file (each segment's init segment once, checked equal).
 * The caller compares the hash with the verified manifest before it writes any output from the joined file.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { type AgeIdentity, AgeOpener, isWrongIdentity } from '../age/opener.ts';
import { BodycamError, ErrorCode, isSubsystemError } from '../lib/errors.ts';
import { openFile } from './tree-fs.ts';

const READ_BYTES = 256 * 1024;
/** An init segment (ftyp + moov) is a few kilobytes; a segment whose first two boxes exceed this is not ours. */
const MAX_INIT_BYTES = 16 * 1024 * 1024;

/** The length of the init segment (the first two boxes) at the start of `head`, or null until both are in it. */
export function initLength(head: Buffer): number | null {
  let at = 0;
  for (let i = 0; i < 2; i++) {
    if (head.length < at + 8) return null;
    const size = head.readUInt32BE(at);
    if (size < 8) throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, 'the segment does not start with two MP4 boxes');
    at += size;
  }
  return head.length >= at ? at : null;
}

export interface JoinedSegment {
  bytes: number;
  sha256: string;
}

function withFile(file: string, e: unknown): unknown {
  if (isWrongIdentity(e)) {
    return new BodycamError(
      ErrorCode.AGE_NO_MATCHING_IDENTITY,
      `the identity given does not open ${file}: it is not one of the custodian keys this camera seals to`,
      { file },
    );
  }
  if (isSubsystemError(e, 'AGE')) return new BodycamError(e.code, `${file}: ${e.message}`, { ...e.details, file });
  return e;
}

/** Appends segments' plaintext to `out`; `init` is the first segment's init segment once one was appended. */
export class Joiner {
  readonly #out: FileHandle;
  readonly #identities: readonly AgeIdentity[];
  #init: Buffer | null = null;

  constructor(out: FileHandle, identities: readonly AgeIdentity[]) {
    this.#out = out;
    this.#identities = identities;
  }

  /** Decrypts `file` (opened without following a link) into the joined file; returns its ciphertext's size and hash. */
  async append(file: string, name: string): Promise<JoinedSegment> {
    const { fh } = await openFile(file);
    const hash = createHash('sha256');
    const opener = new AgeOpener(this.#identities);
    let bytes = 0;
    let head: Buffer | null = Buffer.alloc(0);
    const write = async (plain: Buffer) => {
      if (plain.length === 0) return;
      if (head === null) {
        await this.#out.write(plain);
        return;
      }
      head = Buffer.concat([head, plain]);
      const n = initLength(head);
      if (n === null) {
        if (head.length > MAX_INIT_BYTES) throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `${name}: no init segment`);
        return;
      }
      const own = head.subarray(0, n);
      if (this.#init !== null && !own.equals(this.#init)) {
        throw new BodycamError(
          ErrorCode.EVIDENCE_FORMAT,
          `segment ${name} was captured with other parameters than the first; export it on its own`,
        );
      }
      await this.#out.write(this.#init === null ? head : head.subarray(n));
      this.#init ??= Buffer.from(own);
      head = null;
    };
    try {
      const buf = Buffer.alloc(READ_BYTES);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        const piece = buf.subarray(0, bytesRead);
        hash.update(piece);
        bytes += bytesRead;
        await write(opener.push(piece));
      }
      await write(opener.finish());
      if (head !== null) throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `${name}: no complete init segment`);
    } catch (e) {
      throw withFile(file, e);
    } finally {
      await fh.close();
    }
    return { bytes, sha256: hash.digest('hex') };
  }
}
