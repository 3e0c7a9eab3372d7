/**
 * One incident directory: every segment file against its manifest (streamed SHA-256 and size), manifests in their
 * place, no segment without a manifest, and the incident complete against its closing manifest. A segment file that
 * is gone counts only when a receipt signed by an anchored dock key vouches for exactly it.
 */
import { createHash } from 'node:crypto';
import { errnoCode } from '../lib/errors.ts';
import type { Anchor } from './anchors.ts';
import type { Envelope } from './envelope.ts';
import type { IncidentManifest, SegmentManifest } from './manifest.ts';
import { receiptMatches } from './receipt.ts';
import type { DeviceFindings, IncidentResult, SegmentResult, Where } from './report.ts';
import { type FileRead, openFile } from './tree-fs.ts';
import type { IncidentScan, ManifestRecord } from './walk-incident.ts';

/** What an incident check needs to know about the rest of the device. */
export interface IncidentContext {
  f: DeviceFindings;
  /** SHA-256 → segment file of every segment manifest of the device, to name swapped content. */
  contents: ReadonlyMap<string, string>;
  /** Anchored dock keys, for offload receipts. */
  docks: readonly Anchor[];
  /** Every file read, with its hash. */
  files: FileRead[];
}

type SegmentRecord = ManifestRecord & { env: Envelope<SegmentManifest> };

function isSegment(r: ManifestRecord): r is SegmentRecord {
  return r.env.payload.kind === 'segment';
}

/** `0–3, 6` */
export function ranges(seqs: readonly number[]): string {
  const out: string[] = [];
  let start: number | undefined;
  let prev: number | undefined;
  for (const s of [...seqs, Number.NaN]) {
    if (start !== undefined && prev !== undefined && s === prev + 1) {
      prev = s;
      continue;
    }
    if (start !== undefined && prev !== undefined) out.push(start === prev ? `${start}` : `${start}–${prev}`);
    start = s;
    prev = s;
  }
  return out.join(', ');
}

/** The gaps below and between `present` (sorted, distinct, ≥ 0) as ranges, without allocating by their values. */
export function gaps(present: readonly number[]): string[] {
  const out: string[] = [];
  let expect = 0;
  for (const s of present) {
    if (s > expect) out.push(s - 1 === expect ? `${expect}` : `${expect}–${s - 1}`);
    expect = s + 1;
  }
  return out;
}

/** Whether the receipt beside a missing segment is signed by an anchored dock for exactly it; or why not. */
function offloaded(scan: IncidentScan, r: SegmentRecord, ctx: IncidentContext): true | string {
  const receipt = scan.receipts.get(r.file);
  if (receipt === undefined) return 'no receipt is here';
  if (ctx.docks.length === 0) return 'a receipt is here, but no dock key was given to check it (--dock-key)';
  const p = r.env.payload;
  const expected = {
    kind: 'segment' as const,
    device: p.device,
    incident: p.incident,
    seq: p.segment.seq,
    file: p.segment.file,
    sha256: p.segment.sha256,
    bytes: p.segment.bytes,
  };
  if (ctx.docks.some((d) => receiptMatches(receipt.env, d.key, expected))) return true;
  return 'the receipt here is not signed by the given dock key for exactly this segment';
}

/** Streams a segment file, hashing it (recorded in `ctx.files`). */
async function hashSegment(abs: string, rel: string, ctx: IncidentContext): Promise<{ bytes: number; sha256: string }> {
  const { fh } = await openFile(abs);
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    const read = { bytes, sha256: hash.digest('hex') };
    ctx.files.push({ file: rel, ...read });
    return read;
  } finally {
    await fh.close();
  }
}

async function fileIntact(scan: IncidentScan, r: SegmentRecord, ctx: IncidentContext, where: Where) {
  const claimed = r.env.payload.segment;
  const file = scan.segmentFiles.get(r.file);
  if (file === undefined) {
    const why = offloaded(scan, r, ctx);
    if (why === true) {
      ctx.f.note('offloaded', 'offloaded to the dock, which signed a receipt for exactly this segment', where);
      return false;
    }
    ctx.f.error('missing-segment', `the segment file is missing (${claimed.bytes} bytes); ${why}`, where);
    return false;
  }
  let actual: { bytes: number; sha256: string };
  try {
    actual = await hashSegment(file.abs, file.rel, ctx);
  } catch (e) {
    ctx.f.error('unreadable', `the segment file cannot be read (${errnoCode(e) ?? (e as Error).message})`, where);
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
    ctx.f.note(
      'recovered',
      "cut short (a power loss, a crash or a write the card failed; the device's event log says which); kept up to its last sync",
      where,
    );
  }
  const verified = r.status === 'valid' && placed && intact;
  return { seq: p.segment.seq, file: r.target, ending: p.segment.ending, verified };
}

function checkAgainstClosing(
  scan: IncidentScan,
  closing: IncidentManifest,
  members: SegmentRecord[],
  ctx: IncidentContext,
): void {
  const listed = closing.segments;
  if (listed.some((s, i) => s.seq !== i)) {
    ctx.f.error('incident-incomplete', 'the closing manifest does not list segments 0…n−1 in order', {
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
  if (missing.length > 0) {
    ctx.f.error('incident-incomplete', `segment(s) ${ranges(missing)} missing`, {
      incident: scan.id,
      segment: scan.rel,
    });
  }
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
  const missing = gaps([...bySeq.keys()].sort((a, b) => a - b));
  if (missing.length > 0) {
    const where = { incident: scan.id, segment: scan.rel };
    ctx.f.error('incident-incomplete', `segment(s) ${missing.join(', ')} missing`, where);
  }
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

/** Checks one incident directory and describes it for the report. */
export async function checkIncident(scan: IncidentScan, ctx: IncidentContext): Promise<IncidentResult> {
  for (const name of scan.work) {
    ctx.f.note('partial', 'a file being written, or awaiting recovery at start-up: not yet evidence', {
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
  for (const [file, ref] of scan.segmentFiles) {
    if (scan.manifested.has(file)) continue;
    ctx.f.error('unmanifested', 'a segment file without a manifest: inserted, or its manifest was removed', {
      incident: scan.id,
      segment: ref.rel,
    });
  }
  const closing = usableClosing(scan, ctx);
  if (closing === null) checkOpen(scan, members, ctx);
  else if (scan.closing?.status !== 'bad') checkAgainstClosing(scan, closing, members, ctx);
  segments.sort((a, b) => a.seq - b.seq || a.file.localeCompare(b.file));
  return { id: scan.id, ending: closing?.ending ?? 'open', segments };
}
