/**
 * `bodycam vault hold set|release`, `vault expire` and `vault log`: legal hold, expiry and the custody log on the
 * S3 evidence store (src/vault/). The store is named on the command line as for `dock init`
 * (`--store s3://BUCKET/PREFIX --s3-endpoint URL --s3-credentials FILE --organisation ORG`); records are signed with
 * `--signing-key FILE` (an Ed25519 PKCS#8 PEM key from provisioning) in the name of `--operator NAME` (or
 * $BODYCAM_OPERATOR). The log is verified against `--public-key FILE`, given from outside, never read from the store.
 */
import { readFile } from 'node:fs/promises';
import { loadPrivateKey, loadPublicKey } from '../evidence/keys.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { openS3Store } from '../store/open-s3.ts';
import type { ObjectStore } from '../store/port.ts';
import { verifyCustodyLog } from '../vault/custody-log.ts';
import { type Actor, expireObjects, setIncidentHold } from '../vault/operations.ts';
import { type StoreFlags, storeFromFlags } from './dock-store.ts';

export interface VaultStoreOptions extends StoreFlags {
  store: string;
}

export interface VaultActorOptions {
  operator?: string;
  signingKey: string;
  lockDays: number;
}

const usage = (message: string): BodycamError => new BodycamError(ErrorCode.USAGE, message);

async function openStore(
  o: VaultStoreOptions,
): Promise<{ store: ObjectStore & { close(): void }; root: { prefix: string; organisation: string } }> {
  const section = storeFromFlags(o, process.cwd());
  if (section.kind !== 's3') throw usage('--store: the vault works on an S3 store (s3://BUCKET/PREFIX)');
  const store = await openS3Store(section);
  return { store, root: { prefix: section.prefix, organisation: section.organisation } };
}

async function actor(o: VaultActorOptions): Promise<Actor> {
  const operator = (o.operator ?? process.env['BODYCAM_OPERATOR'] ?? '').trim();
  if (operator === '') throw usage('name the operator: --operator NAME or BODYCAM_OPERATOR');
  let pem: string;
  try {
    pem = await readFile(o.signingKey, 'utf8');
  } catch (e) {
    throw usage(`--signing-key: cannot read ${o.signingKey}: ${(e as Error).message}`);
  }
  return { operator, key: loadPrivateKey(pem), lockDays: o.lockDays, now: Date.now };
}

export async function vaultHoldCommand(
  on: boolean,
  o: VaultStoreOptions & VaultActorOptions & { incident: string; device?: string; reason: string },
): Promise<void> {
  const who = await actor(o);
  const { store, root } = await openStore(o);
  try {
    const touched = await setIncidentHold(
      store,
      root,
      { incident: o.incident, reason: o.reason, on, ...(o.device === undefined ? {} : { device: o.device }) },
      who,
    );
    process.stdout.write(
      `legal hold ${on ? 'set on' : 'released from'} ${touched.length} object version(s) of incident ${o.incident}\n`,
    );
  } finally {
    store.close();
  }
}

export async function vaultExpireCommand(o: VaultStoreOptions & VaultActorOptions & { reason: string }): Promise<void> {
  const who = await actor(o);
  const { store, root } = await openStore(o);
  try {
    const out = await expireObjects(store, root, o.reason, who);
    for (const d of out.deleted) process.stdout.write(`deleted ${d.key} (version ${d.versionId})\n`);
    const why = new Map<string, number>();
    for (const k of out.kept) why.set(k.why, (why.get(k.why) ?? 0) + 1);
    const kept = [...why].map(([w, n]) => `${n} ${w}`).join(', ');
    process.stdout.write(`${out.deleted.length} deleted; ${out.kept.length} kept${kept === '' ? '' : ` (${kept})`}\n`);
  } finally {
    store.close();
  }
}

/** Prints the log and verifies it: exits 1 unless its form, chain and signatures all check. */
export async function vaultLogCommand(o: VaultStoreOptions & { publicKey: string }): Promise<void> {
  let pem: string;
  try {
    pem = await readFile(o.publicKey, 'utf8');
  } catch (e) {
    throw usage(`--public-key: cannot read ${o.publicKey}: ${(e as Error).message}`);
  }
  const key = loadPublicKey(pem);
  const { store, root } = await openStore(o);
  try {
    const log = await verifyCustodyLog(store, root, key);
    for (const { record: r } of log.records) {
      process.stdout.write(
        `${r.seq}\t${r.at}\t${r.action}\t${r.operator}\t${r.incident || '-'}\t${r.objects.length} object(s)\t${r.reason}\n`,
      );
    }
    for (const p of log.problems) process.stderr.write(`custody log: ${p}\n`);
    if (log.problems.length > 0) {
      process.stderr.write(`the custody log does not verify (${log.problems.length} problem(s))\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`custody log verifies: ${log.records.length} record(s) signed by the given key\n`);
  } finally {
    store.close();
  }
}
