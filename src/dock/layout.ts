/**
 * The dock directory (DOCKDIR): where every file of a dock station lives, as functions of the directory, and its
 * `dock.json`. Nothing else in the dock builds these paths, so the layout is written down once; the entries `verify`
 * recognises a dock directory by, and the evidence tree, are named in src/evidence/paths.ts:
 *
 * ```
 * DOCKDIR/
 *   dock.json                 { version: 1, host, port, bind, broker, mosquittoPath, store, limits?, central?, page? }
 *   pki/ca.key                the dock site's CA key (0600; only `bodycam dock` reads it)
 *   pki/ca.crt                the CA certificate (cameras and the agent trust it)
 *   pki/server.key, .crt      the broker's TLS key and certificate (CN = host)
 *   pki/dock-agent.key, .crt  the dock agent's client key (0600) and certificate (CN = dock)
 *   pki/crl.pem               the revocation list the broker checks (withdrawn cameras' certificates)
 *   pki/withdrawals.jsonl     the withdrawals it is issued from (device, serial, when, why)
 *   pki/central-ca.crt        with a `central` section: the central broker's CA,
 *   pki/central-bridge.crt, .key  and this site's bridge certificate (CN bridge-<site>) and key
 *   broker/mosquitto.conf     the managed broker's configuration
 *   broker/acl                its static pattern ACL
 *   broker/state/             with a `central` section: the broker's persistence (status waiting for the centre)
 *   identity/dock.key, .pub   the dock's Ed25519 signing key (0600; signs acknowledgements) and its public key
 *   devices/<id>/device.pub   an enrolled camera's signing key
 *   devices/<id>/client.crt   the client certificate issued to it
 *   withdrawn/<id>-<time>/    a withdrawn camera's enrolment record, kept
 *   evidence/                 the evidence store (store.kind "filesystem"; "s3" keeps it in a bucket)
 *   incoming/<id>/*.part      transfers under way (expired after limits.partialMaxAgeHours untouched)
 *   staging/<uuid>.seg        segments receipted while the object store did not answer, waiting for it (store s3)
 *   dock.sqlite               the dock agent's database
 *   releases/<kind>-<version>.bundle  signed bundles held for cameras (release or config; src/dock/updates.ts)
 *   releases/wanted.json      which release each camera should run, which config each should take
 *   releases/reports.json     what each camera last said of its updates (running release, outcome, reason)
 * ```
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { describeIssues, parseConfigJson } from '../config/load.ts';
import { type Infer, s } from '../config/schema-kit.ts';
import {
  DOCK_CONFIG_FILE,
  DOCK_DEVICES_DIR,
  DOCK_EVIDENCE_DIR,
  DOCK_INCOMING_DIR,
  deviceKeyFile,
  dockKeyFile,
  IDENTITY_DIR,
} from '../evidence/paths.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { bucketProblem, endpointProblem, prefixProblem } from '../store/url.ts';
import { limitsSchema } from './limits.ts';

/** The only dock.json version this code reads and writes. */
export const DOCK_CONFIG_VERSION = 1;

/** Every path of a dock directory. */
export interface DockLayout {
  dir: string;
  config: string;
  pki: {
    dir: string;
    caKey: string;
    caCert: string;
    serverKey: string;
    serverCert: string;
    agentKey: string;
    agentCert: string;
    /** The certificate revocation list the broker checks (withdrawn cameras). */
    crl: string;
    /** The withdrawals the CRL is issued from: one JSON line each (device, serial, when, why). */
    withdrawals: string;
    /** The central broker's CA, and the site bridge's certificate and key (a `central` section). */
    centralCa: string;
    centralCert: string;
    centralKey: string;
  };
  /** `state`: the broker's persistence directory (with a `central` section), ending in `/` as Mosquitto wants it. */
  broker: { dir: string; conf: string; acl: string; state: string };
  identity: { dir: string; key: string; pub: string };
  devicesDir: string;
  /** Withdrawn cameras' enrolment records, kept: `withdrawn/<id>-<time>/`. */
  withdrawnDir: string;
  evidenceDir: string;
  incomingDir: string;
  /** Segments waiting for the object store (their backlog rows are in the database). */
  stagingDir: string;
  database: string;
  /** Signed bundles held for cameras, what each should take, and what each said of it. */
  releases: { dir: string; wanted: string; reports: string };
}

