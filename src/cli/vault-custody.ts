/**
 * The custody commands on vault.json: `bodycam vault access` (the policy's decision for a named account, exactly as
 * the web pages take it: exit 0 granted, 3 refused), `vault authorise` (a prosecutor's decision recorded), `vault
 * share`, and `vault index rebuild`. Whoever runs them holds the service's configuration and its signing key: they act
 * in the name of `--as`, and the log says the command line did (`via: cli`), so an audit tells them from the web.
 */
import type { KeyObject } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadPrivateKey, loadPublicKey } from '../evidence/keys.ts';
import { BodycamError, ErrorCode, isBodycamError } from '../lib/errors.ts';
import { openS3Store } from '../store/open-s3.ts';
import type { ObjectStore } from '../store/port.ts';
import { parseS3Url } from '../store/url.ts';
import type { IncidentRef } from '../vault/access/records.ts';
import { CustodyService } from '../vault/access/service.ts';
import { type Account, Accounts } from '../vault/accounts/accounts.ts';
import { type RebuildReport, rebuild } from '../vault/index/rebuild.ts';
import type { SqlClient } from '../vault/index/sql.ts';
import { BucketVerifier, type Trust } from '../vault/index/verify-incidents.ts';
import { loadVaultConfig, openVaultIndex, type VaultConfig } from './vault-config.ts';

/** Exit status of a refusal by the policy (1 is a failure, 2 a usage error). */
export const EXIT_REFUSED = 3;

/** `<dir>/<device>.pub` and `<dir>/*.pub` of vault.json's trust section, read from provisioning's records. */
async function loadTrust(config: VaultConfig): Promise<Trust | null> {
  const t = config.trust;
  if (t === undefined) return null;
  const read = async (what: string, dir: string): Promise<Map<string, KeyObject>> => {
    const full = path.resolve(config.dir, dir);
    const keys = new Map<string, KeyObject>();
    let names: string[];
    try {
      names = (await readdir(full)).filter((n) => n.endsWith('.pub')).sort();
    } catch (e) {
      throw new BodycamError(
        ErrorCode.CONFIG_UNREADABLE,
        `trust.${what}: cannot read ${full} (${(e as Error).message})`,
      );
    }
    for (const name of names) {
      try {
        keys.set(name.slice(0, -'.pub'.length), loadPublicKey(await readFile(path.join(full, name), 'utf8')));
      } catch (e) {
        throw new BodycamError(
          ErrorCode.CONFIG_INVALID,
          `trust.${what}: ${name} is not a public key (${(e as Error).message})`,
        );
      }
    }
    return keys;
  };
  const devices = await read('deviceKeys', t.deviceKeys);
  const docks = t.dockKeys === undefined ? [] : [...(await read('dockKeys', t.dockKeys)).values()];
  return { devices, docks };
}

export interface OpenCustody {
  config: VaultConfig;
  db: SqlClient;
  store: ObjectStore & { close(): void };
  prefix: string;
  accounts: Accounts;
  service: CustodyService;
  /** Rebuilds the index from the bucket, each incident verified with the trusted keys (unverified without). */
  rebuildIndex(): Promise<RebuildReport>;
  close(): Promise<void>;
}

/** The store, index, accounts and custody service vault.json names, open. */
export async function openCustody(file: string, via: 'cli' | 'web'): Promise<OpenCustody> {
  const config = loadVaultConfig(file);
  const section = config.store;
  const custody = config.custody;
  if (section === undefined || custody === undefined) {
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `${file} names no store: give its store and custody sections`);
  }
  const location = parseS3Url(section.location);
  if ('error' in location) throw new BodycamError(ErrorCode.CONFIG_INVALID, `store.location: ${location.error}`);
  const keyFile = path.resolve(config.dir, custody.signingKey);
  let pem: string;
  try {
    pem = await readFile(keyFile, 'utf8');
  } catch (e) {
    throw new BodycamError(
      ErrorCode.CONFIG_UNREADABLE,
      `custody.signingKey: cannot read ${keyFile} (${(e as Error).message})`,
    );
  }
  const key = loadPrivateKey(pem);
  const store = await openS3Store({
    endpoint: section.endpoint,
    region: section.region,
    bucket: location.ok.bucket,
    credentialsFile: path.resolve(config.dir, section.credentialsFile),
  });
  const trust = await loadTrust(config);
  const verifier = trust === null ? null : new BucketVerifier(trust);
  const db = await openVaultIndex(config);
  try {
    const service = await CustodyService.open({
      db,
      store,
      prefix: location.ok.prefix,
      key,
      lockDays: custody.lockDays,
      grantMs: custody.grantHours * 3_600_000,
      via,
    });
    return {
      config,
      db,
      store,
      prefix: location.ok.prefix,
      accounts: await Accounts.open(db),
      service,
      rebuildIndex: () => rebuild(store, db, location.ok.prefix, verifier?.forRebuild()),
      close: async () => {
        store.close();
        await db.close();
      },
    };
  } catch (e) {
    store.close();
    await db.close();
    throw e;
  }
}

