/**
 * Signed bundles (src/protocol/bundle.ts) as a camera opens them: only its provisioned key's signature, every file its
 * size and hash, no downgrade unless the signed manifest allows it, no path that could leave the release directory.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openBundle, packBundle, peekManifest } from '../../../src/protocol/bundle.ts';

const release = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const files = [
  { path: 'package.json', bytes: Buffer.from('{"version":"0.3.0"}') },
  { path: 'dist/cli/bodycam.js', bytes: Buffer.from('console.log("0.3.0")\n') },
];
const good = packBundle({ kind: 'release', version: '0.3.0' }, files, release.privateKey);
const refusal = (b: Buffer, running = '0.2.0', kind: 'release' | 'config' = 'release', key = release.publicKey) => {
  const r = openBundle(b, key, kind, running);
  return 'refused' in r ? r.refused : 'ok';
};

describe('a signed bundle', () => {
  it('opens with its files, byte for byte, under the provisioned key', () => {
    const r = openBundle(good, release.publicKey, 'release', '0.2.0');
    if (!('ok' in r)) throw new Error(r.refused);
    expect(r.ok.manifest).toMatchObject({ kind: 'release', version: '0.3.0', allowDowngrade: false });
    expect(r.ok.files.map((f) => [f.path, f.bytes.toString()])).toEqual(files.map((f) => [f.path, f.bytes.toString()]));
  });

  it('is refused signed by another key, with a file byte changed, cut short, or with bytes added', () => {
    expect(refusal(good, '0.2.0', 'release', other.publicKey)).toMatch(/bad signature/);
    const flipped = Buffer.from(good);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 3) ^ 0x01, flipped.length - 3);
    expect(refusal(flipped)).toMatch(/does not match its hash/);
    expect(refusal(good.subarray(0, good.length - 1))).toMatch(/cut short/);
    expect(refusal(Buffer.concat([good, Buffer.from('x')]))).toMatch(/bytes after the last file/);
    const forged = packBundle({ kind: 'release', version: '9.0.0' }, files, other.privateKey);
    expect(refusal(forged)).toMatch(/bad signature/);
  });

  it('is refused as a downgrade or the same version, unless the signer allowed the downgrade', () => {
    expect(refusal(good, '0.3.0')).toMatch(/is the one running/);
    expect(refusal(good, '0.4.1')).toMatch(/downgrade from 0.4.1 to 0.3.0 refused/);
    const allowed = packBundle({ kind: 'release', version: '0.3.0', allowDowngrade: true }, files, release.privateKey);
    expect(refusal(allowed, '0.4.1')).toBe('ok');
  });

  it('is refused as the wrong kind: a config where a release is expected', () => {
    const config = packBundle({ kind: 'config', version: '1.0.1' }, files, release.privateKey);
    expect(refusal(config)).toMatch(/a config bundle where a release was expected/);
  });

  it.each(['../etc/passwd', '/etc/passwd', 'dist/../../x', 'dist/./x', '.hidden', 'a//b'])(
    'never packs or opens a path like %s',
    (bad) => {
      expect(() =>
        packBundle({ kind: 'release', version: '0.3.0' }, [{ path: bad, bytes: Buffer.from('x') }], release.privateKey),
      ).toThrow(/unsafe or repeated path/);
    },
  );

  it('refuses what is not a bundle, and peeks at a manifest without trusting it', () => {
    expect(refusal(Buffer.from('no header line'))).toMatch(/no header line/);
    expect(refusal(Buffer.from('{"manifest": 1}\n'))).toMatch(/not a bundle/);
    expect(peekManifest(good)).toMatchObject({ kind: 'release', version: '0.3.0' });
  });
});
