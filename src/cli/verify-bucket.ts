/**
 * `bodycam verify s3://BUCKET/PREFIX --s3-endpoint URL --s3-credentials FILE --organisation ORG` and `bodycam export
 * --from s3://…`: the organisation's evidence (for export, the one device's) copied into a private temporary
 * directory in a dock's evidence layout (src/vault/bucket-view.ts) and read there by the same verifier and exporter,
 * with the same keys from outside; what only the bucket shows (an object rewritten or hidden, one not locked, one
 * whose bytes differ from the SHA-256 it was stored with, audit batches that do not continue one another) is
 * reported beside it. Reports name the bucket, never the copy.
 */
import type { KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { GivenKeys } from '../evidence/anchors.ts';
import { keyId } from '../evidence/keys.ts';
import { parseEvidenceKey } from '../evidence/object-keys.ts';
import { AUDIT_LOG, DOCKINGS_LOG } from '../evidence/paths.ts';
import type { Finding } from '../evidence/report.ts';
import { type VerifyReport, verifyDirectory } from '../evidence/verify.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { openS3Store } from '../store/open-s3.ts';
import type { ObjectStore } from '../store/port.ts';
import { viewBucket } from '../vault/bucket-view.ts';
import { type CustodyRoot, custodyPrefix, verifyCustodyLog } from '../vault/custody-log.ts';
import type { SignedCustodyRecord } from '../vault/custody-record.ts';
import { type StoreFlags, storeFromFlags } from './dock-store.ts';

export interface OpenedView {
  /** The copy's evidence directory. */
  evidence: string;
  /** `s3://BUCKET/PREFIX/ORG/`, and the endpoint. */
  where: string;
  endpoint: string;
  objects: number;
  findings: Finding[];
  /** The custody log's records about the incident viewed (all of them without one), when a key was given. */
  custody: CustodyPart | null;
  /** Adds the bucket's part (and the custody log's) to an export's JSON report. */
  note(reportFile: string): Promise<void>;
  remove(): Promise<void>;
}

const usage = (message: string): BodycamError => new BodycamError(ErrorCode.USAGE, message);

/** What an export's report says of the custody log: whether it verifies, and the incident's records (its history). */
export interface CustodyPart {
  key: string;
  verifies: boolean;
  records: number;
  history: SignedCustodyRecord[];
}

/**
 * The organisation's custody log checked under `key` (from provisioning): each problem a `custody-log` error; no key
 * and a log present, one `custody-unchecked` warning (the log proves nothing without its key). The incident's records
 * (on `device`, or on no device named) are its access history.
 */
async function checkCustody(
  store: ObjectStore,
  root: CustodyRoot,
  key: KeyObject | undefined,
  findings: Finding[],
  incident?: string,
  device?: string,
): Promise<CustodyPart | null> {
  if (key === undefined) {
    for await (const _ of store.list(custodyPrefix(root))) {
      findings.push({
        severity: 'warning',
        device: '',
        code: 'custody-unchecked',
        message: `a custody log is under ${custodyPrefix(root)}, but no --custody-key was given: it is not checked`,
      });
      break;
    }
    return null;
  }
  const log = await verifyCustodyLog(store, root, key);
  for (const p of log.problems) findings.push({ severity: 'error', device: '', code: 'custody-log', message: p });
  const history = log.records.filter(
    (r) =>
      incident === undefined ||
      (r.record.incident === incident && [undefined, device].includes(r.record.detail?.['device'])),
  );
  return { key: keyId(key), verifies: log.problems.length === 0, records: log.records.length, history };
}

/** Copies the organisation's evidence, or (with `incident`) the evidence of the one device holding that incident. */
export async function openBucketView(
  flags: StoreFlags & { store: string },
  incident?: string,
  device?: string,
  custodyKey?: KeyObject,
): Promise<OpenedView> {
  const section = storeFromFlags(flags, process.cwd());
  if (section.kind !== 's3') throw usage('give s3://BUCKET/PREFIX');
  const store = await openS3Store(section);
  const root = { prefix: section.prefix, organisation: section.organisation };
  const where = `s3://${section.bucket}/${section.prefix === '' ? '' : `${section.prefix}/`}${section.organisation}/`;
  try {
    let only = device;
    if (incident !== undefined && only === undefined) {
      const holders = new Set<string>();
      for await (const e of store.list(
        `${section.prefix === '' ? '' : `${section.prefix}/`}${section.organisation}/`,
      )) {
        const k = parseEvidenceKey(root, e.key);
        if ('incident' in k && k.incident === incident) holders.add(k.device);
      }
      if (holders.size === 0) throw usage(`incident ${incident} is not in ${where}`);
      if (holders.size > 1)
        throw usage(`incident ${incident} is under several devices (${[...holders].join(', ')}): give --device`);
      only = [...holders][0];
    }
    const view = await viewBucket(store, root, only);
    const custody = await checkCustody(store, root, custodyKey, view.findings, incident, only);
    const objects = [...view.objects.values()].reduce((n, keys) => n + keys.length, 0);
    return {
      evidence: view.evidence,
      where,
      endpoint: section.endpoint,
      objects,
      findings: view.findings,
      custody,
      remove: () => view.remove(),
      async note(reportFile) {
        const report = JSON.parse(await readFile(reportFile, 'utf8')) as Record<string, unknown>;
        report['store'] = { bucket: where, endpoint: section.endpoint, objects, findings: view.findings };
        if (custody !== null) report['custody'] = custody;
        await writeFile(reportFile, `${JSON.stringify(report, null, 2)}\n`);
      },
    };
  } finally {
    store.close();
  }
}

export async function verifyBucket(
  flags: StoreFlags & { store: string },
  keys: GivenKeys,
  custodyKey?: KeyObject,
): Promise<VerifyReport> {
  const view = await openBucketView(flags, undefined, undefined, custodyKey);
  try {
    const report = await verifyDirectory(view.evidence, keys);
    report.root = `${view.where} at ${view.endpoint}`;
    report.layout = {
      kind: report.layout.kind,
      seen: [
        `${view.objects} object(s) read from the bucket; audit batches joined as ${AUDIT_LOG}, docking records as ${DOCKINGS_LOG}`,
      ],
      evidence: view.where,
    };
    report.findings.unshift(...view.findings);
    report.ok = report.findings.every((f) => f.severity !== 'error');
    return report;
  } finally {
    await view.remove();
  }
}
