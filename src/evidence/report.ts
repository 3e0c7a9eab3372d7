/**
 * What `verifyDirectory` reports: per device the key it checked against and what it found, and a flat list of
 * findings (each naming the device, the incident and the file, relative to the checked root) plus notes.
 */

/**
 * Why a finding was raised. Errors: `bad-signature`, `unknown-key`, `wrong-device`, `chain-gap`, `chain-broken`,
 * `duplicate-seq`, `missing-segment`, `size-mismatch`, `hash-mismatch`, `misplaced`, `unmanifested`,
 * `incident-incomplete`, `incident-extra-segment`, `audit-gap`, `audit-broken`, `audit-malformed`, `malformed`,
 * `unreadable`. Warnings: `chain-starts-late`, `incident-open`, `audit-torn-tail`, `audit-starts-late`,
 * `audit-missing`, `key-not-given`, `device-key-differs`; `incident-incomplete` is a warning when the missing
 * segments precede the earliest manifest present (offloaded earlier, as `chain-starts-late`).
 */
export type FindingCode =
  | 'bad-signature'
  | 'unknown-key'
  | 'wrong-device'
  | 'chain-gap'
  | 'chain-broken'
  | 'duplicate-seq'
  | 'chain-starts-late'
  | 'missing-segment'
  | 'size-mismatch'
  | 'hash-mismatch'
  | 'misplaced'
  | 'unmanifested'
  | 'incident-incomplete'
  | 'incident-extra-segment'
  | 'incident-open'
  | 'audit-gap'
  | 'audit-broken'
  | 'audit-torn-tail'
  | 'audit-starts-late'
  | 'audit-malformed'
  | 'audit-missing'
  | 'malformed'
  | 'unreadable'
  | 'key-not-given'
  | 'device-key-differs';

/** Something wrong (`error`) or worth knowing that may be benign (`warning`), and where. */
export interface Finding {
  severity: 'error' | 'warning';
  device: string;
  incident?: string;
  /** The file concerned (segment, manifest or audit log), relative to the checked root, `/`-separated. */
  segment?: string;
  /** Line in the audit log, for audit findings about one line. */
  line?: number;
  code: FindingCode;
  message: string;
}

/** Information that is not a defect: `recovered` (a segment ended at a power loss), `partial` (being written). */
export interface Note {
  device: string;
  incident?: string;
  segment?: string;
  code: 'recovered' | 'partial' | 'offloaded';
  message: string;
}

/** A segment file described by a manifest in an incident directory. */
export interface SegmentResult {
  seq: number;
  /** Relative to the checked root. */
  file: string;
  ending: 'closed' | 'recovered';
  /** Manifest signed by the device key, in its place, and the file present with its size and SHA-256. */
  verified: boolean;
}

/** An incident directory. */
export interface IncidentResult {
  id: string;
  /** From the closing manifest; `open` when there is none (being recorded, or its closing manifest is lost). */
  ending: 'closed' | 'interrupted' | 'open';
  segments: SegmentResult[];
}

/** One device's evidence and the key it was checked against. */
export interface DeviceResult {
  device: string;
  /**
   * `given`: a key from `options.publicKeys` (proves integrity against anyone without the device key).
   * `directory`: `device.pub` from the checked directory itself (proves integrity against accident only: whoever
   * replaced the evidence could have replaced the key). `none`: no key, signatures unchecked (an error).
   */
  keySource: 'given' | 'directory' | 'none';
  keyId: string | null;
  incidents: IncidentResult[];
  manifests: number;
  auditEntries: number;
}

/** The outcome of `verifyDirectory`. */
export interface VerifyReport {
  /** No finding of severity `error`. */
  ok: boolean;
  root: string;
  devices: DeviceResult[];
  findings: Finding[];
  notes: Note[];
}

/** Where a finding or note points. */
export interface Where {
  incident?: string;
  segment?: string;
  line?: number;
}

/** Collects the findings and notes of one device; the device id may be settled after the first findings. */
export class DeviceFindings {
  device: string;
  readonly #findings: Array<Omit<Finding, 'device'>> = [];
  readonly #notes: Array<Omit<Note, 'device'>> = [];

  constructor(device: string) {
    this.device = device;
  }

  error(code: FindingCode, message: string, where: Where = {}): void {
    this.#findings.push({ severity: 'error', ...where, code, message });
  }

  warn(code: FindingCode, message: string, where: Where = {}): void {
    this.#findings.push({ severity: 'warning', ...where, code, message });
  }

  note(code: Note['code'], message: string, where: Where = {}): void {
    const { line: _line, ...rest } = where;
    this.#notes.push({ ...rest, code, message });
  }

  findings(): Finding[] {
    return this.#findings.map((f) => ({ device: this.device, ...f }));
  }

  notes(): Note[] {
    return this.#notes.map((n) => ({ device: this.device, ...n }));
  }
}

function place(f: { device: string; incident?: string; segment?: string; line?: number }): string {
  const file = f.segment ?? f.incident ?? '';
  return `${f.device}${file === '' ? '' : ` ${file}`}${f.line === undefined ? '' : `:${f.line}`}`;
}

const KEY_SOURCE: Record<DeviceResult['keySource'], string> = {
  given: 'key given by the verifier',
  directory: 'device.pub from the checked directory (proves integrity against accident, not against replacement)',
  none: 'NO KEY: signatures not checked',
};

/** A human-readable report: one line per finding and note, then a summary per device and a verdict. */
export function formatReport(report: VerifyReport): string {
  const out: string[] = [`Evidence check of ${report.root}`];
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
  }
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const warnings = report.findings.length - errors;
  if (report.devices.length === 0) out.push('No device evidence found.');
  out.push(`${report.ok ? 'OK' : 'FAILED'}: ${errors} error(s), ${warnings} warning(s)`);
  return `${out.join('\n')}\n`;
}
