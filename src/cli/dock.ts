/**
 * `bodycam dock init` (a dock directory: PKI, broker config and ACL, the dock's signing key) and `bodycam dock
 * enroll` (a camera's client certificate, its signing key recorded at the dock, the `dock` section of its config).
 * Keys are never overwritten: `init --force` rewrites dock.json, the broker config and the certificates only.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { publicKeyFileFor } from '../camera/identity.ts';
import { loadConfig, validateConfig } from '../config/load.ts';
import { buildAcl, buildMosquittoConf, findMosquitto } from '../dock/broker-config.ts';
import { bindProblem, type DockConfig, deviceFiles, dockLayout, hostProblem, loadDockConfig } from '../dock/layout.ts';
import {
  blockedDir,
  type DirStat,
  ensureDir,
  type FileAccess,
  mosquittoAccount,
  Openssl,
  planKeyAccess,
  serverAltNames,
  setAccess,
  writeProtected,
} from '../dock/pki.ts';
import { issueCrl, readWithdrawals } from '../dock/revocation.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey, publicKeyPem } from '../evidence/keys.ts';
import { DOCK_KEY_FILE } from '../evidence/paths.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { exists } from '../lib/fs.ts';
import { DOCK_AGENT_CN } from '../protocol/acl.ts';
import { loadCredentials } from '../store/credentials.ts';
import { type CentralFlags, centralFromFlags, installCentral } from './dock-central.ts';
import { type StoreFlags, storeFromFlags } from './dock-store.ts';

export interface DockInitOptions extends StoreFlags, CentralFlags {
  dir: string;
  host: string;
  port: number;
  bind: string;
  external: boolean;
  force: boolean;
}

const PUBLIC: FileAccess = { mode: 0o644 };
const PRIVATE: FileAccess = { mode: 0o600 };

/** `bodycam dock init`: everything a dock directory holds (see src/dock/layout.ts), then where it all is. */
export async function dockInitCommand(opts: DockInitOptions): Promise<void> {
  for (const [flag, problem] of [
    ['--host', hostProblem(opts.host)],
    ['--bind', bindProblem(opts.bind)],
  ] as const) {
    if (problem !== undefined) throw new BodycamError(ErrorCode.USAGE, `${flag}: ${problem}`);
  }
  const store = storeFromFlags(opts, process.cwd());
  const central = centralFromFlags(opts);
  // Checked now, not at the first footage: the file exists, parses, and is not readable by every user.
  if (store.kind === 's3') await loadCredentials(store.credentialsFile);
  const l = dockLayout(opts.dir);
  if ((await exists(l.config)) && !opts.force) {
    throw new BodycamError(
      ErrorCode.USAGE,
      `${l.config} already exists; pass --force to rewrite it with the broker config and certificates (keys are kept)`,
    );
  }
  const runner = new NodeProcessRunner();
  const mosquittoPath = opts.external ? findOr('mosquitto') : findMosquitto();
  const uid = process.getuid?.() ?? -1;
  const account = uid === 0 ? await mosquittoAccount(runner) : undefined;
  const access = planKeyAccess({ uid, user: os.userInfo().username, mosquitto: account });
  const broker: FileAccess = { mode: access.fileMode, gid: access.gid };
  const brokerDir: FileAccess = { mode: access.dirMode, gid: access.gid };
  await mkdir(path.dirname(l.dir), { recursive: true });
  if (account !== undefined) await assertReachable(path.dirname(l.dir), account);

  for (const dir of [l.dir, l.pki.dir, l.broker.dir]) await ensureDir(dir, brokerDir);
  // The broker writes its persistence directory: group-writable for the mosquitto account when run as root.
  const bridge =
    central === undefined
      ? undefined
      : await installCentral(l, central, opts, {
          file: broker,
          stateDir: { mode: access.gid === undefined ? 0o700 : 0o770, gid: access.gid },
        });
  const confText = buildMosquittoConf({
    port: opts.port,
    bind: opts.bind,
    aclFile: l.broker.acl,
    user: access.brokerUser,
    cafile: l.pki.caCert,
    certfile: l.pki.serverCert,
    keyfile: l.pki.serverKey,
    crlfile: l.pki.crl,
    ...(bridge === undefined ? {} : { central: bridge }),
  });
  for (const dir of [l.identity.dir, l.devicesDir, l.evidenceDir]) await mkdir(dir, { recursive: true, mode: 0o700 });

  const ssl = new Openssl(runner);
  const fresh = new Set<string>();
  for (const [file, fileAccess] of [
    [l.pki.caKey, PRIVATE],
    [l.pki.serverKey, broker],
    [l.pki.agentKey, PRIVATE],
  ] as const) {
    if (await exists(file)) {
      await setAccess(file, fileAccess);
    } else {
      await ssl.newKey(file, fileAccess);
      fresh.add(file);
    }
  }
  const issuer = { caCert: l.pki.caCert, caKey: l.pki.caKey };
  if (fresh.has(l.pki.caKey) || !(await exists(l.pki.caCert))) {
    await writeProtected(l.pki.caCert, await ssl.caCert(l.pki.caKey), broker, false);
    fresh.add(l.pki.caCert);
  } else {
    await setAccess(l.pki.caCert, broker);
  }
  const serverCert = await ssl.leafCert(issuer, {
    cn: opts.host,
    keyFile: l.pki.serverKey,
    usage: 'serverAuth',
    altNames: serverAltNames(opts.host),
  });
  await writeProtected(l.pki.serverCert, serverCert, broker, false);
  if (fresh.has(l.pki.caCert) || fresh.has(l.pki.agentKey) || !(await exists(l.pki.agentCert))) {
    const agentCert = await ssl.leafCert(issuer, { cn: DOCK_AGENT_CN, keyFile: l.pki.agentKey, usage: 'clientAuth' });
    await writeProtected(l.pki.agentCert, agentCert, PUBLIC, false);
  }
  // The revocation list the broker checks, issued again from the withdrawals recorded here (none on a new dock).
  await issueCrl(ssl, l, await readWithdrawals(l), broker);
  const dockPub = await ensureDockIdentity(l.identity.key, l.identity.pub);
  await writeProtected(l.broker.conf, confText, broker, false);
  await writeProtected(l.broker.acl, buildAcl(), broker, false);
  const config = {
    version: 1,
    host: opts.host,
    port: opts.port,
    bind: opts.bind,
    broker: opts.external ? 'external' : 'managed',
    mosquittoPath,
    ...(await keptSettings(l.config)),
    store,
    ...(central === undefined ? {} : { central }),
  };
  await writeProtected(l.config, `${JSON.stringify(config, null, 2)}\n`, PUBLIC, false);
  loadDockConfig(l.dir); // what was written reads back

  const ca = new X509Certificate(await readFile(l.pki.caCert));
  const out = [
    `dock ${l.dir} (${config.broker} broker on ${opts.bind}:${opts.port}, cameras connect to ${opts.host}:${opts.port})`,
    `  CA certificate   ${l.pki.caCert}`,
    `                   SHA-256 ${ca.fingerprint256}, valid until ${ca.validTo}`,
    `  broker           ${l.broker.conf} (ACL ${l.broker.acl}, runs as user ${access.brokerUser})`,
    `  dock agent       ${l.pki.agentCert} (CN ${DOCK_AGENT_CN})`,
    `  dock signing key ${l.identity.pub} (key id ${keyId(loadPublicKey(dockPub))})`,
    `  revocation list  ${l.pki.crl} (withdrawn cameras: bodycam dock withdraw)`,
    `  cameras          ${l.devicesDir}; evidence ${evidenceWhere(store, l.evidenceDir)}`,
    pageLine(loadDockConfig(l.dir).page),
    ...(central === undefined
      ? []
      : [
          `  fleet status     bridged to ${central.address} as site ${central.site} (sites/${central.site}/fleet/v1/…)`,
        ]),
    `next: bodycam dock enroll --dir ${l.dir} --device-config CAMERA/config.json`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The operator's `limits` and `page` of an existing dock.json, which `init --force` keeps (absent when absent). */
async function keptSettings(file: string): Promise<{ limits?: unknown; page?: unknown }> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return {};
  try {
    const { limits, page } = JSON.parse(text) as { limits?: unknown; page?: unknown };
    return { ...(limits === undefined ? {} : { limits }), ...(page === undefined ? {} : { page }) };
  } catch {
    return {};
  }
}

function pageLine(page: DockConfig['page']): string {
  if (!page.enabled) return '  operator page    off (dock.json page.enabled)';
  const host = page.listen.includes(':') ? `[${page.listen}]` : page.listen;
  return `  operator page    http://${host}:${page.port}/ while \`bodycam dock run\` runs (dock.json page)`;
}

function evidenceWhere(store: ReturnType<typeof storeFromFlags>, dir: string): string {
  if (store.kind === 'filesystem') return dir;
  const prefix = store.prefix === '' ? '' : `${store.prefix}/`;
  return `s3://${store.bucket}/${prefix}${store.organisation}/ at ${store.endpoint} (credentials ${store.credentialsFile})`;
}

function findOr(fallback: string): string {
  try {
    return findMosquitto();
  } catch {
    return fallback;
  }
}

/** The mosquitto account must be able to walk from / down to the dock directory, or it cannot read its key. */
async function assertReachable(dir: string, account: { uid: number; gid: number }): Promise<void> {
  const chain: DirStat[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const st = await stat(d);
    chain.unshift({ path: d, uid: st.uid, gid: st.gid, mode: st.mode });
    if (path.dirname(d) === d) break;
  }
  const blocked = blockedDir(chain, account);
  if (blocked !== undefined) {
    throw new BodycamError(
      ErrorCode.USAGE,
      `Mosquitto reads its key as user mosquitto, which cannot enter ${blocked.path} (mode ${(blocked.mode & 0o777).toString(8)}); ` +
        `run \`chmod o+x ${blocked.path}\` or choose a --dir it can reach (e.g. under /var/lib)`,
    );
  }
}

/** The dock's Ed25519 signing key (kept if it exists) and its public key file; returns the public PEM. */
async function ensureDockIdentity(keyFile: string, pubFile: string): Promise<string> {
  let pub: string;
  if (await exists(keyFile)) {
    pub = publicKeyPem(loadPrivateKey(await readFile(keyFile, 'utf8')));
  } else {
    const keys = generateDeviceKeys();
    await writeProtected(keyFile, keys.privatePem, PRIVATE, true);
    pub = keys.publicPem;
  }
  await writeProtected(pubFile, pub, PUBLIC, false);
  return pub;
}

/** `bodycam dock enroll`: a camera's client certificate and dock files, its key recorded, its config's `dock`. */
export async function dockEnrollCommand(opts: { dir: string; deviceConfig: string }): Promise<void> {
  const dockConfig = loadDockConfig(opts.dir);
  const l = dockLayout(opts.dir);
  const configFile = path.resolve(opts.deviceConfig);
  const camera = loadConfig(configFile);
  const id = camera.device.id;
  if (id.toLowerCase() === DOCK_AGENT_CN) {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `${configFile}: device.id "${id}" is the dock agent's name at the broker; give the camera another device.id`,
      { key: 'device.id' },
    );
  }
  const devicePubFile = publicKeyFileFor(camera.evidence.keyFile);
  const devicePub = await readFile(devicePubFile, 'utf8').catch((e: unknown) => {
    throw new BodycamError(
      ErrorCode.CONFIG_INVALID,
      `the camera has no signing key to enrol (${devicePubFile}: ${errnoCode(e) ?? (e as Error).message}); ` +
        `create it with \`bodycam identity --config ${configFile}\``,
      { key: 'evidence.keyFile' },
    );
  });
  const cameraKeyId = keyId(loadPublicKey(devicePub));
  const dev = deviceFiles(l.dir, id);
  if (await exists(dev.pub)) {
    const enrolledKeyId = keyId(loadPublicKey(await readFile(dev.pub, 'utf8')));
    if (enrolledKeyId !== cameraKeyId) {
      throw new BodycamError(
        ErrorCode.CONFIG_INVALID,
        `device "${id}" is already enrolled at ${l.dir} with another signing key (${enrolledKeyId}; this camera: ` +
          `${cameraKeyId}); give this camera its own device.id, or retire the old one by removing ${dev.dir}`,
        { key: 'device.id' },
      );
    }
  }

  const doc = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  const section = { host: dockConfig.host, port: dockConfig.port, ca: 'dock/ca.crt', cert: 'dock/client.crt' };
  doc['dock'] = { ...section, key: 'dock/client.key', dockKey: `dock/${DOCK_KEY_FILE}` };
  const checked = validateConfig(doc, path.dirname(configFile));
  if (!checked.ok || checked.config.dock === undefined) {
    const lines = checked.ok ? '' : checked.problems.map((p) => `\n  ${p.key}: ${p.message}`).join('');
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `${configFile} would not be valid with a dock section:${lines}`);
  }
  const files = checked.config.dock;

  await mkdir(path.dirname(files.key), { recursive: true, mode: 0o700 });
  const ssl = new Openssl(new NodeProcessRunner());
  if (!(await exists(files.key))) await ssl.newKey(files.key, PRIVATE);
  const issuer = { caCert: l.pki.caCert, caKey: l.pki.caKey };
  const cert = await ssl.leafCert(issuer, { cn: id, keyFile: files.key, usage: 'clientAuth' });
  await writeProtected(files.cert, cert, PUBLIC, false);
  await writeProtected(files.ca, await readFile(l.pki.caCert, 'utf8'), PUBLIC, false);
  await writeProtected(files.dockKey, await readFile(l.identity.pub, 'utf8'), PUBLIC, false);

  await mkdir(dev.dir, { recursive: true, mode: 0o700 });
  await writeProtected(dev.pub, devicePub, PUBLIC, false);
  await writeProtected(dev.cert, cert, PUBLIC, false);
  const mode = (await stat(configFile)).mode & 0o777;
  await writeProtected(configFile, `${JSON.stringify(doc, null, 2)}\n`, { mode }, false);
  process.stdout.write(
    `enrolled ${id} (signing key ${cameraKeyId}) at ${l.dir}: client certificate ${files.cert}; ` +
      `${configFile} now offloads to ${dockConfig.host}:${dockConfig.port}\n`,
  );
}
