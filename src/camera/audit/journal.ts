import { canonicalJson, sha256Hex } from '../../evidence/canonical.ts';
import { isSubsystemError } from '../../lib/errors.ts';
import { Subscriptions } from '../../lib/event-bus.ts';
import type { Logger } from '../../lib/logger.ts';
import { RELEASE } from '../../lib/version.ts';
import type { CameraBus, CameraEvents } from '../events.ts';
import type { EventAppender } from '../storage/event-log.ts';

export interface JournalOptions {
  bus: CameraBus;
  events: EventAppender;
  logger: Logger;
  /** This start's configuration, and the data of the previous start's `started` entry (null on the first). */
  start: { config: unknown; previous: Record<string, unknown> | null };
}

/**
 * Writes what happened to the device's event log: capture gaps, stops, storage faults (the first of a run and
 * every 30th) and storage levels, activations refused for want of storage, warnings given or suppressed, stealth on,
 * off and refused, speaker and microphone faults (and both back), the clock set or unset, dock changes, what start-up
 * found missing and a signing key the camera made for itself. (Activations are written with their incident row, in one
 * transaction.) Events are
 * evidence metadata but not evidence: when storage is full they go to the log instead, and nothing stops.
 */
export class Journal {
  readonly #o: JournalOptions;
  readonly #subs: Subscriptions<CameraEvents>;
  #incident: string | null = null;

  constructor(options: JournalOptions) {
    this.#o = options;
    this.#subs = new Subscriptions(options.bus);
  }

  async start(): Promise<void> {
    // Every start is logged with the release and a hash of its configuration; a changed one is an entry of its own.
    const configSha256 = sha256Hex(canonicalJson(this.#o.start.config));
    const before = this.#o.start.previous?.['configSha256'];
    this.#append('started', { version: RELEASE, configSha256 }, null);
    if (typeof before === 'string' && before !== configSha256)
      this.#append('config_changed', { from: before, to: configSha256 }, null);
    const s = this.#subs;
    s.on('incident.started', ({ id }) => {
      this.#incident = id;
    });
    s.on('incident.closed', ({ id, reason, stopAtMs }) => {
      if (this.#incident === id) this.#incident = null;
      this.#append('stop', { reason, stopAtMs }, id);
    });
    s.on('capture.gap', (gap) => this.#append('capture_gap', { ...gap }, this.#incident));
    s.on('segment.recovered', ({ incidentId, path, state, bytes }) =>
      this.#append(state === 'lost' ? 'segment_lost' : 'segment_recovered', { path, bytes }, incidentId),
    );
    s.on('storage.fault', ({ code, message, report, incidentId }) => {
      if (report) this.#append('write_failed', { code, message }, incidentId);
    });
    s.on('warning.finished', (w) => {
      const { incidentId, ...outcome } = w;
      this.#append(`warning_${w.state}`, outcome, incidentId);
    });
    s.on('stealth.changed', ({ on, reason }) =>
      this.#append(on ? 'stealth_on' : 'stealth_off', { reason }, this.#incident),
    );
    s.on('stealth.refused', ({ from }) =>
      this.#append('stealth_refused', { from, why: 'not allowed by policy (stealth.allowed)' }, this.#incident),
    );
    let speaker: 'ok' | 'fault' = 'ok';
    s.on('speaker.fault', ({ name, code, message }) => {
      speaker = 'fault';
      this.#append('speaker_fault', { clip: name, code, message }, this.#incident);
    });
    s.on('health.speaker', ({ state, code, message }) => {
      if (state === speaker) return;
      speaker = state;
      this.#append(
        state === 'fault' ? 'speaker_fault' : 'speaker_ok',
        state === 'fault' ? { code, message } : {},
        null,
      );
    });
    s.on('health.microphone', ({ state, device, message }) =>
      this.#append(
        state === 'fault' ? 'microphone_fault' : 'microphone_ok',
        state === 'fault' ? { device, message } : { device },
        this.#incident,
      ),
    );
    let storage: string | null = null;
    s.on('health.storage', ({ level, freeBytes, reserveBytes, minutesLeft }) => {
      if (level === storage) return; // published again after a refusal or an offload: no news
      storage = level;
      this.#append(`storage_${level}`, { freeBytes, reserveBytes, minutesLeft }, null);
    });
    s.on('activation.refused', ({ trigger, reason, freeBytes, reserveBytes }) =>
      this.#append('activation_refused', { trigger, reason, freeBytes, reserveBytes }, null),
    );
    s.on('health.clock', ({ state, source, wallMs }) =>
      this.#append(
        state === 'unset' ? 'clock_unset' : 'clock_ok',
        { source, wall: new Date(wallMs).toISOString() },
        null,
      ),
    );
    // The audit log names every manifest, so removing the newest manifests (which no later link vouches for) shows.
    s.on('manifest.written', ({ chainSeq, hash, kind, file, incidentId }) =>
      this.#append('manifest', { chainSeq, hash, kind, file }, incidentId),
    );
    // Deletions happen only after offload, each recorded with what the dock's receipt vouched for.
    s.on('offload.done', ({ done, file, sha256 }) =>
      this.#append(done === 'segment' ? 'offloaded_deleted' : 'closing_offloaded', { file, sha256 }, null),
    );
    s.on('offload.refused', ({ by, file, reason }) => this.#append('offload_refused', { by, file, reason }, null));
    s.on('clock.offset', ({ offsetMs, roundTripMs, source }) =>
      this.#append('clock_offset', { offsetMs, roundTripMs, source }, null),
    );
    s.on('health.battery', ({ level, percent, volts, changed }) => {
      if (changed) this.#append(`battery_${level}`, { percent, volts }, this.#incident);
    });
    s.on('power.shutdown', ({ reason, command }) =>
      this.#append('shutdown_requested', { reason, command: [...command] }, null),
    );
    s.on('dock.changed', ({ docked }) => {
      this.#append(docked ? 'docked' : 'undocked', {}, null);
      this.#o.logger.info({ docked }, 'dock contact changed');
    });
    // What start-up found missing: the camera records regardless; the technician reads the fix here and in the log.
    s.on('setup.fault', ({ part, message, fix }) => {
      this.#append('setup_fault', { part, message, fix }, null);
      this.#o.logger.warn({ part, fix }, `start-up fault: ${message}`);
    });
    s.on('identity.created', ({ keyId, file }) => {
      this.#append('device_key_created', { keyId, file, confirmedByDock: false }, null);
      this.#o.logger.warn(
        { keyId, file },
        'no device key was there: made one; it is announced to the dock at the next docking for confirmation',
      );
    });
  }

  async stop(): Promise<void> {
    this.#subs.clear();
  }

  #append(kind: string, data: Record<string, unknown>, incidentId: string | null): void {
    try {
      this.#o.events.append(kind, data, incidentId);
    } catch (e) {
      if (!isSubsystemError(e, 'STORAGE')) throw e;
      this.#o.logger.warn({ kind, data, code: e.code }, 'event not indexed: storage unavailable');
    }
  }
}
