/** Trust checks: the wall clock that stamps evidence, the device's keys, and the dock it offloads to. */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { connect } from 'node:tls';
import { clockState, detectClockSource } from '../../camera/health/clock-check.ts';
import { type DeviceIdentity, loadDeviceIdentity, publicKeyFileFor } from '../../camera/identity.ts';
import { keyId, loadPublicKey } from '../../evidence/keys.ts';
import { DEVICE_KEY_FILE } from '../../evidence/paths.ts';
import { R, reachProblem, whoRuns } from './access.ts';
import { type Check, type CheckResult, fail, pass, warn } from './check.ts';

export const clockCheck: Check = async (ctx) => {
  const now = ctx.now();
  const state = clockState(now);
  const source = detectClockSource(state, (p) => existsSync(path.join(ctx.root, p)));
  const at = new Date(now).toISOString();
  if (source === 'unset') {
    return fail(
      'clock',
      `the clock is unset (${at})`,
      'connect a network for NTP or fit an RTC; footage would carry wrong times',
    );
  }
  if (source === 'system') {
    return warn(
      'clock',
      `${at}, but neither NTP nor an RTC keeps it`,
      'enable systemd-timesyncd (timedatectl set-ntp true) or fit an RTC module',
    );
  }
  return pass('clock', `${at} from ${source === 'ntp' ? 'NTP (systemd-timesyncd)' : 'the RTC'}`);
};

export const keysCheck: Check = async (ctx) => {
  const results: CheckResult[] = [];
  results.push(await signingKey(ctx));
  const dock = ctx.config.dock;
  if (dock !== undefined) {
    const mode = await stat(dock.key).then(
      (s) => s.mode & 0o777,
      () => undefined,
    );
    if (mode === undefined)
      results.push(fail('keys', `dock client key ${dock.key} is missing`, 'enrol again: bodycam dock enroll'));
    else if ((mode & 0o077) !== 0) {
      results.push(fail('keys', `dock client key ${dock.key} is mode ${mode.toString(8)}`, `chmod 600 ${dock.key}`));
    } else {
      const problem = await reachProblem(ctx, dock.key, R);
      if (problem !== null) results.push(fail('keys', problem, `bodycam upgrade --config ${ctx.configFile}`));
    }
  }
  const secret = await findAgeIdentity(path.dirname(ctx.configFile), 3);
  if (secret !== undefined) {
    results.push(
      fail(
        'keys',
        `${secret} holds an age identity: the camera could read its own footage`,
        'remove it; custodian identities stay off cameras',
      ),
    );
  }
  return results;
};

/**
 * The device's signing key: there (or to be made by the camera at its next start), private, matching its device.pub,
 * and readable by the camera's user (as root: by the service user, not by root).
 */
async function signingKey(ctx: Parameters<Check>[0]): Promise<CheckResult> {
  const keyFile = ctx.config.evidence.keyFile;
  if (!existsSync(keyFile)) {
    return warn(
      'keys',
      `no device key yet (${keyFile}): the camera makes one at its next start and announces it to its dock`,
      `start the camera (systemctl restart bodycam), or make it now: bodycam identity --config ${ctx.configFile}`,
    );
  }
  let identity: DeviceIdentity;
  try {
    identity = await loadDeviceIdentity(keyFile, ctx.configFile);
  } catch (e) {
    const [detail, fix] = (e as Error).message.split('; ');
    return fail('keys', detail ?? 'unusable', fix ?? `bodycam upgrade --config ${ctx.configFile}`);
  }
  const problem = await reachProblem(ctx, keyFile, R);
  if (problem !== null) {
    return fail(
      'keys',
      `${problem}: the camera cannot sign its evidence`,
      `bodycam upgrade --config ${ctx.configFile} (as root: gives the key to ${ctx.account?.name ?? 'the camera user'})`,
    );
  }
  const pubFile = publicKeyFileFor(keyFile);
  try {
    const published = loadPublicKey(await readFile(pubFile, 'utf8'));
    if (keyId(published) !== identity.keyId) {
      return fail('keys', `${pubFile} is not the public half of ${keyFile}`, `restore ${DEVICE_KEY_FILE} from the key`);
    }
  } catch (e) {
    return fail(
      'keys',
      `${pubFile} cannot be read (${(e as Error).message})`,
      `restore ${DEVICE_KEY_FILE} from the key`,
    );
  }
  return pass('keys', `signing key ${identity.keyId} (mode 600, read by ${whoRuns(ctx)})`);
}

/** A file under `dir` (a few levels, small files only) holding an age secret key, if any. */
async function findAgeIdentity(dir: string, depth: number): Promise<string | undefined> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const file = path.join(dir, e.name);
    if (e.isDirectory() && depth > 0) {
      const found = await findAgeIdentity(file, depth - 1);
      if (found !== undefined) return found;
    } else if (e.isFile()) {
      const size = await stat(file).then(
        (s) => s.size,
        () => 0,
      );
      if (
        size > 0 &&
        size < 64 * 1024 &&
        (await readFile(file, 'latin1').catch(() => '')).includes('AGE-SECRET-KEY-')
      ) {
        return file;
      }
    }
  }
  return undefined;
}

const DOCK_TIMEOUT_MS = 5000;

/** The dock: enrolled, and when in reach, its broker accepts this camera's certificate over TLS. */
export const dockCheck: Check = async (ctx) => {
  const dock = ctx.config.dock;
  if (dock === undefined) {
    return warn(
      'dock',
      'not enrolled at a dock: footage stays on the camera',
      'at the dock: bodycam dock enroll --device-config CONFIG',
    );
  }
  let files: { ca: Buffer; cert: Buffer; key: Buffer };
  try {
    files = { ca: await readFile(dock.ca), cert: await readFile(dock.cert), key: await readFile(dock.key) };
  } catch (e) {
    return fail('dock', `dock files unreadable (${(e as Error).message})`, 'enrol again: bodycam dock enroll');
  }
  const where = `${dock.host}:${dock.port}`;
  const outcome = await new Promise<'ok' | { error: Error }>((resolve) => {
    const socket = connect({
      host: dock.host,
      port: dock.port,
      servername: dock.host,
      ...files,
      timeout: DOCK_TIMEOUT_MS,
    });
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve('ok');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ error: new Error('timed out') });
    });
    socket.once('error', (error) => resolve({ error }));
  });
  if (outcome === 'ok') return pass('dock', `${where} accepts this camera's certificate`);
  const code = (outcome.error as NodeJS.ErrnoException).code ?? outcome.error.message;
  if (
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) ||
    code === 'timed out'
  ) {
    return warn(
      'dock',
      `${where} is out of reach (${code})`,
      'normal away from the dock; docked, check the network and `bodycam dock status`',
    );
  }
  return fail('dock', `${where} refused TLS (${code})`, 'the certificates do not match this dock: enrol again');
};
