import { createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { BodycamError, ErrorCode, isBodycamError } from '../lib/errors.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';
import { aeadOpen, fromB64, hkdf, type Stanza, X25519_INFO } from './header.ts';
import { rawPublicKey, x25519PrivateKey, x25519PublicKey } from './keys.ts';
import { FILE_KEY_SIZE, TAG_SIZE } from './sealer.ts';

/**
 * X25519 identities (`AGE-SECRET-KEY-1…`) for custodian tools: parsing an identity file and unwrapping the file key
 * from an `X25519` recipient stanza. Messages about a bad identity never show any of the secret.
 */

const IDENTITY_HRP = 'age-secret-key-';

function corrupt(message: string, cause?: unknown): BodycamError {
  return new BodycamError(ErrorCode.AGE_CORRUPT, message, {}, cause === undefined ? undefined : { cause });
}

/** An X25519 identity (`AGE-SECRET-KEY-1…`). The secret stays in a KeyObject and is never printed or serialised. */
export class AgeIdentity {
  /** The `age1…` recipient whose files this identity opens. */
  readonly recipient: string;
  readonly #privateKey: KeyObject;
  readonly #publicKey: Buffer;

  /** From the 32 raw secret bytes; most callers want `parseIdentities`. */
  constructor(secret: Buffer) {
    if (secret.length !== 32) {
      throw new BodycamError(ErrorCode.AGE_BAD_IDENTITY, `an X25519 identity has 32 bytes, not ${secret.length}`);
    }
    this.#privateKey = x25519PrivateKey(secret);
    this.#publicKey = rawPublicKey(createPublicKey(this.#privateKey));
    this.recipient = bech32Encode('age', this.#publicKey);
  }

  /**
   * The file key in `stanza`, or undefined when it is for another recipient or of another type. A malformed X25519
   * stanza, or one whose share gives an all-zero shared secret, is AGE_CORRUPT (age aborts on both too).
   */
  unwrap(stanza: Stanza): Buffer | undefined {
    if (stanza.type !== 'X25519') return undefined;
    const share = stanza.args.length === 1 ? fromB64(stanza.args[0] ?? '') : undefined;
    if (share?.length !== 32) {
      throw corrupt('an X25519 recipient stanza does not have exactly one argument, a 32-byte share in base64');
    }
    if (stanza.body.length !== FILE_KEY_SIZE + TAG_SIZE) {
      throw corrupt(`an X25519 recipient stanza has a ${stanza.body.length}-byte body instead of 32 bytes`);
    }
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: this.#privateKey, publicKey: x25519PublicKey(share) });
    } catch (e) {
      throw corrupt('an X25519 recipient stanza has a degenerate ephemeral share', e);
    }
    if (shared.every((b) => b === 0)) {
      throw corrupt('an X25519 recipient stanza gives an all-zero shared secret');
    }
    const wrapKey = hkdf(shared, Buffer.concat([share, this.#publicKey]), X25519_INFO);
    shared.fill(0);
    const fileKey = aeadOpen(wrapKey, Buffer.alloc(12), stanza.body);
    wrapKey.fill(0);
    return fileKey;
  }
}

function badIdentity(problem: string, line?: number): BodycamError {
  const where = line === undefined ? 'The identity file' : `Line ${line} of the identity file`;
  return new BodycamError(
    ErrorCode.AGE_BAD_IDENTITY,
    `${where} is not usable: ${problem}. An identity is a line "AGE-SECRET-KEY-1" followed by 58 letters and ` +
      'digits, as age-keygen and bodycam keygen write it.',
    line === undefined ? {} : { line },
  );
}

function parseIdentityLine(line: string, lineNumber: number): AgeIdentity {
  const upper = line.toUpperCase();
  const refuse = (problem: string) => badIdentity(problem, lineNumber);
  if (line.startsWith('age1')) throw refuse('it is a recipient (public key); opening a file needs the secret key');
  if (upper.startsWith('AGE-SECRET-KEY-PQ-')) throw refuse('post-quantum identities are not supported');
  if (upper.startsWith('AGE-PLUGIN-')) throw refuse('plugin identities are not supported');
  if (line.startsWith('-----BEGIN') || line.startsWith('ssh-')) throw refuse('SSH keys are not supported');
  if (!upper.startsWith('AGE-SECRET-KEY-1')) throw refuse('it does not start with "AGE-SECRET-KEY-1"');
  let decoded: { hrp: string; data: Buffer };
  try {
    decoded = bech32Decode(line);
  } catch (e) {
    // Name the position of a bad character, never the character: the line is a secret.
    const position = isBodycamError(e) ? e.details['position'] : undefined;
    const why = e instanceof Error ? e.message : String(e);
    throw refuse(typeof position === 'number' ? `character ${position} is not allowed in bech32` : why);
  }
  if (decoded.hrp !== IDENTITY_HRP || decoded.data.length !== 32) {
    decoded.data.fill(0);
    throw refuse('it is not an X25519 identity (it does not hold a 32-byte key)');
  }
  const identity = new AgeIdentity(decoded.data);
  decoded.data.fill(0);
  return identity;
}

/**
 * The identities in the text of an identity file as `age-keygen` or `bodycam keygen` writes it: `#` comments, blank
 * lines, one or more `AGE-SECRET-KEY-1…` lines; LF or CRLF. Anything else is AGE_BAD_IDENTITY, naming the line.
 */
export function parseIdentities(text: string): AgeIdentity[] {
  const identities: AgeIdentity[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line !== '' && !line.startsWith('#')) identities.push(parseIdentityLine(line, i + 1));
  });
  if (identities.length === 0) throw badIdentity('it holds no AGE-SECRET-KEY-1… line');
  return identities;
}
