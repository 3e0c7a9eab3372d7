import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { BodycamError, ErrorCode } from '../lib/errors.ts';

/**
 * The age v1 header as text (https://age-encryption.org/v1), shared by the sealer and the opener: canonical
 * unpadded base64, recipient stanzas wrapped at 64 columns, and the `--- <mac>` line with its HMAC; plus the two
 * primitives both sides derive and open keys with (HKDF-SHA-256, ChaCha20-Poly1305).
 *
 *     age-encryption.org/v1
 *     -> X25519 <ephemeral share>
 *     <body, 64 columns a line, the last line shorter>
 *     --- <HMAC-SHA-256 of everything up to and including "---">
 */

export const VERSION_LINE = 'age-encryption.org/v1';
/** HKDF info of the X25519 wrap key. */
export const X25519_INFO = 'age-encryption.org/v1/X25519';
/** A header larger than this is refused rather than buffered; one X25519 stanza takes 98 bytes. */
export const MAX_HEADER_SIZE = 1024 * 1024;

const COLUMNS = 64;
const AEAD_TAG_SIZE = 16;
const MAC_SIZE = 32;
const ARMOR_LINE = '-----BEGIN AGE ENCRYPTED FILE-----';
const BASE64 = /^[A-Za-z0-9+/]*$/;
const ARGUMENT = /^[\x21-\x7e]+$/;
const MAC_LINE = /^--- ([A-Za-z0-9+/]+)$/;

/** One recipient stanza: `-> type args…` and its decoded body. */
export interface Stanza {
  readonly type: string;
  /** The arguments after the type. */
  readonly args: readonly string[];
  readonly body: Buffer;
}

export interface AgeHeader {
  readonly stanzas: readonly Stanza[];
  /** The header bytes up to and including `---`: what the MAC covers. */
  readonly macInput: Buffer;
  readonly mac: Buffer;
  /** Bytes from the start of the file through the MAC line's newline; the payload nonce follows. */
  readonly length: number;
}

/** Canonical age base64: standard alphabet, no padding. */
export function b64(data: Buffer): string {
  return data.toString('base64').replace(/=+$/, '');
}

/** Decodes canonical unpadded base64; anything else (padding, stray bits, other characters) is undefined. */
export function fromB64(text: string): Buffer | undefined {
  if (!BASE64.test(text) || text.length % 4 === 1) return undefined;
  const data = Buffer.from(text, 'base64');
  return b64(data) === text ? data : undefined;
}

/** A stanza as text: the argument line, then the body in 64 columns, the last line always shorter (maybe empty). */
export function formatStanza(type: string, args: readonly string[], body: Buffer): string {
  const text = b64(body);
  const lines: string[] = [];
  for (let i = 0; i <= text.length; i += COLUMNS) lines.push(text.slice(i, i + COLUMNS));
  return `-> ${[type, ...args].join(' ')}\n${lines.join('\n')}\n`;
}

/** HKDF-SHA-256 with a 32-byte output, as every age key derivation uses it. */
export function hkdf(ikm: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

/** HMAC-SHA-256 of the header text up to and including `---`, keyed by HKDF(file key, "", "header"). */
export function headerMac(fileKey: Buffer, macInput: Buffer | string): Buffer {
  const key = hkdf(fileKey, Buffer.alloc(0), 'header');
  const mac = createHmac('sha256', key).update(macInput).digest();
  key.fill(0);
  return mac;
}

/** ChaCha20-Poly1305 open of `sealed` (ciphertext then tag); undefined when it does not authenticate. */
export function aeadOpen(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < AEAD_TAG_SIZE) return undefined;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: AEAD_TAG_SIZE });
  decipher.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_SIZE));
  const plain = decipher.update(sealed.subarray(0, sealed.length - AEAD_TAG_SIZE));
  try {
    decipher.final();
    return plain;
  } catch {
    plain.fill(0);
    return undefined;
  }
}

