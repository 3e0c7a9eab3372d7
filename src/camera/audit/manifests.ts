/**
 * Signs a manifest for every segment once it is sealed (or recovered after a power loss) and a closing manifest for
 * every incident once it is closed and its warning settled, all on the device's one manifest chain
 * (src/evidence/manifest.ts). Works from the index, not from event payloads: each pass writes whatever is due, so
 * what a crash left undone (and evidence recorded before this release) is signed at the next start.
 */
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { envelopeHash } from '../../evidence/envelope.ts';
import {
  type ClockInfo,
  incidentManifest,
  ManifestChain,
  type ManifestPayload,
  manifestFileText,
  type Preroll,
  type Retention,
  segmentManifest,
  type Unchained,
  type WarningInfo,
} from '../../evidence/manifest.ts';
import { closingManifestFile, incidentDir, manifestFileFor, tmpFileFor } from '../../evidence/paths.ts';
import { isSubsystemError } from '../../lib/errors.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import { fsyncParent, storageError, writeFileDurably } from '../../lib/fs.ts';
import type { Logger } from '../../lib/logger.ts';
import { SerialQueue } from '../../lib/serial.ts';
import type { CameraBus, CameraEvents } from '../events.ts';
import type { DeviceIdentity } from '../identity.ts';
import type { IncidentRow, Incidents } from '../storage/incidents.ts';
import type { Manifests } from '../storage/manifests.ts';
import type { SegmentRow, Segments } from '../storage/segments.ts';

export interface ManifestWriterOptions {
  bus: CameraBus;
  incidents: Incidents;
  segments: Segments;
  manifests: Manifests;
  storageDir: string;
  device: string;
  identity: DeviceIdentity;
  retention: Retention;
  /** Media ms per wall ms of the capture (1 on a camera), to place media times on the wall clock. */
  speed: number;
  wallNow: () => number;
  logger: Logger;
  /** An unexpected failure (a bug, not storage): counted in the status's internal errors. */
  onInternalError?: (e: unknown) => void;
}

export class ManifestWriter {
  readonly #o: ManifestWriterOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #clock: ClockInfo = { source: 'unset', offsetMs: null };
  readonly #queue = new SerialQueue();
  #stopping = false;

