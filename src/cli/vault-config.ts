/**
 * `vault.json`: the custody service's configuration (`bodycam vault … --config FILE`): the index database it
 * keeps accounts and incidents in: SQLite (a file, relative to the config's directory) by default, or PostgreSQL.
 *
 * With `store` and `custody` it keeps custody of an evidence bucket (the incidents' index, access by policy, the
 * signed custody log); without them only `vault user` works.
 *
 * ```json
 * { "version": 1, "index": { "kind": "sqlite", "file": "vault.sqlite" } }
 * { "version": 1, "index": { "kind": "sqlite" },
 *   "store": { "location": "s3://evidence/zone", "endpoint": "https://s3.zone.example", "credentialsFile": "s3.ini" },
 *   "custody": { "signingKey": "custody.key" } }
 * { "version": 1, "index": { "kind": "postgres", "host": "db.zone.example", "port": 5432, "database": "vault",
 *   "user": "vault", "passwordFile": "/etc/bodycam/vault-db.password" } }
 * ```
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeIssues, parseConfigJson } from '../config/load.ts';
import { type Infer, s } from '../config/schema-kit.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { endpointProblem, parseS3Url } from '../store/url.ts';
import { openSqliteIndex, type SqlClient } from '../vault/index/sql.ts';

export const VAULT_CONFIG_VERSION = 1;

const sqliteIndex = s.object({
  kind: s.literal('sqlite').describe('the embedded default: one SQLite file'),
  file: s.string().nonEmpty().default('vault.sqlite').describe("the SQLite file, relative to the config's directory"),
});

const postgresIndex = s.object({
  kind: s.literal('postgres').describe('a PostgreSQL server, for scale'),
  host: s.string().nonEmpty().describe("the server's name or address, or the directory of its unix socket"),
  port: s.int(1, 65535, 5432, "the server's port"),
  database: s.string().nonEmpty().describe('the database'),
  user: s.string().nonEmpty().describe('the database user'),
  passwordFile: s
    .string()
    .nonEmpty()
    .optional()
    .describe("a file holding the user's password (relative to the config's directory); absent: peer or trust"),
});

const listen = s.object({
  host: s.string().nonEmpty().default('127.0.0.1').describe('the address `vault serve` listens on'),
  port: s.int(1, 65535, 8443, 'the port `vault serve` listens on'),
});

const tls = s.object({
  cert: s.string().nonEmpty().describe("the service's certificate chain (PEM), relative to the config's directory"),
  key: s.string().nonEmpty().describe('its private key (PEM)'),
});

const store = s.object({
  location: s
    .string()
    .nonEmpty()
    .describe('the evidence bucket and prefix, s3://BUCKET/PREFIX, as the docks were given'),
  endpoint: s.string().nonEmpty().describe("the S3 service's URL"),
  credentialsFile: s
    .string()
    .nonEmpty()
    .describe("an AWS shared-credentials file ([default] keys), relative to the config's directory"),
  region: s.string().nonEmpty().default('us-east-1').describe('the S3 region'),
});

const custody = s.object({
  signingKey: s
    .string()
    .nonEmpty()
    .describe(
      "the Ed25519 private key (PKCS#8 PEM, from provisioning) that signs the custody log, relative to the config's directory",
    ),
  lockDays: s.int(1, 36_500, 3650, 'how long each custody log record is locked (COMPLIANCE), in days'),
  grantHours: s.int(1, 24, 4, 'how long a grant lets its holder fetch the footage, in hours'),
});

const trust = s.object({
  deviceKeys: s
    .string()
    .nonEmpty()
    .describe(
      "a directory of the devices' public keys from provisioning, one <device>.pub each (relative to the config's directory)",
    ),
  dockKeys: s
    .string()
    .nonEmpty()
    .optional()
    .describe("a directory of the docks' public keys (*.pub), whose receipts and docking records count"),
});

export const vaultConfigSchema = s.object({
  version: s.number().int().describe(`layout version (${VAULT_CONFIG_VERSION})`),
  index: s.tagged('kind', { sqlite: sqliteIndex, postgres: postgresIndex }),
  store: store.optional().describe('the evidence store the service keeps custody of (needed by all but `vault user`)'),
  custody: custody.optional().describe('the custody log (needed with `store`)'),
  trust: trust
    .optional()
    .describe("the keys the index verifies each incident's evidence with; without, every incident is `unverified`"),
  listen: listen.default({ host: '127.0.0.1', port: 8443 }),
  tls: tls.optional().describe('HTTPS (required unless the service listens on loopback only)'),
});

export type VaultConfig = Infer<typeof vaultConfigSchema> & { dir: string };

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function loadVaultConfig(file: string): VaultConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BodycamError(ErrorCode.CONFIG_UNREADABLE, `cannot read ${file} (${(e as Error).message})`, { file });
  }
  const parsed = vaultConfigSchema.safeParse(parseConfigJson(text, file));
  const problems = parsed.ok ? [] : describeIssues(parsed.issues);
  if (parsed.ok && parsed.value.version !== VAULT_CONFIG_VERSION) {
    problems.push({
      key: 'version',
      message: `is ${parsed.value.version}; this bodycam reads ${VAULT_CONFIG_VERSION}`,
    });
  }
  if (parsed.ok && parsed.value.tls === undefined && !isLoopback(parsed.value.listen.host)) {
    problems.push({
      key: 'tls',
      message: `listen.host ${parsed.value.listen.host} is not loopback: passwords and footage would cross the network in clear; give tls.cert and tls.key`,
    });
  }
  if (parsed.ok && parsed.value.store !== undefined) {
    const at = parseS3Url(parsed.value.store.location);
    if ('error' in at) problems.push({ key: 'store.location', message: at.error });
    const bad = endpointProblem(parsed.value.store.endpoint);
    if (bad !== undefined) problems.push({ key: 'store.endpoint', message: bad });
    if (parsed.value.custody === undefined) {
      problems.push({ key: 'custody', message: 'a store needs its custody log: give custody.signingKey' });
    }
  }
  if (!parsed.ok || problems.length > 0) {
    const lines = problems.map((p) => `  ${p.key}: ${p.message}`).join('\n');
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `${file} has ${problems.length} error(s):\n${lines}`, { file });
  }
  return { ...parsed.value, dir: path.dirname(path.resolve(file)) };
}

/** The index database the config names, open. */
export async function openVaultIndex(config: VaultConfig): Promise<SqlClient> {
  const index = config.index;
  if (index.kind === 'sqlite') return openSqliteIndex(path.resolve(config.dir, index.file));
  let password: string | undefined;
  if (index.passwordFile !== undefined) {
    const file = path.resolve(config.dir, index.passwordFile);
    try {
      password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new BodycamError(
        ErrorCode.CONFIG_UNREADABLE,
        `index.passwordFile: cannot read ${file} (${(e as Error).message})`,
      );
    }
  }
  const { openPostgresIndex } = await import('../vault/index/postgres.ts');
  return openPostgresIndex({
    host: index.host,
    port: index.port,
    database: index.database,
    user: index.user,
    ...(password === undefined ? {} : { password }),
  });
}
