/**
 * The custody commands on vault.json: `bodycam vault access` (the policy's decision for a named account, exactly as
 * the web pages take it: exit 0 granted, 3 refused), `vault authorise` (a prosecutor's decision recorded), `vault
 * share`, and `vault index rebuild`. Whoever runs them holds the service's configuration and its signing key: they act
 * in the name of `--as`, and the log says the command line did (`via: cli`), so an audit tells them from the web.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadPrivateKey } from '../evidence/keys.ts';
import { BodycamError, ErrorCode, isBodycamError } from '../lib/errors.ts';
import { openS3Store } from '../store/open-s3.ts';
import type { ObjectStore } from '../store/port.ts';
import { parseS3Url } from '../store/url.ts';
import type { IncidentRef } from '../vault/access/records.ts';
import { CustodyService } from '../vault/access/service.ts';
import { type Account, Accounts } from '../vault/accounts/accounts.ts';
import { rebuild } from '../vault/index/rebuild.ts';
import type { SqlClient } from '../vault/index/sql.ts';
import { loadVaultConfig, openVaultIndex, type VaultConfig } from './vault-config.ts';

/** Exit status of a refusal by the policy (1 is a failure, 2 a usage error). */
export const EXIT_REFUSED = 3;

export interface OpenCustody {
  config: VaultConfig;
  db: SqlClient;
  store: ObjectStore & { close(): void };
  prefix: string;
  accounts: Accounts;
  service: CustodyService;
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
    const report = await rebuild(c.store, c.db, c.prefix);
    process.stdout.write(`index rebuilt from ${c.store.describe}: ${report.incidents} incident(s)\n`);
    for (const u of report.unexpected) process.stderr.write(`not indexed: ${u.key} (${u.reason})\n`);
  });
}
