/**
 * The custody log in the store itself: one object per record, `<prefix>/custody/<organisation>/<seq>.json` (12
 * digits), written once under COMPLIANCE retention, so no one can edit or delete a record while it is locked.
 * A second writer racing for the same sequence number makes a second version of that key: the verifier reports
 * every key with more than one version, and every delete marker, as a break of the log.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { text } from 'node:stream/consumers';
import type { ObjectStore, StoredVersion } from '../store/port.ts';
import { putVerified } from '../store/verified-put.ts';
import {
  type CustodyRecord,
  chainProblems,
  custodyText,
  nextLink,
  parseCustodyText,
  type SignedCustodyRecord,
  signCustodyRecord,
} from './custody-record.ts';

export interface CustodyRoot {
  prefix: string;
  organisation: string;
}

/** The custody log's folder beside the organisations' evidence under the prefix (not an organisation's name). */
export const CUSTODY_FOLDER = 'custody';
const SEQ_DIGITS = 12;
const RECORD_KEY = /^(\d{12})\.json$/;

export function custodyPrefix(root: CustodyRoot): string {
  return `${root.prefix === '' ? '' : `${root.prefix}/`}${CUSTODY_FOLDER}/${root.organisation}/`;
}

export function custodyKey(root: CustodyRoot, seq: number): string {
  return `${custodyPrefix(root)}${String(seq).padStart(SEQ_DIGITS, '0')}.json`;
}

export interface LogRead {
  records: SignedCustodyRecord[];
  /** What breaks the log's form: extra versions, delete markers, unreadable records, foreign keys. */
  problems: string[];
}

/** Every record of the log, in sequence order, and what is wrong with the objects holding them. */
export async function readCustodyLog(store: ObjectStore, root: CustodyRoot): Promise<LogRead> {
  const prefix = custodyPrefix(root);
  const problems: string[] = [];
  const versions = new Map<string, string[]>();
  for await (const v of store.listVersions(prefix)) {
    if (v.deleteMarker) {
      problems.push(`${v.key}: a delete marker (version ${v.versionId}) hides a record`);
      continue;
    }
    versions.set(v.key, [...(versions.get(v.key) ?? []), v.versionId]);
  }
  const records: SignedCustodyRecord[] = [];
  for (const key of [...versions.keys()].sort()) {
    const ids = versions.get(key) ?? [];
    const name = key.slice(prefix.length);
    const m = RECORD_KEY.exec(name);
    if (m === null) {
      problems.push(`${key}: not a custody record name <seq>.json`);
      continue;
    }
    if (ids.length > 1) problems.push(`${key}: ${ids.length} versions; a record is written once`);
    const parsed = parseCustodyText(await text(await store.get(key)));
    if ('error' in parsed) {
      problems.push(`${key}: ${parsed.error}`);
      continue;
    }
    if (parsed.ok.record.seq !== Number(m[1])) problems.push(`${key}: holds record ${parsed.ok.record.seq}`);
    records.push(parsed.ok);
  }
  return { records, problems };
}

/** Problems of the log (empty: it verifies): its objects' form, then its chain and signatures under `key`. */
export async function verifyCustodyLog(
  store: ObjectStore,
  root: CustodyRoot,
  key: KeyObject,
): Promise<{ records: SignedCustodyRecord[]; problems: string[] }> {
  const read = await readCustodyLog(store, root);
  return { records: read.records, problems: [...read.problems, ...chainProblems(read.records, key)] };
}

export interface AppendInput {
  record: Omit<CustodyRecord, 'v' | 'signer' | 'seq' | 'prev' | 'at'>;
  key: KeyObject;
  nowMs: number;
  /** How long the record is locked (COMPLIANCE). */
  lockDays: number;
}

/** Signs and stores the next record after the log's last one; returns it and the stored version. */
export async function appendCustodyRecord(
  store: ObjectStore,
  root: CustodyRoot,
  input: AppendInput,
): Promise<{ signed: SignedCustodyRecord; version: StoredVersion }> {
  const { records } = await readCustodyLog(store, root);
  const link = nextLink(records.at(-1) ?? null);
  const signed = signCustodyRecord({ ...input.record, ...link, at: new Date(input.nowMs).toISOString() }, input.key);
  return { signed, version: await storeRecord(store, root, signed, input) };
}

/**
 * The log as a long-running service appends to it: records one after another (never two at once), the last one kept
 * in memory so an append costs one check and one write, not a read of the whole log. Before each write it checks that
 * the next sequence number is still free (another writer, `bodycam vault hold` run beside the service, may have taken
 * it), and reads the log again when it is not. Two writers racing inside that check both write the same key; the
 * store keeps both versions, and the verifier reports the key (readCustodyLog).
 */
export class CustodyLogWriter {
  readonly #store: ObjectStore;
  readonly #root: CustodyRoot;
  #last: SignedCustodyRecord | null | undefined = undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(store: ObjectStore, root: CustodyRoot) {
    this.#store = store;
    this.#root = root;
  }

  append(input: AppendInput): Promise<SignedCustodyRecord> {
    const next = this.#queue.then(() => this.#append(input));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #append(input: AppendInput): Promise<SignedCustodyRecord> {
    let last = this.#last;
    if (last === undefined || (await this.#store.head(custodyKey(this.#root, nextLink(last).seq))) !== null) {
      last = (await readCustodyLog(this.#store, this.#root)).records.at(-1) ?? null;
    }
    const link = nextLink(last);
    const signed = signCustodyRecord({ ...input.record, ...link, at: new Date(input.nowMs).toISOString() }, input.key);
    this.#last = undefined;
    await storeRecord(this.#store, this.#root, signed, input);
    this.#last = signed;
    return signed;
  }
}

async function storeRecord(
  store: ObjectStore,
  root: CustodyRoot,
  signed: SignedCustodyRecord,
  input: AppendInput,
): Promise<StoredVersion> {
  const body = Buffer.from(custodyText(signed));
  const out = await putVerified(store, {
    key: custodyKey(root, signed.record.seq),
    source: body,
    retention: { mode: 'COMPLIANCE', retainUntil: new Date(input.nowMs + input.lockDays * 86_400_000) },
    metadata: { 'custody-sha256': createHash('sha256').update(body).digest('hex') },
    contentType: 'application/json',
  });
  return out.version;
}
