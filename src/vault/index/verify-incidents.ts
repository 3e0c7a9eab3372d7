/**
 * The index's verification state from the evidence verifier itself: each device's evidence in the bucket copied into
 * a private directory (bucket-view.ts) and checked there by `verifyDirectory` with the device's key from provisioning
 * (and the docks' keys), never a key found in the bucket. An incident is `verified` when nothing of its device's
 * evidence that bears on it is an error (its own segments and manifests, and the device's chains, audit log and
 * docking records, which every incident rests on), `failed` otherwise, and `unverified` when no key was provisioned
 * for its device. A device's result is kept while its objects (keys and version ids) stay the same, so a rebuild
 * every few minutes verifies only what changed.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { Finding } from '../../evidence/report.ts';
import { verifyDirectory } from '../../evidence/verify.ts';
import type { ObjectStore } from '../../store/port.ts';
import { viewBucket } from '../bucket-view.ts';
import type { IncidentVerifier } from './rebuild.ts';
import type { IncidentRow, VerificationState } from './schema.ts';

export interface Trust {
  /** Device public keys by device id, from provisioning. */
  devices: ReadonlyMap<string, KeyObject>;
  /** Keys of the docks whose receipts and docking records count. */
  docks: readonly KeyObject[];
}

/** The state of `incident` given the findings of its device's evidence. */
export function incidentState(findings: readonly Finding[], incident: string): VerificationState {
  const bearing = findings.filter(
    (f) => f.severity === 'error' && (f.incident === undefined || f.incident === incident),
  );
  return bearing.length === 0 ? 'verified' : 'failed';
}

/** A verifier for `rebuild`, keeping each device's findings while its objects do not change. */
export class BucketVerifier {
  readonly #trust: Trust;
  readonly #cache = new Map<string, { fingerprint: string; findings: Promise<Finding[]> }>();

  constructor(trust: Trust) {
    this.#trust = trust;
  }

  /** The verifier for one rebuild: each device's objects listed once in it, however many incidents it has. */
  forRebuild(): IncidentVerifier {
    const listed = new Map<string, Promise<string>>();
    return async (store, prefix, row) => {
      const key = this.#trust.devices.get(row.device);
      if (key === undefined) return 'unverified';
      const id = `${row.organisation}/${row.device}`;
      let fingerprint = listed.get(id);
      if (fingerprint === undefined) {
        fingerprint = this.#fingerprint(store, `${prefix === '' ? '' : `${prefix}/`}${id}/`);
        listed.set(id, fingerprint);
      }
      return incidentState(await this.#findings(store, prefix, row, key, await fingerprint), row.incident);
    };
  }

  async #findings(
    store: ObjectStore,
    prefix: string,
    row: IncidentRow,
    key: KeyObject,
    fingerprint: string,
  ): Promise<Finding[]> {
    const root = { prefix, organisation: row.organisation };
    const id = `${row.organisation}/${row.device}`;
    const cached = this.#cache.get(id);
    if (cached?.fingerprint === fingerprint) return cached.findings;
    const findings = (async () => {
      const view = await viewBucket(store, root, row.device);
      try {
        const report = await verifyDirectory(view.evidence, {
          devices: new Map([[row.device, key]]),
          docks: this.#trust.docks,
        });
        return [...view.findings, ...report.findings];
      } finally {
        await view.remove();
      }
    })();
    this.#cache.set(id, { fingerprint, findings });
    findings.catch(() => this.#cache.delete(id));
    return findings;
  }

  /** Every version (and delete marker) under the device: what its evidence is made of. */
  async #fingerprint(store: ObjectStore, devicePrefix: string): Promise<string> {
    const h = createHash('sha256');
    for await (const v of store.listVersions(devicePrefix)) h.update(`${v.key}\0${v.versionId}\0${v.deleteMarker}\n`);
    return h.digest('hex');
  }
}
