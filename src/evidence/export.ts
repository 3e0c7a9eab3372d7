/**
 * A custodian's export of one incident: verify the evidence, decrypt every segment in-process with the custodian's
 * age identity, join them into one standard MP4 (moov at the front, so any player starts at once) and write a
 * report beside it: the manifests, the verification result, the pre-roll, the warning, the clock provenance and
 * which segment ended at a power loss. Nothing is written when the identity does not open the segments, and an
 * incident that does not verify is refused unless the custodian insists (the report then says so).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type AgeIdentity, isWrongIdentity, openAgeFile } from '../age/opener.ts';
import type { ProcessRunner } from '../hal/process/port.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import type { Envelope } from './envelope.ts';
import {
  INCIDENT_MANIFEST,
  type IncidentManifest,
  MANIFEST_SUFFIX,
  type ManifestPayload,
  parseManifest,
  type SegmentManifest,
} from './manifest.ts';
import type { Finding, VerifyReport } from './report.ts';
import { verifyDirectory } from './verify.ts';

export interface ExportOptions {
  /** A camera's storage directory or a dock's evidence directory. */
  from: string;
  incident: string;
  out: string;
  identities: readonly AgeIdentity[];
  processes: ProcessRunner;
  verify: Parameters<typeof verifyDirectory>[1];
  /** Export even when the incident does not verify (the report says so). */
  force: boolean;
  ffmpegPath?: string;
}

export interface ExportReport {
  format: 'bodycam-export/1';
  incident: string;
  device: string;
  exportedAt: string;
  output: { file: string; bytes: number; sha256: string };
  verification: { ok: boolean; keySource: string | null; keyId: string | null; findings: Finding[] };
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
  manifests: Array<Envelope<ManifestPayload>>;
}

/** Where an incident's directory is: `footage/<id>` on a camera, `<device>/<id>` at a dock. */
async function incidentDir(root: string, id: string): Promise<string> {
  const candidates = [path.join(root, 'footage', id)];
  for (const e of await readdir(root, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) candidates.push(path.join(root, e.name, id));
  }
  for (const dir of candidates) {
    if ((await readdir(dir).catch(() => null)) !== null) return dir;
  }
  throw new BodycamError(ErrorCode.USAGE, `no incident ${id} under ${root}`, { incident: id });
}

async function manifestsOf(
  dir: string,
): Promise<{ segments: Array<Envelope<SegmentManifest>>; closing: Envelope<IncidentManifest> | null }> {
  const segments: Array<Envelope<SegmentManifest>> = [];
  let closing: Envelope<IncidentManifest> | null = null;
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith(MANIFEST_SUFFIX) && name !== INCIDENT_MANIFEST) continue;
    const env = parseManifest(await readFile(path.join(dir, name), 'utf8'));
    if (env.payload.kind === 'incident') closing = env as Envelope<IncidentManifest>;
    else segments.push(env as Envelope<SegmentManifest>);
  }
  segments.sort((a, b) => a.payload.segment.seq - b.payload.segment.seq);
  return { segments, closing };
}

/** The init segment (ftyp + moov) at the start of a decrypted segment, and where its fragments begin. */
function initOf(mp4: Buffer): Buffer {
  let at = 0;
  for (let i = 0; i < 2 && at + 8 <= mp4.length; i++) at += mp4.readUInt32BE(at);
  return mp4.subarray(0, at);
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
  const report: VerifyReport = await verifyDirectory(o.from, o.verify);
  const dir = await incidentDir(o.from, o.incident);
  const { segments, closing } = await manifestsOf(dir);
  if (segments.length === 0)
    throw new BodycamError(ErrorCode.USAGE, `incident ${o.incident} has no signed segments in ${dir}`);
  const device = segments[0]?.payload.device ?? '';
  const deviceResult = report.devices.find((d) => d.device === device);
  const findings = report.findings.filter(
    (f) => f.incident === undefined || f.incident === o.incident || f.incident.endsWith(`/${o.incident}`),
  );
  const ok = !findings.some((f) => f.severity === 'error');
  if (!ok && !o.force) {
    const lines = findings
      .filter((f) => f.severity === 'error')
      .map((f) => `  ${f.segment ?? f.incident ?? ''}: ${f.code}: ${f.message}`);
    throw new BodycamError(
      ErrorCode.EVIDENCE_FORMAT,
      `incident ${o.incident} does not verify; not exported (--force exports it anyway, marked as such):\n${lines.join('\n')}`,
    );
  }
  const work = await mkdtemp(path.join(os.tmpdir(), 'bodycam-export-'));
  try {
    const joined = path.join(work, 'joined.mp4');
    const out = await open(joined, 'w');
    let init: Buffer | null = null;
    try {
      for (const env of segments) {
        const file = path.join(dir, env.payload.segment.file);
        const parts: Buffer[] = [];
        try {
          for await (const chunk of openAgeFile(file, o.identities)) parts.push(chunk);
        } catch (e) {
          if (isWrongIdentity(e)) {
            throw new BodycamError(
              ErrorCode.AGE_NO_MATCHING_IDENTITY,
              `the identity given does not open ${file}: it is not one of the custodian keys this camera seals to`,
              { file },
            );
          }
          throw e;
        }
        const plain = Buffer.concat(parts);
        const own = initOf(plain);
        if (init !== null && !own.equals(init)) {
          throw new BodycamError(
            ErrorCode.EVIDENCE_FORMAT,
            `segment ${env.payload.segment.file} was captured with other parameters than the first; export it on its own`,
          );
        }
        await out.write(init === null ? plain : plain.subarray(own.length));
        init ??= own;
      }
    } finally {
      await out.close();
    }
    const r = await o.processes.run(
      {
        command: o.ffmpegPath ?? 'ffmpeg',
        args: [
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
        ],
      },
      { timeoutMs: 600_000 },
    );
    if (r.error !== undefined || r.code !== 0) {
      throw new BodycamError(
        ErrorCode.MEDIA_FFMPEG_UNUSABLE,
        `ffmpeg could not write ${o.out}: ${r.stderr.trim() || r.error?.message || `exit ${r.code}`}`,
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const result: ExportReport = {
    format: 'bodycam-export/1',
    incident: o.incident,
    device,
    exportedAt: new Date().toISOString(),
    output: { file: path.resolve(o.out), ...(await sha256File(o.out)) },
    verification: { ok, keySource: deviceResult?.keySource ?? null, keyId: deviceResult?.keyId ?? null, findings },
    preroll: closing?.payload.preroll ?? segments[0]?.payload.preroll ?? null,
    warning: closing?.payload.warning ?? null,
    clock: closing?.payload.clock ?? segments[0]?.payload.clock ?? null,
    ending: closing?.payload.ending ?? 'open',
    segments: segments.map(({ payload: p }) => ({
      seq: p.segment.seq,
      file: p.segment.file,
      sha256: p.segment.sha256,
      bytes: p.segment.bytes,
      endedAtPowerLoss: p.segment.ending === 'recovered',
      media: p.media,
      wall: p.wall,
    })),
    manifests: [...segments, ...(closing === null ? [] : [closing])],
  };
  await writeFile(`${o.out.replace(/\.mp4$/, '')}.json`, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
