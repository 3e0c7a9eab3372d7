/**
 * A custodian's export of one incident. The same walk as `verify` finds and verifies it (scoped to its device: an
 * incident id present under several devices needs `device`); an incident with errors is refused unless the custodian
 * insists (`force`; the report then says so). Only segments whose manifest is signed by the device's trust anchor are
 * exported, in the closing manifest's order: each is decrypted in-process with the custodian's age identity while
 * the very bytes decrypted are hashed, and that hash and the manifest's signature are checked again before ffmpeg
 * writes any output. The MP4 (moov at the front) gets a report beside it: the manifests, the verification, the
 * pre-roll, the warning, the clock provenance, and which segment was cut short (`endedAtPowerLoss`: a power loss, a
 * crash or a write the card failed; the name is the report format's).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AgeIdentity } from '../age/opener.ts';
import type { ProcessRunner } from '../hal/process/port.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { DEVICE_ID, INCIDENT_ID } from '../lib/ids.ts';
import type { GivenKeys } from './anchors.ts';
import { type Envelope, verifySignature } from './envelope.ts';
import { Joiner } from './export-join.ts';
import type { IncidentManifest, ManifestPayload, SegmentManifest } from './manifest.ts';
import { FOOTAGE_DIR } from './paths.ts';
import type { DeviceResult, Finding } from './report.ts';
import { entries } from './tree-fs.ts';
import { type Verified, verifyTree } from './verify.ts';
import { openTree, type Tree } from './walk.ts';
import type { IncidentScan, ManifestRecord } from './walk-incident.ts';

export interface ExportOptions {
  /** A camera directory, a camera's storage directory, a dock directory or a dock's evidence directory. */
  from: string;
  incident: string;
  /** The device whose incident it is, when the id is present under several. */
  device?: string;
  out: string;
  identities: readonly AgeIdentity[];
  processes: ProcessRunner;
  keys: GivenKeys;
  /** Export even when the incident does not verify (the report says so). */
  force: boolean;
  ffmpegPath?: string;
}

export interface ExportReport {
  format: 'bodycam-export/2';
  incident: string;
  device: string;
  exportedAt: string;
  output: { file: string; bytes: number; sha256: string };
  verification: {
    ok: boolean;
    layout: Verified['report']['layout'];
    keySource: DeviceResult['keySource'];
    keyId: string | null;
    completeness: DeviceResult['completeness'] | null;
    findings: Finding[];
  };
  preroll: IncidentManifest['preroll'] | null;
  warning: IncidentManifest['warning'] | null;
  clock: IncidentManifest['clock'] | null;
  ending: IncidentManifest['ending'] | 'open';
  segments: Array<{
    seq: number;
    file: string;
    sha256: string;
    bytes: number;
    endedAtPowerLoss: boolean;
    media: SegmentManifest['media'];
    wall: SegmentManifest['wall'];
  }>;
  /** Segments the incident should hold that were not exported (only with `force`), and why. */
  left: Array<{ seq: number; why: string }>;
  manifests: Array<Envelope<ManifestPayload>>;
}

const usage = (message: string) => new BodycamError(ErrorCode.USAGE, message);

/** The devices of the tree that hold an entry named `incident` where incidents live. */
async function holders(tree: Tree, incident: string): Promise<string[]> {
  const found: string[] = [];
  for (const d of tree.devices) {
    const dir = d.kind === 'camera' ? path.join(d.abs, FOOTAGE_DIR) : d.abs;
    const listed = await entries(dir).catch(() => null);
    if (listed?.names.has(incident) === true) found.push(d.id);
  }
  return found;
}