  constructor(options: ManifestWriterOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  async start(): Promise<void> {
    this.#subs.on('health.clock', ({ source }) => {
      this.#clock = { ...this.#clock, source };
    });
    this.#subs.on('clock.offset', ({ offsetMs }) => {
      this.#clock = { ...this.#clock, offsetMs };
    });
    for (const e of ['segment.sealed', 'segment.recovered', 'incident.closed', 'warning.finished'] as const)
      this.#subs.on(e, () => this.sign());
    this.sign();
    await this.#queue.idle();
  }

  /** Writes what is still due (incidents closed by the stop get their closing manifest even mid-warning). */
  async stop(): Promise<void> {
    this.#subs.clear();
    this.#stopping = true;
    this.sign();
    await this.#queue.idle();
  }

  /** Queues a pass over the index; passes run one at a time. */
  sign(): void {
    // The queue stays usable whatever failed: the next pass (next segment, or the next start) tries again.
    this.#queue.push(
      () => this.#pass(),
      (e) => {
        if (isSubsystemError(e, 'STORAGE')) {
          this.#o.logger.error(
            { code: e.code, message: e.message },
            'manifest not written; retried at the next segment or start',
          );
        } else {
          this.#o.logger.error({ err: e }, 'signing manifests failed (internal error); retried at the next segment');
          this.#o.onInternalError?.(e);
        }
      },
    );
  }

  async #pass(): Promise<void> {
    const { incidents, segments, manifests } = this.#o;
    for (const id of manifests.incidentsOpenInChain()) {
      const inc = incidents.get(id);
      if (inc === undefined) continue;
      const rows = segments.ofIncident(id);
      const signed = new Map(
        manifests
          .ofIncident(id)
          .filter((m) => m.kind === 'segment')
          .map((m) => [m.segmentSeq, m.hash]),
      );
      let waiting = false;
      for (const seg of rows) {
        if (seg.state === 'open') waiting = true; // being written, or a recovery that failed: later segments wait
        if (waiting || seg.state === 'lost' || signed.has(seg.seq)) continue;
        signed.set(seg.seq, await this.#write(this.#segmentPayload(inc, seg), seg));
      }
      const warningSettled = inc.warningState !== 'pending' || inc.state === 'interrupted' || this.#stopping;
      if (!waiting && inc.state !== 'recording' && warningSettled) {
        const list = rows
          .filter((s) => signed.has(s.seq))
          .map((s) => ({ seq: s.seq, manifest: signed.get(s.seq) ?? '' }));
        await this.#write(this.#incidentPayload(inc, list), null);
      }
    }
  }

  async #write(payload: Unchained<ManifestPayload>, seg: SegmentRow | null): Promise<string> {
    const { identity, storageDir, manifests } = this.#o;
    const env = new ManifestChain(manifests.head()).append(payload, identity.privateKey, identity.keyId);
    const file =
      seg === null ? closingManifestFile(incidentDir(storageDir, payload.incident)) : manifestFileFor(seg.path);
    const tmp = tmpFileFor(file);
    await writeFileDurably(tmp, Buffer.from(manifestFileText(env)));
    try {
      await rename(tmp, file);
    } catch (e) {
      throw storageError(e, file, 'renaming to');
    }
    await fsyncParent(file);
    const hash = envelopeHash(env);
    const relative = path.relative(storageDir, file);
    const { chainSeq, kind, incident } = env.payload;
    manifests.add({
      chainSeq,
      kind,
      incidentId: incident,
      segmentSeq: seg?.seq ?? null,
      file: relative,
      hash,
      signedAt: env.payload.signedAt,
    });
    this.#o.bus.emit('manifest.written', { chainSeq, hash, kind, incidentId: incident, file: relative });
    return hash;
  }

  #preroll(inc: IncidentRow): Preroll {
    const actualMs = Math.round(inc.prerollActualMs);
    return {
      requestedMs: inc.prerollRequestedMs,
      actualMs,
      firstKeyframeOffsetMs: Math.max(0, actualMs - inc.prerollRequestedMs),
    };
  }

  /** A capture-timeline position as wall-clock time, through the activation (the one point known on both). */
  #wallAt(inc: IncidentRow, mediaMs: number): string {
    return new Date(Date.parse(inc.activatedAt) + (mediaMs - inc.activationMediaMs) / this.#o.speed).toISOString();
  }

  #segmentPayload(inc: IncidentRow, seg: SegmentRow): Unchained<ManifestPayload> {
    return segmentManifest({
      device: this.#o.device,
      incident: inc.id,
      segment: {
        seq: seg.seq,
        file: path.basename(seg.path),
        sha256: seg.sha256 ?? '',
        bytes: seg.bytes,
        ending: seg.state === 'recovered' ? 'recovered' : 'closed',
      },
      media: { firstMs: seg.firstMediaMs, endMs: seg.endMediaMs, frames: seg.frames, fragments: seg.fragments },
      wall: { first: this.#wallAt(inc, seg.firstMediaMs), end: this.#wallAt(inc, seg.endMediaMs) },
      preroll: seg.seq === 0 ? this.#preroll(inc) : null,
      clock: { ...this.#clock },
      retention: this.#o.retention,
      signedAt: new Date(this.#o.wallNow()).toISOString(),
    });
  }

  #incidentPayload(inc: IncidentRow, segments: Array<{ seq: number; manifest: string }>): Unchained<ManifestPayload> {
    const warning: WarningInfo = {
      state: inc.warningState === null ? 'unknown' : inc.warningState === 'pending' ? 'unknown' : inc.warningState,
      reason: inc.warningReason,
      startedMediaMs: inc.warningStartedMediaMs,
      durationMs: inc.warningDurationMs,
      languages: inc.warningLanguages === null ? [] : (JSON.parse(inc.warningLanguages) as string[]),
    };
    return incidentManifest({
      device: this.#o.device,
      incident: inc.id,
      ending: inc.state === 'interrupted' ? 'interrupted' : 'closed',
      trigger: inc.trigger,
      activatedAt: inc.activatedAt,
      stoppedAt: inc.stoppedAt,
      stopReason: inc.stopReason,
      segments,
      preroll: this.#preroll(inc),
      warning,
      clock: { ...this.#clock },
      retention: this.#o.retention,
      signedAt: new Date(this.#o.wallNow()).toISOString(),
    });
  }
}
