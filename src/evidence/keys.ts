/**
 * The device identity: an Ed25519 key pair made with `node:crypto`. The private key stays on the camera and signs
 * manifests and audit entries; the public key (`device.pub`, SPKI PEM) is all a verifier needs. Error messages about
 * keys never show the key text: a private key pasted into the wrong place must not end up in a log.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { sha256Hex } from './canonical.ts';

const RAW_KEY_LENGTH = 32;
const KEY_ID_LENGTH = 32;

function badKey(problem: string, cause?: unknown): BodycamError {
  return new BodycamError(ErrorCode.EVIDENCE_KEY, problem, {}, cause === undefined ? undefined : { cause });
}

/** A fresh device identity as PEM text: the private key as PKCS#8, the public key as SPKI. */
export function generateDeviceKeys(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/**
 * An Ed25519 public key from SPKI PEM (`-----BEGIN PUBLIC KEY-----`, as `device.pub` holds it). A private key, a key
 * of another type or anything unparsable is EVIDENCE_KEY; the message never repeats the text.
 */
export function loadPublicKey(pem: string): KeyObject {
  if (pem.includes('PRIVATE KEY-----')) {
    throw badKey('a private key was given where the device public key was expected; give its public key (SPKI PEM)');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw badKey('the device public key is not a readable PEM public key (expected "-----BEGIN PUBLIC KEY-----")', e);
  }
  assertEd25519(key, 'public');
  return key;
}

/**
 * An Ed25519 private key from PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Anything else is EVIDENCE_KEY; the message
 * never repeats the text, which may be secret.
 */
export function loadPrivateKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // The cause is left out on purpose: OpenSSL errors can quote parts of the input.
    throw badKey('the device private key is not a readable unencrypted PKCS#8 PEM key ("-----BEGIN PRIVATE KEY-----")');
  }
  assertEd25519(key, 'private');
  return key;
}

function assertEd25519(key: KeyObject, role: 'public' | 'private'): void {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw badKey(`the device ${role} key is a ${key.asymmetricKeyType ?? 'unknown'} key; device keys are Ed25519`);
  }
}

/** The raw 32 bytes of an Ed25519 public key (or of the public half of a private key). */
export function rawPublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  assertEd25519(pub, 'public');
  const der = pub.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - RAW_KEY_LENGTH);
}

/**
 * The key id written into every envelope: the first 32 hex characters (128 bits) of the SHA-256 of the raw 32-byte
 * Ed25519 public key. Accepts a public key or a private key (its public half).
 */
export function keyId(key: KeyObject): string {
  return sha256Hex(rawPublicKey(key)).slice(0, KEY_ID_LENGTH);
}

/** The SPKI PEM text of a public key (or of a private key's public half), as `device.pub` holds it. */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }).toString();
}
