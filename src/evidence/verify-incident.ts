/**
 * One incident directory: every segment file against its manifest (streamed SHA-256 and size), manifests in their
 * place, no segment without a manifest, and the incident complete against its closing manifest.
 */
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256OfFile } from '../lib/fs.ts';
import type { Envelope } from './envelope.ts';
import type { IncidentManifest, SegmentManifest } from './manifest.ts';
import { receiptFileFor, receiptMatches } from './receipt.ts';
import type { DeviceFindings, IncidentResult, SegmentResult, Where } from './report.ts';
import type { IncidentScan, ManifestRecord } from './scan.ts';

/** What an incident check needs to know about the rest of the device. */
export interface IncidentContext {
  f: DeviceFindings;
  /** Lowest chainSeq of the device's manifest chain here, or null when it has none. */
  lowest: number | null;
  /** SHA-256 → segment file of every segment manifest of the device, to name swapped content. */
  contents: ReadonlyMap<string, string>;
  /** The dock's public key, for offload receipts (`dock.pub` beside the device's evidence), or null. */
  dockKey: KeyObject | null;
}

type SegmentRecord = ManifestRecord & { env: Envelope<SegmentManifest> };

function isSegment(r: ManifestRecord): r is SegmentRecord {
  return r.env.payload.kind === 'segment';
}

/** A receipt beside the manifest, signed by the dock for this very segment: the camera deleted it after offload. */
async function offloaded(scan: IncidentScan, r: SegmentRecord, ctx: IncidentContext): Promise<boolean> {
  const name = receiptFileFor(r.file);
  if (ctx.dockKey === null || !scan.files.has(name)) return false;
  let env: unknown;
  try {
    env = JSON.parse(await readFile(path.join(scan.abs, name), 'utf8'));
  } catch {
    return false;
  }
  const p = r.env.payload;
  return receiptMatches(env, ctx.dockKey, {
    kind: 'segment',
    device: p.device,
    incident: p.incident,
    seq: p.segment.seq,
    file: p.segment.file,
    sha256: p.segment.sha256,
    bytes: p.segment.bytes,
  });
}

async function fileIntact(scan: IncidentScan, r: SegmentRecord, ctx: IncidentContext, where: Where) {
  const claimed = r.env.payload.segment;
  if (!scan.files.has(r.file)) {
    if (await offloaded(scan, r, ctx)) {
      ctx.f.note('offloaded', 'offloaded to the dock, which signed a receipt for exactly this segment', where);
      return false;
    }
    ctx.f.error('missing-segment', `the segment file is missing; its manifest is here (${claimed.bytes} bytes)`, where);
    return false;
  }
  let actual: { bytes: number; sha256: string };
  try {
    actual = await sha256OfFile(path.join(scan.abs, r.file));
  } catch (e) {
    ctx.f.error('unreadable', `the segment file cannot be read: ${(e as Error).message}`, where);
    return false;
  }
  if (actual.sha256 === claimed.sha256 && actual.bytes === claimed.bytes) return true;
  const other = ctx.contents.get(actual.sha256);
  if (other !== undefined && other !== r.target) {
    ctx.f.error('hash-mismatch', `it holds the content of ${other}, not its own: segments swapped or replaced`, where);
  } else if (actual.bytes !== claimed.bytes) {
    const how = actual.bytes < claimed.bytes ? 'truncated' : 'extended';
    ctx.f.error('size-mismatch', `${actual.bytes} bytes instead of ${claimed.bytes}: ${how}`, where);
  } else {
    ctx.f.error('hash-mismatch', 'its SHA-256 differs from the manifest (same size): the content was altered', where);
  }
  return false;
}

async function checkSegment(scan: IncidentScan, r: SegmentRecord, ctx: IncidentContext): Promise<SegmentResult> {
  const where = { incident: scan.id, segment: r.target };
  const p = r.env.payload;
  // Another device's manifest is reported as wrong-device; where it claims to belong says nothing more.
  const foreign = r.status === 'foreign';
  let placed = true;
  if (!foreign && p.incident !== scan.id) {
    const what = `segment ${p.segment.seq} of incident ${p.incident}`;
    ctx.f.error('misplaced', `its manifest is for ${what}: moved or inserted from another incident`, where);
    placed = false;
  }
  if (!foreign && p.segment.file !== r.file) {
    ctx.f.error('misplaced', `its manifest describes ${p.segment.file}, not ${r.file}: renamed or reordered`, where);
    placed = false;
  }
  const intact = await fileIntact(scan, r, ctx, where);
  if (p.segment.ending === 'recovered' && (r.status === 'valid' || r.status === 'unchecked')) {
    ctx.f.note('recovered', 'ended at a power loss; kept up to its last sync', where);
  }
  const verified = r.status === 'valid' && placed && intact;
  return { seq: p.segment.seq, file: r.target, ending: p.segment.ending, verified };
}

/** `0–3, 6` */
function ranges(seqs: readonly number[]): string {
  const out: string[] = [];
  let start = seqs[0];
  let prev = start;
  for (const s of [...seqs.slice(1), Number.NaN]) {
    if (start === undefined || prev === undefined) break;
    if (s === prev + 1) {
      prev = s;
      continue;
    }
    out.push(start === prev ? `${start}` : `${start}–${prev}`);
    start = s;
    prev = s;
  }
  return out.join(', ');
}

