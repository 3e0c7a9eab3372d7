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
import { deviceKeyFile } from '../evidence/paths.ts';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { makePrivate, privateDirectory, writeFileNoFollow } from '../lib/fs.ts';

export interface DeviceIdentity {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  publicPem: string;
}

export function publicKeyFileFor(keyFile: string): string {
  return deviceKeyFile(path.dirname(keyFile));
}

/**
 * Writes a new key pair; refuses to replace one (a new key would start a new chain of trust). `trustedUids` may own
 * the key's directory besides the running user (root provisioning for the service user).
 */
export async function createDeviceIdentity(
  keyFile: string,
  trustedUids: readonly number[] = [],
): Promise<{ keyId: string; publicFile: string }> {
  const { privatePem, publicPem } = generateDeviceKeys();
  await privateDirectory(path.dirname(keyFile), 0o700, trustedUids);
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
export async function ensureDeviceIdentity(
  keyFile: string,
  trustedUids: readonly number[] = [],
): Promise<{ keyId: string; publicFile: string } | null> {
  const found = await lstat(keyFile).catch(() => null);
  if (found === null) return await createDeviceIdentity(keyFile, trustedUids);
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

/**
 * Loads the signing key, for tools that need it whole (doctor, dock enrolment): a missing, unreadable or too open
 * key throws CONFIG_INVALID naming the file and the fix that fits what is wrong.
 */
export async function loadDeviceIdentity(keyFile: string, configFile = 'the config file'): Promise<DeviceIdentity> {
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
    throw keyProblem(keyFile, e, configFile);
  }
  return identityFromPem(pem, keyFile);
}

/** Why a key could not be read, with the fix for that cause (a missing key is made; an unreadable one is not). */
function keyProblem(keyFile: string, e: unknown, configFile: string): BodycamError {
  const code = errnoCode(e);
  const details = { key: 'evidence.keyFile', file: keyFile };
  if (code === 'ENOENT') {
    return new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `the device key ${keyFile} is missing; create it with \`bodycam identity --config ${configFile}\` (evidence.keyFile)`,
      details,
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `the device key ${keyFile} cannot be read by this user (uid ${process.getuid?.() ?? '?'}); it belongs to the ` +
        `camera's service user: run this as that user, or give it back with \`bodycam upgrade --config ${configFile}\` as root`,
      details,
    );
  }
  return new BodycamError(
    ErrorCode.CONFIG_INVALID,
    `the device key ${keyFile} cannot be read (${code ?? (e as Error).message})`,
    details,
  );
}

function identityFromPem(pem: string, keyFile: string): DeviceIdentity {
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

/** What the daemon found at start: the key to sign with (or none), whether it made it, and what is wrong. */
export interface IdentityAtStart {
  identity: DeviceIdentity | null;
  /** True when the camera made the key itself at this start (none was there): its dock has yet to confirm it. */
  created: boolean;
  /** A problem to show and log (the key unusable, or usable but exposed); null when all is well. */
  fault: { message: string; fix: string } | null;
}

/**
 * The daemon's signing key, never a refusal to start: a missing key is made on the spot (a camera upgraded from
 * 0.1.0, which had none); a key others can read is tightened when the daemon owns it, else used and shown as a fault;
 * a key that cannot be read or used leaves the camera recording without signing (the manifests are signed at the
 * next start that has a key) and is shown as a fault with its fix.
 */
export async function identityAtStart(keyFile: string, configFile = 'the config file'): Promise<IdentityAtStart> {
  const upgrade = `\`bodycam upgrade --config ${configFile}\` as root`;
  const found = await lstat(keyFile).catch((e: unknown) => e as Error);
  let created = false;
  if (found instanceof Error && errnoCode(found) === 'ENOENT') {
    try {
      await createDeviceIdentity(keyFile);
      created = true;
    } catch (e) {
      return {
        identity: null,
        created: false,
        fault: {
          message: `no device key: ${keyFile} is missing and could not be made (${errnoCode(e) ?? (e as Error).message}); footage is recorded and sealed, its manifests are signed once a key exists`,
          fix: `${upgrade} (gives the camera's user its identity directory), or \`bodycam identity --config ${configFile}\``,
        },
      };
    }
  } else if (!(found instanceof Error) && !found.isFile()) {
    return {
      identity: null,
      created: false,
      fault: {
        message: `no device key: ${keyFile} is not a regular file; footage is recorded and sealed, its manifests are signed once a key exists`,
        fix: `restore the key at ${keyFile} from its backup (a new key cannot continue this camera's signed chain)`,
      },
    };
  }
  await makePrivate(keyFile).catch(() => undefined);
  let pem: string;
  let mode: number;
  try {
    mode = (await stat(keyFile)).mode;
    pem = await readFile(keyFile, 'utf8');
  } catch (e) {
    const problem = keyProblem(keyFile, e, configFile);
    return {
      identity: null,
      created: false,
      fault: { message: `${problem.message.split('; ')[0]}; manifests are signed once it can be read`, fix: upgrade },
    };
  }
  try {
    const identity = identityFromPem(pem, keyFile);
    const exposed = (mode & 0o077) !== 0;
    return {
      identity,
      created,
      fault: exposed
        ? {
            message: `the device key ${keyFile} is readable by others (mode ${(mode & 0o777).toString(8)}): anyone who read it can sign as this camera`,
            fix: `chmod 600 ${keyFile} (${upgrade} does)`,
          }
        : null,
    };
  } catch (e) {
    return {
      identity: null,
      created: false,
      fault: {
        message: `${(e as Error).message}; footage is recorded and sealed, its manifests are signed once a key exists`,
        fix: `restore the key at ${keyFile} from its backup (a new key cannot continue this camera's signed chain)`,
      },
    };
  }
}

/**
 * Puts the public key in the storage directory (`device.pub`), where the dock and verifiers look for it. Storage
 * holding another device's key is refused: its evidence is chained and signed under that identity.
 */
export async function publishDeviceKey(storageDir: string, identity: DeviceIdentity): Promise<void> {
  const file = deviceKeyFile(storageDir);
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
