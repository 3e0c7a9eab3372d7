/**
 * Builds real evidence directories with the evidence module's own builders, as a camera would write them, so the
 * verifier tests can tamper with copies.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AUDIT_LOG, AuditChain, auditLine } from '../../../src/evidence/audit.ts';
import { sha256Hex } from '../../../src/evidence/canonical.ts';
import type { Envelope } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import {
  INCIDENT_MANIFEST,
  incidentManifest,
  ManifestChain,
  type ManifestPayload,
  manifestFileFor,
  manifestFileText,
  type SegmentManifest,
  segmentManifest,
} from '../../../src/evidence/manifest.ts';
import type { VerifyReport } from '../../../src/evidence/report.ts';

const created: string[] = [];

/** A new temporary directory, removed by `removeTempDirs`. */
export async function tempDir(prefix = 'evidence-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every directory `tempDir` made (call from `afterAll`). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

/** A camera's identity and chains; writes into `dir`, with incidents under `footage/` or directly (dock layout). */
export class DeviceBuilder {
  readonly id: string;
  readonly dir: string;
  readonly incidentsDir: string;
  readonly keys = generateDeviceKeys();
  readonly privateKey = loadPrivateKey(this.keys.privatePem);
  readonly publicKey = loadPublicKey(this.keys.publicPem);
  readonly kid = keyId(this.publicKey);
  readonly chain = new ManifestChain(null);
  readonly audit = new AuditChain(null);
  /** Manifest envelope hashes of each incident's segments, in order. */
  readonly #segments = new Map<string, string[]>();
  #clock = 0;

  constructor(id: string, dir: string, layout: 'device' | 'dock' = 'device') {
    this.id = id;
    this.dir = dir;
    this.incidentsDir = layout === 'device' ? path.join(dir, 'footage') : dir;
  }

  async writeKey(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(path.join(this.dir, 'device.pub'), this.keys.publicPem);
  }

  /** Appends a segment of `bytes` random bytes to `incident`; returns its envelope (also written to disk). */
  async segment(
    incident: string,
    bytes: number,
    options: { ending?: 'closed' | 'recovered'; write?: boolean } = {},
  ): Promise<Envelope<SegmentManifest>> {
    const list = this.#segments.get(incident) ?? [];
    const seq = list.length;
    const file = `${String(seq).padStart(4, '0')}.mp4.age`;
    const data = randomBytes(bytes);
    const start = this.#clock;
    this.#clock += 2000;
    const env = this.chain.append(
      segmentManifest({
        device: this.id,
        incident,
        segment: { seq, file, sha256: sha256Hex(data), bytes, ending: options.ending ?? 'closed' },
        media: { firstMs: start, endMs: this.#clock, frames: 60, fragments: 2 },
        wall: { first: iso(start), end: iso(this.#clock) },
        preroll: seq === 0 ? { requestedMs: 30_000, actualMs: 30_500, firstKeyframeOffsetMs: 0 } : null,
        clock: { source: 'ntp', offsetMs: 3 },
        retention: { policeAccessDays: 30, maxMonths: 12 },
        signedAt: iso(this.#clock),
      }),
      this.privateKey,
      this.kid,
    );
    list.push(this.chain.head?.hash ?? '');
    this.#segments.set(incident, list);
    if (options.write !== false) {
      const dir = path.join(this.incidentsDir, incident);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, file), data);
      await writeFile(path.join(dir, manifestFileFor(file)), manifestFileText(env));
    }
    return env;
  }

  /** Writes the closing manifest of `incident`, listing every segment appended to it. */
  async close(incident: string, options: { write?: boolean } = {}): Promise<Envelope<ManifestPayload>> {
    const env = this.chain.append(
      incidentManifest({
        device: this.id,
        incident,
        ending: 'closed',
        trigger: 'button',
        activatedAt: iso(0),
        stoppedAt: iso(this.#clock),
        stopReason: 'officer',
        segments: (this.#segments.get(incident) ?? []).map((manifest, seq) => ({ seq, manifest })),
        preroll: { requestedMs: 30_000, actualMs: 30_500, firstKeyframeOffsetMs: 0 },
        warning: { state: 'given', reason: null, startedMediaMs: 30_600, durationMs: 4200, languages: ['nl', 'fr'] },
        clock: { source: 'ntp', offsetMs: 3 },
        retention: { policeAccessDays: 30, maxMonths: 12 },
        signedAt: iso(this.#clock),
      }),
      this.privateKey,
      this.kid,
    );
    if (options.write !== false) {
      const dir = path.join(this.incidentsDir, incident);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, INCIDENT_MANIFEST), manifestFileText(env));
    }
    return env;
  }

  async log(kind: string, incident: string | null = null, data: Record<string, unknown> = {}): Promise<void> {
    const env = this.audit.append({ at: iso(this.#clock), kind, incident, data }, this.privateKey, this.kid);
    await mkdir(this.dir, { recursive: true });
    await appendFile(path.join(this.dir, AUDIT_LOG), auditLine(env));
  }
}

/** Incident ids used by the standard device. */
export const INC_A = 'cam-0042-20260301T100000Z-a1b2';
export const INC_B = 'cam-0042-20260301T110000Z-c3d4';

/**
 * The standard evidence of one camera: incident A with 3 segments (closed), incident B with 2 segments (closed),
 * six audit entries, `device.pub`. Segment sizes differ so size and content are told apart.
 */
export async function standardDevice(dir: string, layout: 'device' | 'dock' = 'device', id = 'cam-0042') {
  const d = new DeviceBuilder(id, dir, layout);
  await d.writeKey();
  await d.log('activation', INC_A, { trigger: 'button' });
  for (const bytes of [3000, 2500, 2000]) await d.segment(INC_A, bytes);
  await d.close(INC_A);
  await d.log('stop', INC_A, { reason: 'officer' });
  await d.log('activation', INC_B, { trigger: 'holster' });
  await d.log('warning_given', INC_B, { languages: ['nl'] });
  for (const bytes of [4000, 1500]) await d.segment(INC_B, bytes);
  await d.close(INC_B);
  await d.log('stop', INC_B, { reason: 'officer' });
  await d.log('docked');
  return d;
}

/** Findings as `severity code file` strings, sorted: compact to compare whole reports. */
export function summary(report: VerifyReport): string[] {
  return report.findings
    .map((f) => `${f.severity} ${f.code} ${f.segment ?? f.incident ?? '-'}${f.line === undefined ? '' : `:${f.line}`}`)
    .sort();
}

/** Path of a segment of the standard device, relative to the root (device layout). */
export function seg(incident: string, seq: number): string {
  return `footage/${incident}/${String(seq).padStart(4, '0')}.mp4.age`;
}
