/**
 * Evidence of one camera as the dock hands it to its evidence store: signed segment and closing manifests and audit
 * lines, made with the evidence module's own builders, recorded at a chosen time (default: a few minutes ago, so
 * retention dates count from a recent recording).
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AuditChain, auditLine } from '../../src/evidence/audit.ts';
import { sha256Hex } from '../../src/evidence/canonical.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../src/evidence/keys.ts';
import { incidentManifest, ManifestChain, manifestFileText, segmentManifest } from '../../src/evidence/manifest.ts';

export interface RecordedSegment {
  file: string;
  bytes: Buffer;
  manifestText: string;
}

export interface Recording {
  device: string;
  incident: string;
  publicPem: string;
  segments: RecordedSegment[];
  closingText: string;
  /** Audit lines (each ending in a newline) for entries 0…n−1. */
  auditLines: string[];
}

export interface RecordingOptions {
  device?: string;
  /** Bytes of each segment (random). */
  sizes?: number[];
  /** When the incident began (ms; default five minutes ago). */
  startMs?: number;
  /** The camera's clock source (default ntp). */
  clock?: 'rtc' | 'ntp' | 'dock' | 'system' | 'unset';
  auditEntries?: number;
}

export function makeRecording(o: RecordingOptions = {}): Recording {
  const device = o.device ?? 'cam-0042';
  const start = o.startMs ?? Date.now() - 5 * 60_000;
  const iso = (ms: number) => new Date(start + ms).toISOString();
  const stamp = new Date(start)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const incident = `${device}-${stamp}-a1b2`;
  const keys = generateDeviceKeys();
  const privateKey = loadPrivateKey(keys.privatePem);
  const kid = keyId(loadPublicKey(keys.publicPem));
  const chain = new ManifestChain(null);
  const clock = { source: o.clock ?? 'ntp', offsetMs: o.clock === 'unset' ? null : 3 } as const;
  const retention = { policeAccessDays: 30, maxMonths: 12 };
  const segments: RecordedSegment[] = [];
  const hashes: string[] = [];
  (o.sizes ?? [3000, 2000]).forEach((size, seq) => {
    const bytes = randomBytes(size);
    const file = `${String(seq).padStart(4, '0')}.mp4.age`;
    const env = chain.append(
      segmentManifest({
        device,
        incident,
        segment: { seq, file, sha256: sha256Hex(bytes), bytes: size, ending: 'closed' },
        media: { firstMs: seq * 60_000, endMs: (seq + 1) * 60_000, frames: 1800, fragments: 60 },
        wall: { first: iso(seq * 60_000), end: iso((seq + 1) * 60_000) },
        preroll: seq === 0 ? { requestedMs: 30_000, actualMs: 30_500, firstKeyframeOffsetMs: 0 } : null,
        clock,
        retention,
        signedAt: iso((seq + 1) * 60_000),
      }),
      privateKey,
      kid,
    );
    hashes.push(chain.head?.hash ?? '');
    segments.push({ file, bytes, manifestText: manifestFileText(env) });
  });
  const end = segments.length * 60_000;
  const closing = chain.append(
    incidentManifest({
      device,
      incident,
      ending: 'closed',
      trigger: 'button',
      activatedAt: iso(0),
      stoppedAt: iso(end),
      stopReason: 'officer',
      segments: hashes.map((manifest, seq) => ({ seq, manifest })),
      preroll: { requestedMs: 30_000, actualMs: 30_500, firstKeyframeOffsetMs: 0 },
      warning: { state: 'given', reason: null, startedMediaMs: 30_600, durationMs: 4200, languages: ['nl'] },
      clock,
      retention,
      signedAt: iso(end),
    }),
    privateKey,
    kid,
  );
  const audit = new AuditChain(null);
  const auditLines = Array.from({ length: o.auditEntries ?? 3 }, (_, i) =>
    auditLine(audit.append({ at: iso(i * 1000), kind: 'note', incident, data: { i } }, privateKey, kid)),
  );
  return { device, incident, publicPem: keys.publicPem, segments, closingText: manifestFileText(closing), auditLines };
}

/** Writes a segment's bytes to a file in `dir` (the dock's incoming file the store takes over). */
export async function incomingFile(dir: string, seg: RecordedSegment): Promise<string> {
  const file = path.join(dir, `${seg.file}.part`);
  await writeFile(file, seg.bytes);
  return file;
}
