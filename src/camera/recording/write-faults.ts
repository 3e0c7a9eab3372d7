import { lstat } from 'node:fs/promises';
import { partialFileFor } from '../../evidence/paths.ts';
import { errnoCode, isBodycamError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import type { CameraBus } from '../events.ts';
import type { SegmentStore } from '../storage/segments.ts';
import { finishInterrupted } from './segments/recover-file.ts';
import { FailureRuns } from './state.ts';
import type { OpenSegment } from './types.ts';

export interface WriteFaultsOptions {
  bus: CameraBus;
  segments: SegmentStore;
  logger: Logger;
}

/**
 * The recorder's failed writes: each is published (`storage.fault`, so the officer is told) and a run of the same
 * error is logged once per 30; a segment whose writer broke is given up and finished at once (docs/design.md §7).
 */
export class WriteFaults {
  readonly #o: WriteFaultsOptions;
  readonly #runs = new FailureRuns();

  constructor(options: WriteFaultsOptions) {
    this.#o = options;
  }

  get total(): number {
    return this.#runs.total;
  }

  report(e: unknown, incidentId: string | null): void {
    const code = isBodycamError(e) ? e.code : (errnoCode(e) ?? 'unknown');
    const { run, report } = this.#runs.add(code);
    const message = (e as Error).message;
    if (report) {
      this.#o.logger.error(
        { code, message, repeated: run - 1 },
        'writing footage failed; the segment keeps what was synced',
      );
    }
    this.#o.bus.emit('storage.fault', { code, message, run, report, incidentId });
  }

  /**
   * A segment file that could not be created. When nothing of it is on the card (neither the file nor its `.partial`),
   * its row is removed and true returned: the next keyframe's attempt then takes the same seq, and a card that
   * refuses every new file does not leave a row per attempt (each attempt's failure is reported). When something is
   * there (a link to nowhere counts: `lstat`, or the same seq would be refused at every keyframe), or the card cannot
   * say, the row stays for start-up recovery and the next attempt takes the next seq.
   */
  async discardUnopened(rowId: number, file: string): Promise<boolean> {
    for (const p of [file, partialFileFor(file)]) {
      const there = await lstat(p).then(
        () => true,
        (e: unknown) => errnoCode(e) !== 'ENOENT',
      );
      if (there) return false;
    }
    this.#o.segments.discard(rowId);
    return true;
  }

  /**
   * A broken segment (its writer refuses everything: an fsync failed) is left as a power cut leaves it, then finished
   * at once from its last good sync, as the next start would do; if that fails too, its row stays `open` for the
   * next start. Either way the recorder goes on in a new segment.
   */
  async abandon(seg: OpenSegment): Promise<void> {
    await seg.file.abort().catch(() => undefined);
    const row = this.#o.segments.inState('open').find((r) => r.id === seg.rowId);
    let state: 'recovered' | 'lost' | 'open' = 'open';
    if (row !== undefined) {
      try {
        const ended = await finishInterrupted(this.#o.segments, row);
        state = ended.state;
        const { incidentId, seq, path } = seg;
        this.#o.bus.emit('segment.recovered', { incidentId, seq, path, state, bytes: ended.bytes });
      } catch (e) {
        this.report(e, seg.incidentId);
      }
    }
    this.#o.logger.error(
      { path: seg.path, state },
      'segment given up after a failed fsync; recording goes on in a new one',
    );
  }
}
