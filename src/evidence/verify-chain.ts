/**
 * The manifest chain of one device, across all its incidents: positions contiguous from 0 (nothing on a camera ever
 * deletes a manifest, and a dock receives every one since enrolment), one manifest per position, each `prev` naming
 * the manifest before it. Identical copies of one manifest count once (a copy in the wrong place is reported as
 * `misplaced`); manifests of another device are left out.
 */
import type { DeviceFindings } from './report.ts';
import type { ManifestRecord } from './walk-incident.ts';

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}–${to}`;
}

function names(records: readonly ManifestRecord[]): string {
  return records.map((r) => r.target).join(', ');
}

/**
 * Checks the chain formed by `records` (manifests not `foreign`) and returns the lowest chainSeq present, or null
 * when there are none. Links into or out of a manifest whose signature failed are not checked: it is reported as
 * `bad-signature` already, and its successor's `prev` still names the original.
 */
export function checkChain(records: readonly ManifestRecord[], f: DeviceFindings): number | null {
  const bySeq = new Map<number, ManifestRecord[]>();
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.hash)) continue;
    seen.add(r.hash);
    const at = bySeq.get(r.env.payload.chainSeq);
    if (at === undefined) bySeq.set(r.env.payload.chainSeq, [r]);
    else at.push(r);
  }
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  const lowest = seqs[0];
  if (lowest === undefined) return null;
  const first = bySeq.get(lowest) ?? [];
  if (lowest > 0) {
    f.error(
      'chain-starts-late',
      `the earliest manifest here is chainSeq ${lowest} (${names(first)}); manifests ${range(0, lowest - 1)} ` +
        'are missing: removed (no camera or dock deletes a manifest)',
    );
  }
  const altered = records.filter((r) => r.status === 'bad').length;
  const hint =
    altered === 0 ? '' : ` (${altered} manifest(s) here failed their signature: their chainSeq is untrusted)`;
  let before: number | undefined;
  for (const seq of seqs) {
    const here = bySeq.get(seq) ?? [];
    if (here.length > 1) {
      for (const r of here) {
        f.error(
          'duplicate-seq',
          `chainSeq ${seq} is held by ${here.length} different manifests (${names(here)}): a replayed or forged manifest`,
          { incident: r.dir, segment: r.target },
        );
      }
    }
    if (before !== undefined && seq > before + 1) {
      const prior = bySeq.get(before) ?? [];
      f.error(
        'chain-gap',
        `manifest(s) chainSeq ${range(before + 1, seq - 1)} missing, between ${names(prior)} (chainSeq ${before}) ` +
          `and ${names(here)} (chainSeq ${seq}): evidence was removed${hint}`,
      );
    }
    if (before === seq - 1) checkLinks(here, bySeq.get(before) ?? [], f);
    before = seq;
  }
  return lowest;
}

function checkLinks(here: readonly ManifestRecord[], prior: readonly ManifestRecord[], f: DeviceFindings): void {
  const trustedPrior = prior.filter((p) => p.status !== 'bad');
  if (trustedPrior.length === 0) return;
  for (const r of here) {
    if (r.status === 'bad' || trustedPrior.some((p) => p.hash === r.env.payload.prev)) continue;
    f.error(
      'chain-broken',
      `its prev does not match the manifest at chainSeq ${r.env.payload.chainSeq - 1} (${names(trustedPrior)}): ` +
        'a manifest was replaced, reordered or inserted',
      { incident: r.dir, segment: r.target },
    );
  }
}
