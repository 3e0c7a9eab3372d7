import { isSubsystemError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/logger.ts';
import type { EventAppender } from '../../storage/event-log.ts';
import type { IncidentStore } from '../../storage/incidents.ts';
import type { SegmentStore } from '../../storage/segments.ts';
import { type FinishedSegment, finishInterrupted } from './recover-file.ts';

export interface RecoveryReport {
  recovered: number;
  lost: number;
  /** Segments whose recovery failed; their files are untouched and they stay `open` for the next start. */
  failed: number;
  interruptedIncidents: number;
}

export interface RecoveryDeps {
  incidents: IncidentStore;
  segments: SegmentStore;
  events: EventAppender;
  logger: Logger;
}

/**
 * At start-up, before anything records: segments left open by a crash or power cut keep their valid prefix (up to
 * the last sync) and are marked `recovered`; one that never reached a sync is marked `lost` (nothing of it was ever
 * promised durable) and its partial file is left in place. Incidents still `recording` become `interrupted`.
 */
export async function recoverInterrupted(deps: RecoveryDeps): Promise<RecoveryReport> {
  const { incidents, segments, events, logger } = deps;
  const report: RecoveryReport = { recovered: 0, lost: 0, failed: 0, interruptedIncidents: 0 };
  for (const seg of segments.inState('open')) {
    let ended: FinishedSegment;
    try {
      ended = await finishInterrupted(segments, seg);
    } catch (e) {
      // One damaged or unreachable segment must not keep the camera from recording: leave its files exactly as
      // they are, keep it `open` so the next start tries again, and say so.
      if (!isSubsystemError(e, 'SEAL') && !isSubsystemError(e, 'STORAGE')) throw e;
      logger.error({ path: seg.path, code: e.code, message: e.message }, 'cannot recover segment; left untouched');
      report.failed += 1;
      continue;
    }
    if (ended.state === 'lost') {
      events.append('segment_lost', { path: seg.path }, seg.incidentId);
      logger.warn({ path: seg.path }, 'interrupted segment had no synced data');
      report.lost += 1;
    } else {
      events.append('segment_recovered', { path: seg.path, bytes: ended.bytes }, seg.incidentId);
      logger.warn({ path: seg.path, bytes: ended.bytes }, 'recovered interrupted segment up to its last sync');
      report.recovered += 1;
    }
  }
  for (const inc of incidents.inState('recording')) {
    incidents.close(inc.id, 'interrupted', null, 'power loss or crash');
    report.interruptedIncidents += 1;
  }
  return report;
}