async function account(c: OpenCustody, name: string): Promise<Account> {
  const found = (await c.accounts.list()).find((a) => a.name === name);
  if (found === undefined)
    throw new BodycamError(ErrorCode.USAGE, `--as: no account ${name} (bodycam vault user list)`);
  return found;
}

interface IncidentOpts {
  config: string;
  as: string;
  incident: string;
  device?: string;
  org?: string;
}

/**
 * The incident named: in `--org` (default: the account's organisation), on `--device`, or on the one device the index
 * knows an incident of that id on (two devices with the same id need --device). An incident the index does not hold
 * still goes to the policy, which refuses it, logged.
 */
async function refOf(c: OpenCustody, o: IncidentOpts, who: Account): Promise<IncidentRef> {
  const organisation = o.org ?? who.organisation;
  if (o.device !== undefined) return { organisation, device: o.device, incident: o.incident };
  const rows = await c.db.all<{ device: string }>(
    'SELECT device FROM incidents WHERE organisation = ? AND incident = ? ORDER BY device',
    [organisation, o.incident],
  );
  if (rows.length > 1) {
    throw new BodycamError(
      ErrorCode.USAGE,
      `incident ${o.incident} of ${organisation} was recorded on ${rows.map((r) => r.device).join(', ')}: name one with --device`,
    );
  }
  return { organisation, device: rows[0]?.device ?? '-', incident: o.incident };
}

async function withCustody<T>(file: string, run: (c: OpenCustody) => Promise<T>): Promise<T> {
  const c = await openCustody(file, 'cli');
  try {
    return await run(c);
  } finally {
    await c.close();
  }
}

export async function vaultAccessCommand(o: IncidentOpts & { reason: string; authorisation?: string }): Promise<void> {
  await withCustody(o.config, async (c) => {
    const who = await account(c, o.as);
    const ref = await refOf(c, o, who);
    const out = await c.service.request(who, ref, o.reason, o.authorisation);
    if (!out.decision.granted) {
      process.stderr.write(`refused: ${out.decision.why} (logged)\n`);
      process.exitCode = EXIT_REFUSED;
      return;
    }
    const until = new Date(out.grant?.untilMs ?? 0).toISOString();
    const ref2 = out.decision.reference === undefined ? '' : ` ${out.decision.reference}`;
    process.stdout.write(
      `granted: ${o.as} may open ${ref.organisation}/${ref.device}/${ref.incident} until ${until} (basis: ${out.decision.basis}${ref2}; logged)\n`,
    );
  });
}

/** A refusal of `vault authorise` or `vault share` exits 3 like one of `vault access`. */
async function refusable(run: () => Promise<string>): Promise<void> {
  try {
    process.stdout.write(`${await run()}\n`);
  } catch (e) {
    if (!isBodycamError(e, ErrorCode.ACCESS_REFUSED)) throw e;
    process.stderr.write(`refused: ${e.message} (logged)\n`);
    process.exitCode = EXIT_REFUSED;
  }
}

export async function vaultAuthoriseCommand(
  o: IncidentOpts & { reference: string; reason: string; until?: string },
): Promise<void> {
  const until = o.until === undefined ? null : Date.parse(o.until);
  if (until !== null && Number.isNaN(until)) {
    throw new BodycamError(ErrorCode.USAGE, `--until: not an ISO 8601 date or time: ${JSON.stringify(o.until)}`);
  }
  await withCustody(o.config, async (c) => {
    const who = await account(c, o.as);
    const ref = await refOf(c, o, who);
    await refusable(async () => {
      await c.service.authorise(who, ref, o.reference, o.reason, until);
      return `recorded: decision ${o.reference.trim()} on ${ref.organisation}/${ref.device}/${ref.incident} (logged)`;
    });
  });
}

export async function vaultShareCommand(o: IncidentOpts & { with: string; reason: string }): Promise<void> {
  await withCustody(o.config, async (c) => {
    const who = await account(c, o.as);
    const ref = await refOf(c, o, who);
    await refusable(async () => {
      await c.service.share(who, ref, o.with, o.reason);
      return `shared: ${ref.organisation}/${ref.device}/${ref.incident} with ${o.with} (logged)`;
    });
  });
}

export async function vaultIndexRebuildCommand(o: { config: string }): Promise<void> {
  await withCustody(o.config, async (c) => {
    const report = await c.rebuildIndex();
    process.stdout.write(`index rebuilt from ${c.store.describe}: ${report.incidents} incident(s)\n`);
    for (const u of report.unexpected) process.stderr.write(`not indexed: ${u.key} (${u.reason})\n`);
  });
}
