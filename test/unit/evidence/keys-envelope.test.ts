import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/evidence/canonical.ts';
import { envelopeHash, sign, verifySignature } from '../../../src/evidence/envelope.ts';
import {
  generateDeviceKeys,
  keyId,
  loadPrivateKey,
  loadPublicKey,
  publicKeyPem,
  rawPublicKey,
} from '../../../src/evidence/keys.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';

function keyError(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(isBodycamError(e, 'EVIDENCE_KEY')).toBe(true);
    return e as Error;
  }
  throw new Error('accepted');
}

const device = generateDeviceKeys();
const privateKey = loadPrivateKey(device.privatePem);
const publicKey = loadPublicKey(device.publicPem);

describe('device keys', () => {
  it('generates Ed25519 PKCS#8 and SPKI PEM that load back as a matching pair', () => {
    expect(device.privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(device.publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(publicKey.asymmetricKeyType).toBe('ed25519');
    expect(publicKeyPem(privateKey)).toBe(device.publicPem);
    expect(generateDeviceKeys().publicPem).not.toBe(device.publicPem);
  });

  it('derives the key id from the raw 32-byte public key: first 32 hex of its SHA-256', () => {
    const raw = rawPublicKey(publicKey);
    expect(raw.length).toBe(32);
    const jwkX = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    expect(raw.equals(jwkX)).toBe(true);
    const expected = createHash('sha256').update(jwkX).digest('hex').slice(0, 32);
    expect(keyId(publicKey)).toBe(expected);
    expect(keyId(privateKey)).toBe(expected);
    expect(keyId(loadPublicKey(generateDeviceKeys().publicPem))).not.toBe(expected);
  });

  it('refuses a private key as the public key without echoing it', () => {
    const e = keyError(() => loadPublicKey(device.privatePem));
    expect(e.message).toMatch(/private key was given/);
    expect(e.message).not.toContain(device.privatePem.split('\n')[1]);
  });

  it('refuses garbage and damaged private keys without echoing them', () => {
    const secretLine = device.privatePem.split('\n')[1] ?? '';
    const damaged = device.privatePem.replace(secretLine, `${secretLine.slice(0, 10)}!!${secretLine.slice(12)}`);
    for (const text of ['', 'hello', damaged]) {
      const e = keyError(() => loadPrivateKey(text));
      expect(e.message).toMatch(/PKCS#8/);
      expect(e.message).not.toContain(secretLine.slice(12, 30));
      expect((e as Error & { cause?: unknown }).cause).toBeUndefined();
    }
    expect(keyError(() => loadPublicKey('nonsense')).message).toMatch(/not a readable PEM public key/);
  });

  it('refuses keys of another type', () => {
    const x = generateKeyPairSync('x25519');
    const pem = x.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(keyError(() => loadPrivateKey(pem)).message).toMatch(/x25519 key; device keys are Ed25519/);
    const pub = x.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(keyError(() => loadPublicKey(pub)).message).toMatch(/x25519/);
    expect(() => keyId(createPrivateKey(pem))).toThrow(/Ed25519/);
  });
});

describe('envelopes', () => {
  const payload = { b: 2, a: { list: [1, 'two'] } };
  const env = sign(payload, privateKey, keyId(publicKey));

  it('signs the canonical JSON of the payload, deterministically', () => {
    expect(env.keyId).toBe(keyId(publicKey));
    expect(env.signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(verifySignature(env, publicKey)).toBe(true);
    // Same payload with other key order: same signature (Ed25519 is deterministic, the input canonical).
    expect(sign({ a: { list: [1, 'two'] }, b: 2 }, privateKey, env.keyId).signature).toBe(env.signature);
  });

  it('fails on any change to the payload, or with another key', () => {
    expect(verifySignature({ ...env, payload: { ...payload, b: 3 } }, publicKey)).toBe(false);
    expect(verifySignature({ ...env, payload: { ...payload, extra: null } }, publicKey)).toBe(false);
    expect(verifySignature(env, loadPublicKey(generateDeviceKeys().publicPem))).toBe(false);
  });

  it('refuses another spelling of the same signature bytes, which would change the chain hash', () => {
    const bytes = Buffer.from(env.signature, 'base64');
    // 64 bytes fill 86 base64 characters with 4 bits to spare; flipping a spare bit keeps the bytes, not the text.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = alphabet.indexOf(env.signature.charAt(85));
    const twin = `${env.signature.slice(0, 85)}${alphabet.charAt(last ^ 1)}==`;
    expect(Buffer.from(twin, 'base64').equals(bytes)).toBe(true);
    expect(twin).not.toBe(env.signature);
    expect(verifySignature({ ...env, signature: twin }, publicKey)).toBe(false);
    expect(verifySignature({ ...env, signature: env.signature.replace(/==$/, '') }, publicKey)).toBe(false);
    expect(verifySignature({ ...env, signature: 'not base64 at all' }, publicKey)).toBe(false);
  });

  it('hashes the whole envelope as canonical JSON, whatever its layout on disk', () => {
    const pretty = JSON.parse(JSON.stringify(env, null, 2));
    expect(envelopeHash(pretty)).toBe(envelopeHash(env));
    expect(envelopeHash(env)).toMatch(/^[0-9a-f]{64}$/);
    expect(envelopeHash({ ...env, keyId: '0'.repeat(32) })).not.toBe(envelopeHash(env));
    expect(canonicalJson(env)).toContain('"keyId"');
  });
});
