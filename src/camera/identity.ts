/**
 * The device's identity: an Ed25519 key pair made at `init`/provisioning. The private key signs manifests and the
 * audit log and is readable by the daemon only (mode 0600); it opens nothing (footage is sealed to the custodians'
 * age recipients). The public key is exported beside it (`device.pub`) and into the storage directory, where the
 * dock and custodians find it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateDeviceKeys, keyId, loadPrivateKey, publicKeyPem } from '../evidence/keys.ts';
import { DEVICE_KEY_FILE } from '../evidence/verify.ts';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { makePrivate, privateDirectory, writeFileNoFollow } from '../lib/fs.ts';

export interface DeviceIdentity {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  publicPem: string;
}

export function publicKeyFileFor(keyFile: string): string {
  return path.join(path.dirname(keyFile), 'device.pub');
}

/** Writes a new key pair; refuses to replace one (a new key would start a new chain of trust). */
export async function createDeviceIdentity(keyFile: string): Promise<{ keyId: string; publicFile: string }> {
  const { privatePem, publicPem } = generateDeviceKeys();
  await privateDirectory(path.dirname(keyFile), 0o700);
  try {
    await writeFile(keyFile, privatePem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') {
      throw new BodycamError(
        ErrorCode.USAGE,
        `${keyFile} already exists; a device keeps its identity (its manifests are verified against it)`,
      );
    }
    throw e;
  }
  const publicFile = publicKeyFileFor(keyFile);
  await writeFileNoFollow(publicFile, publicPem, 0o644);
  return { keyId: keyId(createPublicKey(publicPem)), publicFile };
}

/**
 * The device's signing key for provisioning: kept when it exists as a regular file (its mode tightened to 0600), else
 * created. Never used or written through a symbolic link. Returns the new key's id, or null when one was kept.
 */
export async function ensureDeviceIdentity(keyFile: string): Promise<{ keyId: string; publicFile: string } | null> {
  const found = await lstat(keyFile).catch(() => null);
  if (found === null) return await createDeviceIdentity(keyFile);
  if (!found.isFile()) {
    throw new BodycamError(
      ErrorCode.USAGE,
      `${keyFile} is not a regular file (a symbolic link?): refusing to use it as the device key`,
      { file: keyFile },
    );
  }
  await makePrivate(keyFile);
  return null;
}

/** Loads the signing key; a missing, unreadable or too open key stops the start, naming the file and the fix. */
export async function loadDeviceIdentity(keyFile: string, configFile = 'the config file'): Promise<DeviceIdentity> {
  const fix = `create it with \`bodycam identity --config ${configFile}\` (evidence.keyFile)`;
  let pem: string;
  try {
    const { mode } = await stat(keyFile);
    if ((mode & 0o077) !== 0) {
      throw new BodycamError(
        ErrorCode.CONFIG_INVALID,
        `the device key ${keyFile} is readable by others (mode ${(mode & 0o777).toString(8)}); run \`chmod 600 ${keyFile}\``,
        { key: 'evidence.keyFile', file: keyFile },
      );
    }
    pem = await readFile(keyFile, 'utf8');
  } catch (e) {
    if (e instanceof BodycamError) throw e;
    const why = errnoCode(e) === 'ENOENT' ? 'is missing' : `cannot be read (${errnoCode(e) ?? (e as Error).message})`;
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `the device key ${keyFile} ${why}; ${fix}`, {
      key: 'evidence.keyFile',
      file: keyFile,
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = loadPrivateKey(pem);
  } catch (e) {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `the device key ${keyFile} is not usable: ${(e as Error).message}`,
      {
        key: 'evidence.keyFile',
        file: keyFile,
      },
    );
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyId(publicKey), publicPem: publicKeyPem(publicKey) };
}

/**
 * Puts the public key in the storage directory (`device.pub`), where the dock and verifiers look for it. Storage
 * holding another device's key is refused: its evidence is chained and signed under that identity.
 */
export async function publishDeviceKey(storageDir: string, identity: DeviceIdentity): Promise<void> {
  const file = path.join(storageDir, DEVICE_KEY_FILE);
  await mkdir(storageDir, { recursive: true });
  let existing: string | undefined;
  try {
    existing = await readFile(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
  if (existing === undefined) {
    await writeFile(file, identity.publicPem, { mode: 0o644 });
    return;
  }
  let other: string;
  try {
    other = keyId(createPublicKey(existing));
  } catch {
    other = 'unreadable';
  }
  if (other !== identity.keyId) {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `${storageDir} holds evidence of another device key (${file}: ${other}, this device: ${identity.keyId}); ` +
        'give this camera its own storage directory (storage.dir) or its own key back (evidence.keyFile)',
      { key: 'storage.dir', file },
    );
  }
}
