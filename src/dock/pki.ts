/**
 * The dock site's PKI: an ECDSA P-256 CA, the broker's server certificate and client certificates (CN = the MQTT
 * user name: `dock` for the agent, the device id for a camera). openssl does the work through the process port;
 * its argument lists are built by pure functions. Every output goes to stdout and is written here, so a key file is
 * created with its final owner and mode before a byte of key is in it (never world-readable, not even briefly).
 *
 * Who may read what (`planKeyAccess`): Mosquitto started as root switches to its `user` BEFORE it reads the CA and
 * server certificates, the server key and the ACL. So, as root, those files (and the directories above them) are
 * given to the mosquitto account's group, 0640 / 0750, and the config names `user mosquitto`; everything else (the CA
 * key, the agent's key, the dock's signing key) stays root-only 0600. Not as root, Mosquitto cannot switch user and
 * reads as us: everything stays 0600 / 0700, and the config names `user <us>`, so a root that later starts it drops
 * to the files' owner rather than to an account that cannot read them. As root without a mosquitto account we
 * refuse: the choices left are a broker running as root or keys readable by `nobody`, and neither is safe.
 */
import { randomBytes } from 'node:crypto';
import { chmod, chown, type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import type { ProcessRunner } from '../hal/process/port.ts';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { fsyncParent, storageError, writeAll } from '../lib/fs.ts';

/** The CA lives 10 years; server and client certificates 5 (a camera's service life; re-enrol to renew). */
export const CA_DAYS = 3650;
export const LEAF_DAYS = 1825;

/** `-config /dev/null`: the system openssl.cnf adds nothing; a certificate holds exactly the extensions below. */
const NO_CONFIG = ['-config', '/dev/null'] as const;

/** A new P-256 private key (PKCS#8 PEM) on stdout. */
export function genKeyArgs(): string[] {
  return ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

/** A random positive 128-bit serial number, as openssl takes it. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return `0x${bytes.toString('hex')}`;
}

/** The self-signed CA certificate (PEM on stdout) for the key in `keyFile`. */
export function caCertArgs(o: { keyFile: string; serial: string }): string[] {
  // biome-ignore format: option and value pairs read better side by side
  return [
    'req', '-new', '-x509', ...NO_CONFIG, '-key', o.keyFile, '-sha256', '-days', String(CA_DAYS),
    '-subj', '/CN=bodycam dock CA', '-set_serial', o.serial,
    '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', 'subjectKeyIdentifier=hash',
  ];
}

/** Where a certificate is signed: the CA's certificate and key files. */
export interface Issuer {
  caCert: string;
  caKey: string;
}

/** A leaf certificate signed by the CA: CN, extended key usage and (for servers) the subject alternative names. */
export interface LeafSpec {
  cn: string;
  keyFile: string;
  serial: string;
  usage: 'serverAuth' | 'clientAuth';
  altNames?: string;
}

/** A certificate for `spec` signed by `issuer` (PEM on stdout; OpenSSL 3 `req -CA`). */
export function leafCertArgs(issuer: Issuer, spec: LeafSpec): string[] {
  // biome-ignore format: option and value pairs read better side by side
  const args = [
    'req', '-new', '-x509', ...NO_CONFIG, '-key', spec.keyFile, '-CA', issuer.caCert, '-CAkey', issuer.caKey,
    '-sha256', '-days', String(LEAF_DAYS), '-subj', `/CN=${spec.cn}`, '-set_serial', spec.serial,
    '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature',
    '-addext', `extendedKeyUsage=${spec.usage}`,
    '-addext', 'subjectKeyIdentifier=hash',
    '-addext', 'authorityKeyIdentifier=keyid:always',
  ];
  if (spec.altNames !== undefined) args.push('-addext', `subjectAltName=${spec.altNames}`);
  return args;
}

/** The server certificate's names: DNS:<host> (or IP:<host>), DNS:localhost, IP:127.0.0.1, without repeats. */
export function serverAltNames(host: string): string {
  const names = [isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`, 'DNS:localhost', 'IP:127.0.0.1'];
  return [...new Set(names)].join(',');
}

/** The facts `planKeyAccess` decides on. */
export interface AccountFacts {
  /** Our uid (0: root). */
  uid: number;
  /** Our user name. */
  user: string;
  /** The `mosquitto` account, when there is one. */
  mosquitto: { uid: number; gid: number } | undefined;
}

/** Who may read the files the broker reads. */
export interface KeyAccess {
  /** The `user` line of mosquitto.conf. */
  brokerUser: string;
  /** The group given to the broker's files and directories; undefined: keep ours. */
  gid: number | undefined;
  /** Mode of the broker's files (server key and certificates, CA certificate, config, ACL). */
  fileMode: number;
  /** Mode of the directories above them (DOCKDIR, pki/, broker/). */
  dirMode: number;
}

/** See the comment at the top of this file. */
export function planKeyAccess(f: AccountFacts): KeyAccess {
  if (f.uid !== 0) return { brokerUser: f.user, gid: undefined, fileMode: 0o600, dirMode: 0o700 };
  if (f.mosquitto === undefined) {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      'running as root, but there is no mosquitto account: Mosquitto started as root switches to it before reading its key, ' +
        'and the dock will neither run the broker as root nor make its key readable by others. ' +
        'Install Mosquitto (`apt-get install mosquitto` creates the account) or run as the user that will run the dock',
      { key: 'mosquitto' },
    );
  }
  return { brokerUser: 'mosquitto', gid: f.mosquitto.gid, fileMode: 0o640, dirMode: 0o750 };
}

/** `getent passwd mosquitto`. */
export function getentArgs(name: string): string[] {
  return ['passwd', name];
}

/** uid and gid from a passwd line (`name:x:uid:gid:…`), or undefined. */
export function parsePasswd(line: string): { uid: number; gid: number } | undefined {
  const [, , uid, gid] = line.trim().split(':');
  if (uid === undefined || gid === undefined || !/^\d+$/.test(uid) || !/^\d+$/.test(gid)) return undefined;
  return { uid: Number(uid), gid: Number(gid) };
}

/** A directory's owner and mode, as stat gives them. */
export interface DirStat {
  path: string;
  uid: number;
  gid: number;
  mode: number;
}

/** The first directory of `chain` that the account (uid, gid) cannot enter, or undefined when it can reach the end. */
export function blockedDir(chain: readonly DirStat[], account: { uid: number; gid: number }): DirStat | undefined {
  return chain.find((d) => {
    if (account.uid === 0) return false;
    if (d.uid === account.uid) return (d.mode & 0o100) === 0;
    if (d.gid === account.gid) return (d.mode & 0o010) === 0;
    return (d.mode & 0o001) === 0;
  });
}

/** How a file is created: its mode and (optionally) group, set before its content is written. */
export interface FileAccess {
  mode: number;
  gid?: number | undefined;
}

/**
 * Writes `data` to `file`, created with `access` before any byte is written. `exclusive` (keys): fail with EEXIST
 * rather than replace; otherwise a temporary file is renamed over the old one.
 */
export async function writeProtected(
  file: string,
  data: string,
  access: FileAccess,
  exclusive: boolean,
): Promise<void> {
  const target = exclusive ? file : `${file}.tmp`;
  let handle: FileHandle | undefined;
  try {
    if (!exclusive) await unlink(target).catch(() => undefined);
    handle = await open(target, 'wx', access.mode & 0o600);
    if (access.gid !== undefined) await handle.chown(-1, access.gid);
    await handle.chmod(access.mode);
    await writeAll(handle, Buffer.from(data), 0);
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (!exclusive) await rename(target, file);
    await fsyncParent(file);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    if (errnoCode(e) !== 'EEXIST') await unlink(target).catch(() => undefined);
    throw errnoCode(e) === 'EEXIST' ? e : storageError(e, file, 'writing');
  }
}

/** Gives an existing file or directory `access` (group, then mode). */
export async function setAccess(file: string, access: FileAccess): Promise<void> {
  try {
    if (access.gid !== undefined) await chown(file, -1, access.gid);
    await chmod(file, access.mode);
  } catch (e) {
    throw storageError(e, file, 'setting the mode of');
  }
}

/** Creates `dir` (parents as umask allows, `dir` itself 0700) if needed, then gives it `access`. */
export async function ensureDir(dir: string, access: FileAccess): Promise<void> {
  try {
    await mkdir(path.dirname(dir), { recursive: true });
    await mkdir(dir, { mode: 0o700 }).catch((e: unknown) => {
      if (errnoCode(e) !== 'EEXIST') throw e;
    });
  } catch (e) {
    throw storageError(e, dir, 'creating');
  }
  await setAccess(dir, access);
}

/** Runs openssl through the process port. */
export class Openssl {
  readonly #runner: ProcessRunner;
  readonly #command: string;

  constructor(runner: ProcessRunner, command = 'openssl') {
    this.#runner = runner;
    this.#command = command;
  }

  /** Runs openssl with `args` and returns its stdout; a failure names the command and quotes its stderr. */
  async run(args: readonly string[]): Promise<string> {
    const r = await this.#runner.run({ command: this.#command, args }, { timeoutMs: 30_000 });
    if (r.error !== undefined) {
      const hint = errnoCode(r.error) === 'ENOENT' ? ' (install it: apt-get install openssl)' : '';
      throw new BodycamError(ErrorCode.STORAGE_IO, `cannot run ${this.#command}: ${r.error.message}${hint}`);
    }
    if (r.code !== 0 || r.stdout === '') {
      throw new BodycamError(
        ErrorCode.STORAGE_IO,
        `${this.#command} ${args.slice(0, 3).join(' ')} failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${r.stderr.trim()}`,
      );
    }
    return r.stdout;
  }

  /** Makes a new P-256 key in `file` (which must not exist: keys are never overwritten). */
  async newKey(file: string, access: FileAccess): Promise<void> {
    await writeProtected(file, await this.run(genKeyArgs()), access, true);
  }

  /** The CA certificate PEM for the CA key in `keyFile`. */
  caCert(keyFile: string): Promise<string> {
    return this.run(caCertArgs({ keyFile, serial: randomSerial() }));
  }

  /** A leaf certificate PEM signed by `issuer`. */
  leafCert(issuer: Issuer, spec: Omit<LeafSpec, 'serial'>): Promise<string> {
    return this.run(leafCertArgs(issuer, { ...spec, serial: randomSerial() }));
  }
}

/** The mosquitto account (uid, gid), or undefined when there is none (or getent cannot tell). */
export async function mosquittoAccount(runner: ProcessRunner): Promise<{ uid: number; gid: number } | undefined> {
  const r = await runner.run({ command: 'getent', args: getentArgs('mosquitto') }, { timeoutMs: 10_000 });
  return r.code === 0 ? parsePasswd(r.stdout) : undefined;
}
