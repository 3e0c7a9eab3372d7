/** The verifier's report as text for a person: what was read and how, each finding, each device, a verdict. */
import type { DeviceResult, ProvenHead, VerifyReport } from './report.ts';

const LAYOUT: Record<VerifyReport['layout']['kind'], string> = {
  'camera-directory': 'a camera directory',
  'camera-storage': "a camera's storage directory",
  'dock-directory': 'a dock directory',
  'dock-evidence': "a dock's evidence directory",
};

const KEY_SOURCE: Record<DeviceResult['keySource'], string> = {
  given: 'key given by the verifier',
  enrolment: "key from the dock's enrolment record",
  none: 'NO TRUST ANCHOR: nothing proven',
};

function place(f: { device: string; incident?: string; segment?: string; line?: number }): string {
  const file = f.segment ?? f.incident ?? '';
  const where = [f.device, file].filter((s) => s !== '').join(' ') || '(tree)';
  return `${where}${f.line === undefined ? '' : `:${f.line}`}`;
}

function head(what: string, h: ProvenHead | null): string {
  if (h === null) return `${what}: not vouched for by any dock record`;
  return `${what} 0–${h.seq} (docking record ${h.record.seq}, ${h.record.at}, dock key ${h.record.dockKeyId})`;
}

function completeness(d: DeviceResult): string {
  const { chain, audit } = d.completeness;
  if (chain === null && audit === null) {
    return '  completeness: no dock record vouches for it; beyond the chain itself it rests on the audit log on this medium';
  }
  return `  complete up to: ${head('manifests', chain)}; ${head('audit entries', audit)}; anything newer rests on this medium's own audit log`;
}

/** A human-readable report: the layout read, one line per finding and note, each device, and a verdict. */
export function formatReport(report: VerifyReport): string {
  const { layout } = report;
  const evidence = layout.evidence === report.root ? '' : `; evidence in ${layout.evidence}`;
  const out: string[] = [
    `Evidence check of ${report.root}`,
    `Read as ${LAYOUT[layout.kind]} (${layout.seen.join(', ')})${evidence}; ${report.files.length} file(s) read`,
  ];
  for (const a of report.anchors) {
    const whose = a.role === 'dock' ? 'dock key' : `device key of ${a.device}`;
    out.push(`anchor  ${whose} ${a.keyId} (${a.source === 'given' ? 'given' : `enrolment record ${a.file ?? ''}`})`);
  }
  for (const f of report.findings) {
    out.push(`${f.severity === 'error' ? 'ERROR  ' : 'WARNING'} ${place(f)}: ${f.code}: ${f.message}`);
  }
  for (const n of report.notes) out.push(`note    ${place(n)}: ${n.code}: ${n.message}`);
  for (const d of report.devices) {
    const segments = d.incidents.flatMap((i) => i.segments);
    const verified = segments.filter((s) => s.verified).length;
    const open = d.incidents.filter((i) => i.ending === 'open').length;
    out.push(
      `${d.device}: ${KEY_SOURCE[d.keySource]}${d.keyId === null ? '' : ` [key ${d.keyId}]`}; ` +
        `${d.incidents.length} incident(s) (${open} open), ${verified} of ${segments.length} segment(s) verified, ` +
        `${d.manifests} manifest(s), ${d.auditEntries} audit entr${d.auditEntries === 1 ? 'y' : 'ies'}`,
    );
    out.push(completeness(d));
  }
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.length - errors;
  if (report.devices.length === 0) out.push('No device evidence found.');
  out.push(`${report.ok ? 'OK' : 'FAILED'}: ${errors} error(s), ${warnings} warning(s)`);
  return `${out.join('\n')}\n`;
}
