/**
 * Completeness, as far as it can be stated: every manifest the device's audit log names is here (so removing the
 * newest incident shows while its audit entries remain), and nothing is missing or different at or below the heads a
 * dock's signed record vouches for (so removing the newest evidence together with the audit tail shows too, once a
 * dock has seen it). Returns up to where a record proves the chain and the audit log complete.
 */

import { parseFootagePath } from './paths.ts';
import type { DeviceFindings, DeviceResult, ProvenHead } from './report.ts';
import type { AuditResult } from './verify-audit.ts';
import type { Bound, DockingsResult } from './verify-dockings.ts';
import { type ManifestRecord, relJoin } from './walk-incident.ts';

function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}–${to}`;
}

function recordText(b: Bound): string {
  return `the dock recorded it at docking record ${b.record.seq} (${b.record.at}, dock key ${b.record.dockKeyId})`;
}

/** Where a manifest the camera's audit log names (`footage/<incident>/<file>`) sits in this tree. */
function located(file: string, incidentsRel: string): string | undefined {
  const named = parseFootagePath(file);
  return named === null ? undefined : relJoin(incidentsRel, named.incident, named.file);
}

function checkNamed(
  bySeq: ReadonlyMap<number, ManifestRecord[]>,
  audit: AuditResult,
  incidentsRel: string,
  f: DeviceFindings,
): void {
  for (const n of audit.named) {
    const here = bySeq.get(n.chainSeq) ?? [];
    if (here.some((r) => r.hash === n.hash || r.status === 'bad')) continue;
    const what = `the audit log (line ${n.line}) names manifest chainSeq ${n.chainSeq}${n.file === '' ? '' : ` (${n.file})`}`;
    const first = here[0];
    const segment = located(n.file, incidentsRel);
    if (first === undefined) {
      f.error('manifest-missing', `${what}, which is not here: removed`, segment === undefined ? {} : { segment });
    } else {
      const others = here.map((r) => r.target).join(', ');
      f.error('manifest-replaced', `${what}; chainSeq ${n.chainSeq} here is another manifest (${others})`, {
        incident: first.dir,
        segment: first.target,
      });
    }
  }
}

function proven(b: Bound | null, ok: boolean): ProvenHead | null {
  return b === null || !ok ? null : { seq: b.seq, record: b.record };
}

/** The completeness checks of one device (see the module comment). `chained`: its manifests, none foreign. */
export function checkCompleteness(
  auditRel: string,
  incidentsRel: string,
  chained: readonly ManifestRecord[],
  audit: AuditResult,
  dockings: DockingsResult,
  f: DeviceFindings,
): DeviceResult['completeness'] {
  const bySeq = new Map<number, ManifestRecord[]>();
  let top = -1;
  for (const r of chained) {
    const seq = r.env.payload.chainSeq;
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), r]);
    if (r.status !== 'bad' && seq > top) top = seq;
  }
  checkNamed(bySeq, audit, incidentsRel, f);

  let chainOk = true;
  const c = dockings.chain;
  if (c !== null) {
    const atHead = bySeq.get(c.seq) ?? [];
    if (top < c.seq) {
      chainOk = false;
      f.error(
        'below-dock-record',
        `manifests chainSeq ${range(top + 1, c.seq)} are missing; ${recordText(c)}: removed`,
      );
    } else if (!atHead.some((r) => r.hash === c.hash)) {
      chainOk = false;
      const held = atHead.map((r) => r.target).join(', ') || 'none';
      f.error('rolled-back', `the manifest at chainSeq ${c.seq} is not the one ${recordText(c)} (here: ${held})`);
    }
  }
  let auditOk = true;
  const a = dockings.audit;
  if (a !== null) {
    const last = audit.head?.seq ?? -1;
    if (last < a.seq) {
      auditOk = false;
      f.error('below-dock-record', `audit entries ${range(last + 1, a.seq)} are missing; ${recordText(a)}: removed`, {
        segment: auditRel,
      });
    } else if (audit.at.get(a.seq) !== a.hash) {
      auditOk = false;
      f.error('rolled-back', `audit entry ${a.seq} is not the one ${recordText(a)}: the log was rewritten`, {
        segment: auditRel,
      });
    }
  }
  return { chain: proven(c, chainOk), audit: proven(a, auditOk) };
}