function reportMissing(
  scan: IncidentScan,
  missing: number[],
  members: SegmentRecord[],
  closing: ManifestRecord | null,
  ctx: IncidentContext,
): void {
  if (missing.length === 0) return;
  const earliest = Math.min(...[...members, ...(closing === null ? [] : [closing])].map((r) => r.env.payload.chainSeq));
  const firstPresent = Math.min(...members.map((r) => r.env.payload.segment.seq));
  // Segments before the first present one, in an incident that begins the chain here, were offloaded earlier.
  const offloaded = ctx.lowest === earliest ? missing.filter((s) => s < firstPresent) : [];
  const lost = missing.filter((s) => !offloaded.includes(s));
  const where = { incident: scan.id, segment: scan.rel };
  if (lost.length > 0) ctx.f.error('incident-incomplete', `segment(s) ${ranges(lost)} missing`, where);
  if (offloaded.length > 0) {
    ctx.f.warn(
      'incident-incomplete',
      `segment(s) ${ranges(offloaded)} are not here; they precede the earliest manifest here (offloaded earlier)`,
      where,
    );
  }
}

function checkAgainstClosing(
  scan: IncidentScan,
  closing: IncidentManifest,
  members: SegmentRecord[],
  ctx: IncidentContext,
): void {
  const listed = closing.segments;
  if (listed.some((s, i) => s.seq !== i)) {
    const seqs = listed.map((s) => s.seq).join(', ');
    ctx.f.error('incident-incomplete', `the closing manifest lists segments ${seqs}, not 0…n−1`, {
      incident: scan.id,
      segment: scan.closing?.target ?? scan.rel,
    });
  }
  const matched = new Set<SegmentRecord>();
  const missing: number[] = [];
  for (const s of listed) {
    const found = members.find((r) => r.hash === s.manifest);
    if (found !== undefined) matched.add(found);
    // An altered manifest is reported as bad-signature; its hash cannot match.
    else if (!members.some((r) => r.status === 'bad' && r.env.payload.segment.seq === s.seq)) missing.push(s.seq);
  }
  reportMissing(scan, missing, members, scan.closing, ctx);
  for (const r of members) {
    if (matched.has(r) || r.status === 'bad') continue;
    ctx.f.error('incident-extra-segment', 'the closing manifest of the incident does not list this segment', {
      incident: scan.id,
      segment: r.target,
    });
  }
}

function checkOpen(scan: IncidentScan, members: SegmentRecord[], ctx: IncidentContext): void {
  if (!scan.hasClosingFile) {
    ctx.f.warn('incident-open', 'no closing manifest: being recorded, or its end was lost', { incident: scan.id });
  }
  const bySeq = new Map<number, SegmentRecord>();
  for (const r of members) {
    const seq = r.env.payload.segment.seq;
    const other = bySeq.get(seq);
    if (other === undefined) bySeq.set(seq, r);
    else if (other.hash !== r.hash && other.status !== 'bad' && r.status !== 'bad') {
      const where = { incident: scan.id, segment: r.target };
      ctx.f.error('duplicate-seq', `segment ${seq} of the incident is also claimed by ${other.target}`, where);
    }
  }
  const top = Math.max(-1, ...bySeq.keys());
  const missing = Array.from({ length: top + 1 }, (_, i) => i).filter((i) => !bySeq.has(i));
  reportMissing(scan, missing, members, null, ctx);
}

/** Checks one incident directory and describes it for the report. */
export async function checkIncident(scan: IncidentScan, ctx: IncidentContext): Promise<IncidentResult> {
  for (const name of scan.work) {
    ctx.f.note('partial', 'a segment being written, or awaiting recovery at start-up: not yet evidence', {
      incident: scan.id,
      segment: `${scan.rel}/${name}`,
    });
  }
  const segments: SegmentResult[] = [];
  const members: SegmentRecord[] = [];
  for (const r of scan.segments) {
    if (!isSegment(r)) {
      const where = { incident: scan.id, segment: r.target };
      ctx.f.error('misplaced', "a segment's manifest file holds an incident's closing manifest", where);
      continue;
    }
    segments.push(await checkSegment(scan, r, ctx));
    // An altered manifest stays a member wherever it claims to belong: its fields cannot be trusted either way.
    if (r.status === 'bad' || (r.status !== 'foreign' && r.env.payload.incident === scan.id)) members.push(r);
  }
  for (const file of scan.segmentFiles) {
    if (scan.manifested.has(file)) continue;
    ctx.f.error('unmanifested', 'a segment file without a manifest: inserted, or its manifest was removed', {
      incident: scan.id,
      segment: `${scan.rel}/${file}`,
    });
  }
  const closing = usableClosing(scan, ctx);
  if (closing === null) checkOpen(scan, members, ctx);
  else if (scan.closing?.status !== 'bad') checkAgainstClosing(scan, closing, members, ctx);
  segments.sort((a, b) => a.seq - b.seq || a.file.localeCompare(b.file));
  return { id: scan.id, ending: closing?.ending ?? 'open', segments };
}

function usableClosing(scan: IncidentScan, ctx: IncidentContext): IncidentManifest | null {
  const r = scan.closing;
  if (r === null || r.status === 'foreign') return null;
  const where = { incident: scan.id, segment: r.target };
  const p = r.env.payload;
  if (p.kind !== 'incident') {
    ctx.f.error('misplaced', "the incident's closing manifest file holds a segment manifest", where);
    return null;
  }
  if (p.incident !== scan.id) {
    ctx.f.error(
      'misplaced',
      `it is the closing manifest of incident ${p.incident}: moved from another incident`,
      where,
    );
    return null;
  }
  return p;
}