async function chooseDevice(o: ExportOptions, tree: Tree): Promise<string | undefined> {
  if (o.device !== undefined && !DEVICE_ID.test(o.device))
    throw usage(`--device ${JSON.stringify(o.device)} is not a device id`);
  const found = await holders(tree, o.incident);
  if (tree.layout.kind === 'camera-storage' || tree.layout.kind === 'camera-directory') {
    if (found.length === 0) throw usage(`no incident ${o.incident} under ${tree.layout.evidence}`);
    return o.device;
  }
  const named = o.device === undefined ? found : found.filter((d) => d === o.device);
  if (named.length === 0) {
    const where = o.device === undefined ? tree.layout.evidence : `device ${o.device} in ${tree.layout.evidence}`;
    throw usage(`no incident ${o.incident} under ${where}`);
  }
  if (named.length > 1) {
    throw usage(`incident ${o.incident} is present under devices ${named.join(', ')}: say which with --device`);
  }
  return named[0];
}

function isValid(r: ManifestRecord, device: string, incident: string): boolean {
  const p = r.env.payload;
  return r.status === 'valid' && p.device === device && p.incident === incident;
}

/** The segment manifests to export, in order, and what is left out (only possible with `force`). */
function plan(scan: IncidentScan, device: string) {
  const segments = scan.segments.filter(
    (r): r is ManifestRecord & { env: Envelope<SegmentManifest> } =>
      isValid(r, device, scan.id) && r.env.payload.kind === 'segment' && r.env.payload.segment.file === r.file,
  );
  const closing =
    scan.closing !== null && isValid(scan.closing, device, scan.id) && scan.closing.env.payload.kind === 'incident'
      ? (scan.closing.env as Envelope<IncidentManifest>)
      : null;
  const left: ExportReport['left'] = [];
  let chosen: typeof segments;
  if (closing !== null) {
    chosen = [];
    for (const s of closing.payload.segments) {
      const r = segments.find((x) => x.hash === s.manifest);
      if (r === undefined) left.push({ seq: s.seq, why: 'no valid manifest for it here' });
      else chosen.push(r);
    }
  } else {
    chosen = [...segments].sort((a, b) => a.env.payload.segment.seq - b.env.payload.segment.seq);
    chosen = chosen.filter((r, i) => chosen[i - 1]?.env.payload.segment.seq !== r.env.payload.segment.seq);
  }
  const present = chosen.filter((r) => scan.segmentFiles.has(r.file));
  for (const r of chosen) if (!present.includes(r)) left.push({ seq: r.env.payload.segment.seq, why: 'file not here' });
  return { segments: present, closing, left };
}