function malformed(problem: string, line: number): BodycamError {
  return new BodycamError(ErrorCode.AGE_CORRUPT, `the age header is malformed: line ${line} ${problem}`, { line });
}

/** What a first line that is not `age-encryption.org/v1` says about the file. */
function badVersion(first: string): BodycamError {
  let problem = 'this is not an age file';
  if (first.startsWith(ARMOR_LINE)) problem = 'this is an ASCII-armored age file (age -a); only binary files are read';
  else if (first === `${VERSION_LINE}\r`) problem = 'the header has CRLF line ends: the file was altered as text';
  else if (first.startsWith('age-encryption.org/')) {
    problem = `this age file uses format ${JSON.stringify(first.slice(19, 40))}; only v1 is supported`;
  }
  return new BodycamError(ErrorCode.AGE_CORRUPT, problem);
}

/**
 * The header at the start of `data` (which may run on into the payload), or undefined when `data` ends before the
 * header does. Every complete line is checked as it is reached, so a malformed header throws AGE_CORRUPT as soon
 * as its bad line is in, and a non-age file as soon as its first bytes are.
 */
export function parseHeader(data: Buffer): AgeHeader | undefined {
  const versionEnd = data.indexOf(0x0a);
  if (versionEnd === -1) {
    const start = data.toString('latin1', 0, Math.min(data.length, 64));
    if (!`${VERSION_LINE}\n`.startsWith(start) && !ARMOR_LINE.startsWith(start)) throw badVersion(start);
    return undefined;
  }
  const first = data.toString('latin1', 0, versionEnd);
  if (first !== VERSION_LINE) throw badVersion(first);

  let pos = versionEnd + 1;
  let lineStart = 0;
  let lineNumber = 1;
  const nextLine = (): string | undefined => {
    const end = data.indexOf(0x0a, pos);
    if (end === -1) return undefined;
    const line = data.toString('latin1', pos, end);
    lineStart = pos;
    pos = end + 1;
    lineNumber++;
    return line;
  };

  const stanzas: Stanza[] = [];
  for (let line = nextLine(); line !== undefined; line = nextLine()) {
    if (line.startsWith('-> ')) {
      const [type = '', ...args] = line.slice(3).split(' ');
      if (![type, ...args].every((a) => ARGUMENT.test(a))) {
        throw malformed('has an empty argument or a character outside printable ASCII', lineNumber);
      }
      const body: Buffer[] = [];
      for (;;) {
        const bodyLine = nextLine();
        if (bodyLine === undefined) return incomplete(data);
        const decoded = bodyLine.length <= COLUMNS ? fromB64(bodyLine) : undefined;
        if (decoded === undefined) {
          throw malformed(`is not a stanza body line (canonical base64, at most ${COLUMNS} columns)`, lineNumber);
        }
        body.push(decoded);
        if (bodyLine.length < COLUMNS) break;
      }
      stanzas.push({ type, args, body: Buffer.concat(body) });
    } else if (line.startsWith('---')) {
      const mac = fromB64(MAC_LINE.exec(line)?.[1] ?? '');
      if (mac?.length !== MAC_SIZE) throw malformed('is not "--- " and a 32-byte MAC in base64', lineNumber);
      if (stanzas.length === 0) throw malformed('ends the header before any recipient stanza', lineNumber);
      return { stanzas, macInput: Buffer.from(data.subarray(0, lineStart + 3)), mac, length: pos };
    } else {
      throw malformed('is neither a recipient stanza ("-> …") nor the MAC line ("--- …")', lineNumber);
    }
  }
  return incomplete(data);
}

function incomplete(data: Buffer): undefined {
  if (data.length > MAX_HEADER_SIZE) {
    throw new BodycamError(
      ErrorCode.AGE_CORRUPT,
      `the age header does not end within ${MAX_HEADER_SIZE} bytes; this is not a file this tool can read`,
    );
  }
  return undefined;
}