/** The layout of the dock directory `dir` (resolved to an absolute path). */
export function dockLayout(dir: string): DockLayout {
  const root = path.resolve(dir);
  const pki = path.join(root, 'pki');
  const broker = path.join(root, 'broker');
  const identity = path.join(root, IDENTITY_DIR);
  return {
    dir: root,
    config: path.join(root, DOCK_CONFIG_FILE),
    pki: {
      dir: pki,
      caKey: path.join(pki, 'ca.key'),
      caCert: path.join(pki, 'ca.crt'),
      serverKey: path.join(pki, 'server.key'),
      serverCert: path.join(pki, 'server.crt'),
      agentKey: path.join(pki, 'dock-agent.key'),
      agentCert: path.join(pki, 'dock-agent.crt'),
      crl: path.join(pki, 'crl.pem'),
      withdrawals: path.join(pki, 'withdrawals.jsonl'),
      centralCa: path.join(pki, 'central-ca.crt'),
      centralCert: path.join(pki, 'central-bridge.crt'),
      centralKey: path.join(pki, 'central-bridge.key'),
    },
    broker: {
      dir: broker,
      conf: path.join(broker, 'mosquitto.conf'),
      acl: path.join(broker, 'acl'),
      state: `${path.join(broker, 'state')}/`,
    },
    identity: { dir: identity, key: path.join(identity, 'dock.key'), pub: dockKeyFile(identity) },
    devicesDir: path.join(root, DOCK_DEVICES_DIR),
    withdrawnDir: path.join(root, 'withdrawn'),
    evidenceDir: path.join(root, DOCK_EVIDENCE_DIR),
    incomingDir: path.join(root, DOCK_INCOMING_DIR),
    stagingDir: path.join(root, 'staging'),
    database: path.join(root, 'dock.sqlite'),
    releases: {
      dir: path.join(root, 'releases'),
      wanted: path.join(root, 'releases', 'wanted.json'),
      reports: path.join(root, 'releases', 'reports.json'),
    },
  };
}

/** A bundle the dock holds: `releases/<kind>-<version>.bundle`. */
export const bundleFile = (layout: DockLayout, kind: string, version: string) =>
  path.join(layout.releases.dir, `${kind}-${version}.bundle`);

/** Where the dock keeps what it knows of one enrolled camera. */
export function deviceFiles(dir: string, deviceId: string): { dir: string; pub: string; cert: string } {
  const deviceDir = path.join(dockLayout(dir).devicesDir, deviceId);
  return { dir: deviceDir, pub: deviceKeyFile(deviceDir), cert: path.join(deviceDir, 'client.crt') };
}

const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Why `host` cannot name the broker (it goes into the server certificate), or undefined when it can. */
export function hostProblem(host: string): string | undefined {
  if (isIP(host) !== 0 || DNS_NAME.test(host)) return undefined;
  return `"${host}" is neither a DNS name (letters, digits, "-" and ".") nor an IP address; give the name cameras use to reach the dock`;
}

/** Why `bind` cannot be a listener address, or undefined when it can. */
export function bindProblem(bind: string): string | undefined {
  if (isIP(bind) !== 0) return undefined;
  return `"${bind}" is not an IP address; give the dock's LAN address (or 127.0.0.1 for a test dock)`;
}

/** An organisation's name in object keys: letters, digits, "-" and "_" (a police zone or service, e.g. `pz5339`). */
export const ORGANISATION = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const filesystemStore = s.object({
  kind: s
    .literal('filesystem')
    .describe(`evidence in DOCKDIR/${DOCK_EVIDENCE_DIR}, the layout \`bodycam verify\` reads`),
});

const s3Store = s.object({
  kind: s.literal('s3').describe('evidence in an S3 bucket with Object Lock (COMPLIANCE retention on every object)'),
  endpoint: s.string().nonEmpty().describe("the S3 service's root URL (https://…; http only on loopback or a test)"),
  bucket: s.string().nonEmpty().describe('the bucket: created with Object Lock, versioned, a default retention rule'),
  prefix: s.string().default('').describe('key prefix inside the bucket ("" for none), e.g. "bodycam"'),
  region: s.string().nonEmpty().default('us-east-1').describe("the service's region (Ceph RGW: any, e.g. us-east-1)"),
  credentialsFile: s
    .string()
    .nonEmpty()
    .describe('AWS shared-credentials file ([profile] aws_access_key_id, aws_secret_access_key), relative to DOCKDIR'),
  profile: s.string().nonEmpty().default('default').describe('the profile of the credentials file to use'),
  organisation: s
    .string()
    .regex(ORGANISATION, 'letters, digits, "-" and "_", at most 64, starting with a letter or digit')
    .describe("the police zone or service this dock's cameras belong to: the first part of every key"),
  minimumDays: s.int(30, 365, 30, 'COMPLIANCE retention from the recording: no one can delete before, days'),
  deleteAfterMonths: s.int(1, 12, 12, 'deletion due this many months after the recording (unless held)'),
});