async function sha256File(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

export async function exportIncident(o: ExportOptions): Promise<ExportReport> {
  if (!INCIDENT_ID.test(o.incident)) {
    throw usage(`--incident ${JSON.stringify(o.incident)} is not an incident id (DEVICE-YYYYMMDDTHHMMSSZ-xxxx)`);
  }
  const tree = await openTree(o.from);
  const chosenDevice = await chooseDevice(o, tree);
  const verified = await verifyTree(tree, { ...o.keys, ...(chosenDevice === undefined ? {} : { only: chosenDevice }) });
  const [device, entry] = [...verified.walks].find(([id]) => chosenDevice === undefined || id === chosenDevice) ?? [];
  if (device === undefined || entry === undefined) throw usage(`no device ${chosenDevice} in ${o.from}`);
  if (chosenDevice !== undefined && device !== chosenDevice) throw usage(`the evidence in ${o.from} is of ${device}`);
  const { report } = verified;
  const findings = report.findings.filter(
    (f) => (f.device === device || f.device === '') && (f.incident === undefined || f.incident === o.incident),
  );
  const ok = !findings.some((f) => f.severity === 'error');
  if (!ok && !o.force) {
    const lines = findings
      .filter((f) => f.severity === 'error')
      .map((f) => `  ${f.segment ?? f.incident ?? f.device}: ${f.code}: ${f.message}`);
    throw new BodycamError(
      ErrorCode.EVIDENCE_FORMAT,
      `incident ${o.incident} does not verify; not exported (--force exports it anyway, marked as such):\n${lines.join('\n')}`,
    );
  }
  const anchor = entry.anchor;
  if (anchor === null)
    throw usage(`no trust anchor for device ${device}: give --key ${device}=FILE (even with --force)`);
  const scan = entry.walk.incidents.find((s) => s.id === o.incident);
  if (scan === undefined) throw usage(`incident ${o.incident} of ${device} has no directory the walk could read`);
  const { segments, closing, left } = plan(scan, device);
  if (segments.length === 0 || (left.length > 0 && !o.force)) {
    const gone = left.map((l) => `${l.seq} (${l.why})`).join(', ');
    const what = segments.length === 0 ? 'no segment of it is here' : `segment(s) ${gone} are not here`;
    throw usage(
      `incident ${o.incident} of ${device}: ${what}${left.length > 0 && segments.length === 0 ? `: ${gone}` : ''}; ` +
        'a segment offloaded to the dock is exported from the dock (--force exports what is here)',
    );
  }

  const work = await mkdtemp(path.join(os.tmpdir(), 'bodycam-export-'));
  try {
    const joined = path.join(work, 'joined.mp4');
    const out = await open(joined, 'w');
    try {
      const joiner = new Joiner(out, o.identities);
      for (const r of segments) {
        const s = r.env.payload.segment;
        if (!verifySignature(r.env, anchor.key))
          throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `${r.target}: bad signature`);
        const file = scan.segmentFiles.get(r.file);
        if (file === undefined) throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `${r.target}: not here`);
        const read = await joiner.append(file.abs, r.target);
        if (read.sha256 !== s.sha256 || read.bytes !== s.bytes) {
          throw new BodycamError(
            ErrorCode.EVIDENCE_FORMAT,
            `${r.target} changed since it was verified (${read.bytes} bytes, SHA-256 ${read.sha256}; its manifest: ` +
              `${s.bytes} bytes, ${s.sha256}); nothing exported`,
          );
        }
      }
    } finally {
      await out.close();
    }
    const args = [
      '-v',
      'error',
      '-y',
      '-i',
      joined,
      '-map',
      '0',
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      '-f',
      'mp4',
      o.out,
    ];
    const r = await o.processes.run({ command: o.ffmpegPath ?? 'ffmpeg', args }, { timeoutMs: 600_000 });
    if (r.error !== undefined || r.code !== 0) {
      throw new BodycamError(
        ErrorCode.MEDIA_FFMPEG_UNUSABLE,
        `ffmpeg could not write ${o.out}: ${r.stderr.trim() || r.error?.message || `exit ${r.code}`}`,
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const deviceResult = report.devices.find((d) => d.device === device);
  const first = segments[0]?.env.payload;
  const result: ExportReport = {
    format: 'bodycam-export/2',
    incident: o.incident,
    device,
    exportedAt: new Date().toISOString(),
    output: { file: path.resolve(o.out), ...(await sha256File(o.out)) },
    verification: {
      ok,
      layout: report.layout,
      keySource: anchor.source,
      keyId: anchor.id,
      completeness: deviceResult?.completeness ?? null,
      findings,
    },
    preroll: closing?.payload.preroll ?? first?.preroll ?? null,
    warning: closing?.payload.warning ?? null,
    clock: closing?.payload.clock ?? first?.clock ?? null,
    ending: closing?.payload.ending ?? 'open',
    segments: segments.map(({ env: { payload: p } }) => ({
      seq: p.segment.seq,
      file: p.segment.file,
      sha256: p.segment.sha256,
      bytes: p.segment.bytes,
      endedAtPowerLoss: p.segment.ending === 'recovered',
      media: p.media,
      wall: p.wall,
    })),
    left,
    manifests: [...segments.map((r) => r.env), ...(closing === null ? [] : [closing])],
  };
  await writeFile(`${o.out.replace(/\.mp4$/, '')}.json`, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
