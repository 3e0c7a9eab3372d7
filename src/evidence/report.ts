/**
 * What `verifyDirectory` reports: the layout it read the path as, the trust anchors it used (never taken from the
 * checked tree), per device the key it checked against, what it found and up to where completeness is proven by a
 * dock's signed record; a flat list of findings (each naming the device, the incident and the file, relative to the
 * evidence root) and notes; and every file it read with its SHA-256.
 */
import type { LayoutKind } from './classify.ts';
import type { FileRead } from './tree-fs.ts';

/**
 * Why a finding was raised. Errors: everything but the warnings below. Warnings: `incident-open` (being recorded,
 * or the newest incident's end not yet written), `audit-torn-tail` (a power cut mid-append), `audit-missing` (at a
 * dock, before the audit log arrived), `lost-found` (an empty one), `dockings-unchecked` (records present, no dock
 * key given), `no-docking-record` (receipts or stored evidence, but no record of a docking).
 */
export type FindingCode =
  | 'unexpected-entry'
  | 'too-many-entries'
  | 'foreign-incident'
  | 'bad-signature'
  | 'unknown-key'
  | 'key-unused'
  | 'device-key-differs'
  | 'dock-key-differs'
  | 'wrong-device'
  | 'chain-gap'
  | 'chain-broken'
  | 'chain-starts-late'
  | 'duplicate-seq'
  | 'missing-segment'
  | 'size-mismatch'
  | 'hash-mismatch'
  | 'misplaced'
  | 'unmanifested'
  | 'incident-incomplete'
  | 'incident-extra-segment'
  | 'incident-open'
  | 'manifest-missing'
  | 'manifest-replaced'
  | 'audit-gap'
  | 'audit-broken'
  | 'audit-starts-late'
  | 'audit-torn-tail'
  | 'audit-malformed'
  | 'audit-missing'
  | 'below-dock-record'
  | 'rolled-back'
  | 'docking-malformed'
  | 'docking-bad-signature'
  | 'docking-gap'
  | 'docking-broken'
  | 'dockings-unchecked'
  | 'no-docking-record'
  | 'lost-found'
  | 'malformed'
  | 'unreadable'
  | 'object-unlocked'
  | 'object-versions'
  | 'custody-log'
  | 'custody-unchecked';

/** Something wrong (`error`) or worth knowing that may be benign (`warning`), and where. */
export interface Finding {
  severity: 'error' | 'warning';
  /** The device concerned; '' for the tree itself (an entry outside any device directory). */
  device: string;
  incident?: string;
  /** The file concerned, relative to the evidence root, `/`-separated. */
  segment?: string;
  /** Line in the audit log or docking records, for findings about one line. */
  line?: number;
  code: FindingCode;
  message: string;
}

/** Information that is not a defect: a segment recovered at a power loss, one being written, one offloaded. */
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
  /** Relative to the evidence root. */
  file: string;
  ending: 'closed' | 'recovered';
  /** Manifest signed by the device's anchor key, in its place, and the file present with its size and SHA-256. */
  verified: boolean;
}

/** An incident directory. */
export interface IncidentResult {
  id: string;
  /** From the closing manifest; `open` when there is none (being recorded, or its closing manifest is lost). */
  ending: 'closed' | 'interrupted' | 'open';
  segments: SegmentResult[];
}

/** A head a dock's signed record vouches for, and which record. */
export interface ProvenHead {
  seq: number;
  record: { seq: number; at: string; dockKeyId: string };
}

/** One device's evidence and the key it was checked against. */
export interface DeviceResult {
  device: string;
  /**
   * `given`: a key given on the command line (from provisioning records). `enrolment`: the dock's enrolment record
   * (`devices/<id>/device.pub` of the dock directory checked). `none`: no trust anchor, nothing proven (an error).
   */
  keySource: 'given' | 'enrolment' | 'none';
  keyId: string | null;
  incidents: IncidentResult[];
  manifests: number;
  auditEntries: number;
  /** Up to where a dock's signed record proves the chain and the audit log complete (null: no record vouches). */
  completeness: { chain: ProvenHead | null; audit: ProvenHead | null };
}

/** A trust anchor the verifier used, and where it came from (never the checked tree). */
export interface AnchorUsed {
  role: 'device' | 'dock';
  device?: string;
  keyId: string;
  source: 'given' | 'enrolment';
  file?: string;
}

/** The outcome of `verifyDirectory`. */
export interface VerifyReport {
  /** No finding of severity `error`. */
  ok: boolean;
  /** The path given. */
  root: string;
  /** What the path was read as, the entries that decided it, and where the evidence is. */
  layout: { kind: LayoutKind; seen: string[]; evidence: string };
  anchors: AnchorUsed[];
  devices: DeviceResult[];
  findings: Finding[];
  notes: Note[];
  /** Every file read, relative to the evidence root, with its size and SHA-256. */
  files: FileRead[];
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