export const dockConfigSchema = s.object({
  version: s.number().int().describe(`layout version (${DOCK_CONFIG_VERSION})`),
  host: s.string().nonEmpty().describe("the broker's name as cameras reach it (in the server certificate)"),
  port: s.int(1, 65535, 8883, 'the broker port (MQTT 5 over TLS)'),
  bind: s.string().nonEmpty().default('127.0.0.1').describe('the address the managed broker listens on'),
  broker: s
    .enum(['managed', 'external'])
    .describe('managed: the dock starts Mosquitto itself; external: the site runs it (with broker/mosquitto.conf)'),
  mosquittoPath: s.string().nonEmpty().describe('the mosquitto binary a managed broker runs'),
  store: s
    .tagged('kind', { filesystem: filesystemStore, s3: s3Store })
    .default({ kind: 'filesystem' })
    .describe('where verified evidence is kept: "filesystem" (default) or "s3"'),
  limits: limitsSchema,
  page: s
    .object({
      enabled: s.boolean().default(true).describe("serve the dock's own page (false: none)"),
      listen: s
        .string()
        .nonEmpty()
        .default('127.0.0.1')
        .describe('the address the page listens on: loopback by default, the station PC only'),
      port: s.int(0, 65535, 8470, 'the page port (0: any free port, for tests)'),
    })
    .default({})
    .describe("the dock's own page for the operator (read-only): docked cameras, transfers, safe to undock"),
  central: s
    .object({
      address: s.string().nonEmpty().describe('the central fleet broker, host:port (MQTT 5 over TLS)'),
      site: s
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, "-" and "_", at most 64')
        .describe('this site at the centre: its status arrives under sites/<site>/'),
    })
    .optional()
    .describe('bridge the fleet status to a central broker (certificates in pki/central-*); absent: no bridge'),
});

/** The `store` section of a validated dock.json. */
export type StoreConfig = Infer<typeof dockConfigSchema>['store'];
/** The S3 kind of it. */
export type S3StoreConfig = Extract<StoreConfig, { kind: 's3' }>;

/** Problems of an S3 store section that the schema cannot see (URL, bucket and prefix rules), with their keys. */
export function s3StoreProblems(c: S3StoreConfig): Array<{ key: string; message: string }> {
  const problems: Array<{ key: string; message: string }> = [];
  for (const [key, problem] of [
    ['store.endpoint', endpointProblem(c.endpoint)],
    ['store.bucket', bucketProblem(c.bucket)],
    ['store.prefix', prefixProblem(c.prefix)],
  ] as const) {
    if (problem !== undefined) problems.push({ key, message: problem });
  }
  return problems;
}

/** A validated dock.json. */
export type DockConfig = Infer<typeof dockConfigSchema>;

/** Validates a parsed dock.json; every problem is listed at once, each naming its key. `file` is for messages. */
export function parseDockConfig(doc: unknown, file: string): DockConfig {
  const parsed = dockConfigSchema.safeParse(doc);
  const problems = parsed.ok ? [] : describeIssues(parsed.issues);
  if (parsed.ok) {
    const c = parsed.value;
    if (c.version !== DOCK_CONFIG_VERSION) {
      problems.push({
        key: 'version',
        message: `is ${c.version}; this bodycam reads version ${DOCK_CONFIG_VERSION} (use the bodycam release that wrote it)`,
      });
    }
    const host = hostProblem(c.host);
    if (host !== undefined) problems.push({ key: 'host', message: host });
    const bind = bindProblem(c.bind);
    if (bind !== undefined) problems.push({ key: 'bind', message: bind });
    const listen = bindProblem(c.page.listen);
    if (listen !== undefined) problems.push({ key: 'page.listen', message: listen });
    if (c.store.kind === 's3') problems.push(...s3StoreProblems(c.store));
    if (problems.length === 0) return c;
  }
  const lines = problems.map((p) => `  ${p.key}: ${p.message}`).join('\n');
  throw new BodycamError(
    ErrorCode.CONFIG_INVALID,
    `${file} has ${problems.length} error(s) (fix them, or rewrite it with \`bodycam dock init --force\`):\n${lines}`,
    { file, problems },
  );
}

/** Reads and validates DOCKDIR/dock.json: CONFIG_UNREADABLE when it is missing, CONFIG_INVALID naming each key. */
export function loadDockConfig(dir: string): DockConfig {
  const file = dockLayout(dir).config;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BodycamError(
      ErrorCode.CONFIG_UNREADABLE,
      `cannot read ${file} (${(e as Error).message}); is ${dir} a dock directory? Create one with \`bodycam dock init --dir ${dir}\``,
      { file },
    );
  }
  return parseDockConfig(parseConfigJson(text, file), file);
}
