/**
 * Builds real evidence directories with the evidence module's own builders, as a camera would write them, so the
 * verifier tests can tamper with copies.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuditChain, auditLine } from '../../../src/evidence/audit.ts';
import { sha256Hex } from '../../../src/evidence/canonical.ts';
import type { Envelope } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import {
  incidentManifest,
  ManifestChain,
  type ManifestPayload,
  manifestFileText,
  type SegmentManifest,
  segmentManifest,
} from '../../../src/evidence/manifest.ts';
import { AUDIT_LOG, INCIDENT_MANIFEST, manifestFileFor } from '../../../src/evidence/paths.ts';
import type { VerifyReport } from '../../../src/evidence/report.ts';
import type { VerifyOptions } from '../../../src/evidence/verify.ts';

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

  /** `device.pub` in the directory (and, for a camera's storage, the index file that marks that layout). */
  async writeKey(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(path.join(this.dir, 'device.pub'), this.keys.publicPem);
    if (this.incidentsDir !== this.dir) await writeFile(path.join(this.dir, 'index.sqlite'), '');
  }

  /** An incident id of this device, `n` minutes after the builder's start. */
  incident(n: number): string {
    const at = new Date(T0 + n * 60_000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    return `${this.id}-${at}-${n.toString(16).padStart(4, '0')}`;
  }

  /** Appends a segment of `bytes` random bytes to `incident`; returns its envelope (also written to disk). */
  async segment(
    incident: string,
    bytes: number,
    options: { ending?: 'closed' | 'recovered'; write?: boolean; audit?: boolean } = {},
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
    if (options.audit !== false) await this.#named(env, `footage/${incident}/${manifestFileFor(file)}`);
    return env;
  }

  /** The audit entry the camera writes for every manifest (its journal's `manifest` entry). */
  async #named(env: Envelope<ManifestPayload>, file: string): Promise<void> {
    const { chainSeq, kind, incident } = env.payload;
    await this.log('manifest', incident, { chainSeq, hash: this.chain.head?.hash ?? '', kind, file });
  }

  /** Writes the closing manifest of `incident`, listing every segment appended to it. */
  async close(
    incident: string,
    options: { write?: boolean; audit?: boolean } = {},
  ): Promise<Envelope<ManifestPayload>> {
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
    if (options.audit !== false) await this.#named(env, `footage/${incident}/${INCIDENT_MANIFEST}`);
    return env;
  }

  async log(kind: string, incident: string | null = null, data: Record<string, unknown> = {}): Promise<void> {
    const env = this.audit.append({ at: iso(this.#clock), kind, incident, data }, this.privateKey, this.kid);
    await mkdir(this.dir, { recursive: true });
    await appendFile(path.join(this.dir, AUDIT_LOG), auditLine(env));
  }
}

/** Incident ids used by the standard device (of `cam-0042`; `incA(id)` of another device). */
export const incA = (id: string) => `${id}-20260301T100000Z-a1b2`;
export const incB = (id: string) => `${id}-20260301T110000Z-c3d4`;
export const INC_A = incA('cam-0042');
export const INC_B = incB('cam-0042');

/**
 * The standard evidence of one camera: incident A with 3 segments (closed), incident B with 2 segments (closed),
 * thirteen audit entries (six events, and one naming each of the seven manifests), `device.pub`. Segment sizes
 * differ so size and content are told apart. Another device's incident ids carry its own id.
 */
export async function standardDevice(dir: string, layout: 'device' | 'dock' = 'device', id = 'cam-0042') {
  const d = new DeviceBuilder(id, dir, layout);
  const a = incA(id);
  const b = incB(id);
  await d.writeKey();
  await d.log('activation', a, { trigger: 'button' });
  for (const bytes of [3000, 2500, 2000]) await d.segment(a, bytes);
  await d.close(a);
  await d.log('stop', a, { reason: 'officer' });
  await d.log('activation', b, { trigger: 'holster' });
  await d.log('warning_given', b, { languages: ['nl'] });
  for (const bytes of [4000, 1500]) await d.segment(b, bytes);
  await d.close(b);
  await d.log('stop', b, { reason: 'officer' });
  await d.log('docked');
  return d;
}

/** Verifier options giving each builder's public key (as from provisioning records). */
export function keysOf(...devices: DeviceBuilder[]): VerifyOptions {
  return { devices: new Map(devices.map((d) => [d.id, d.publicKey])) };
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
