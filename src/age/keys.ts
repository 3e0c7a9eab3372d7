import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';

/**
 * age X25519 keys as text. The device only ever parses recipients (public keys of the evidence custodians); it
 * never holds an identity. Identities are generated here for provisioning tools and tests, in the exact format
 * `age-keygen` writes, so custodians keep using the standard `age` tool.
 */

const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';
const KEY_LENGTH = 32;
const EXAMPLE_RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

// DER prefixes that wrap a raw 32-byte X25519 key (OID 1.3.101.110) as PKCS#8 and SPKI.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export function x25519PrivateKey(raw: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

export function x25519PublicKey(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The raw 32 bytes of an X25519 key object (the tail of its DER encoding). */
export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(-KEY_LENGTH);
}

function rawPrivateKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(-KEY_LENGTH);
}

function badRecipient(text: string, problem: string, cause?: unknown): BodycamError {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return new BodycamError(
    ErrorCode.SEAL_BAD_RECIPIENT,
    `Recipient ${JSON.stringify(shown)} is not usable: ${problem}. ` +
      `A valid recipient is an age X25519 public key as printed by "age-keygen -y": "age1" followed by 58 ` +
      `lower-case letters and digits, e.g. ${EXAMPLE_RECIPIENT}.`,
    { recipient: shown },
    cause === undefined ? undefined : { cause },
  );
}

/** The 32-byte X25519 public key of an `age1…` recipient; anything else throws SEAL_BAD_RECIPIENT. */
export function parseRecipient(text: string): Buffer {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  if (lower.startsWith('age-secret-key-')) {
    throw badRecipient(
      '[redacted]',
      'this is a secret identity (AGE-SECRET-KEY-…), which must never be on a camera; give its public key instead',
    );
  }
  if (lower.startsWith('ssh-') || lower.startsWith('ecdsa-')) {
    throw badRecipient(trimmed, 'SSH keys are not supported as recipients; only age X25519 recipients are');
  }
  if (lower.startsWith('age1pq1')) {
    throw badRecipient(trimmed, 'post-quantum (age1pq…) recipients are not supported; only X25519 recipients are');
  }
  const sep = lower.lastIndexOf('1');
  // Plugin recipients are `age1<name>1…` with a short name; a long "name" is more likely a mistyped "1".
  if (lower.startsWith('age1') && sep > 4 && sep < 4 + 24) {
    const plugin = lower.slice(4, sep);
    throw badRecipient(trimmed, `plugin recipients (here "${plugin}") are not supported; only X25519 recipients are`);
  }
  if (!lower.startsWith('age1')) throw badRecipient(trimmed, 'it does not start with "age1"');
  let decoded: { hrp: string; data: Buffer };
  try {
    decoded = bech32Decode(trimmed);
  } catch (e) {
    throw badRecipient(trimmed, e instanceof Error ? e.message : String(e), e);
  }
  if (decoded.hrp !== RECIPIENT_HRP) throw badRecipient(trimmed, `its prefix is "${decoded.hrp}", not "age"`);
  if (decoded.data.length !== KEY_LENGTH) {
    throw badRecipient(trimmed, `it holds ${decoded.data.length} bytes instead of a 32-byte key`);
  }
  // A low-order point would make every shared secret zero (and age refuses it); catch that at start-up, not at
  // the first activation.
  try {
    diffieHellman({ privateKey: generateKeyPairSync('x25519').privateKey, publicKey: x25519PublicKey(decoded.data) });
  } catch (e) {
    throw badRecipient(trimmed, 'it is not a usable X25519 public key (a degenerate point)', e);
  }
  return decoded.data;
}

/** A fresh custodian key pair as age text: `AGE-SECRET-KEY-1…` and its `age1…` recipient. */
export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const secret = rawPrivateKey(privateKey);
  const identity = bech32Encode(IDENTITY_HRP, secret).toUpperCase();
  secret.fill(0);
  return { identity, recipient: bech32Encode(RECIPIENT_HRP, rawPublicKey(publicKey)) };
}

/** The `age1…` recipient belonging to an `AGE-SECRET-KEY-1…` identity (for provisioning checks and tests). */
export function recipientForIdentity(identity: string): string {
  const { hrp, data } = bech32Decode(identity.trim());
  if (hrp !== IDENTITY_HRP || data.length !== KEY_LENGTH) {
    throw new BodycamError(ErrorCode.SEAL_BAD_RECIPIENT, 'not an age X25519 identity (AGE-SECRET-KEY-1…)');
  }
  const publicKey = createPublicKey(x25519PrivateKey(data));
  data.fill(0);
  return bech32Encode(RECIPIENT_HRP, rawPublicKey(publicKey));
}

/** An identity file laid out as `age-keygen` writes it, so `age -d -i FILE` reads it. */
export function identityFileText(identity: string, recipient: string, createdAt: Date): string {
  const created = createdAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `# created: ${created}\n# public key: ${recipient}\n${identity}\n`;
}
