import { isSubsystemError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/logger.ts';
import { recoverSealedFile } from './sealed-file.ts';
import type { IndexDb } from '../../storage/index-db.ts';

export interface RecoveryReport {
  recovered: number;
  lost: number;
  /** Segments whose recovery failed; their files are untouched and they stay `open` for the next start. */
  failed: number;
  interruptedIncidents: number;
}

/**
 * At start-up, before anything records: segments left open by a crash or power cut keep their valid prefix (up to
 * the last sync) and are marked `recovered`; one that never reached a sync is marked `lost` (nothing of it was ever
 * promised durable) and its partial file is left in place. Incidents still `recording` become `interrupted`.
 */
export async function recoverInterrupted(index: IndexDb, logger: Logger): Promise<RecoveryReport> {
  const report: RecoveryReport = { recovered: 0, lost: 0, failed: 0, interruptedIncidents: 0 };
  for (const seg of index.segmentsInState('open')) {
    const progress = { endMediaMs: seg.endMediaMs, frames: seg.frames, fragments: seg.fragments, bytes: seg.bytes };
    let result: Awaited<ReturnType<typeof recoverSealedFile>>;
    try {
      result = await recoverSealedFile(seg.path);
    } catch (e) {
      // One damaged or unreachable segment must not keep the camera from recording: leave its files exactly as
      // they are, keep it `open` so the next start tries again, and say so.
      if (!isSubsystemError(e, 'SEAL') && !isSubsystemError(e, 'STORAGE')) throw e;
      logger.error({ path: seg.path, code: e.code, message: e.message }, 'cannot recover segment; left untouched');
      report.failed += 1;
      continue;
    }
    if (result === null) {
      index.finishSegment(seg.id, 'lost', { ...progress, bytes: 0 }, null);
      index.addEvent('segment_lost', { path: seg.path }, seg.incidentId);
      logger.warn({ path: seg.path }, 'interrupted segment had no synced data');
      report.lost += 1;
    } else {
      const synced = parseProgress(result.meta) ?? progress;
      index.finishSegment(seg.id, 'recovered', { ...synced, bytes: result.bytes }, result.sha256);
      index.addEvent('segment_recovered', { path: seg.path, bytes: result.bytes }, seg.incidentId);
      logger.warn({ path: seg.path, bytes: result.bytes }, 'recovered interrupted segment up to its last sync');
      report.recovered += 1;
    }
  }
  for (const inc of index.incidentsInState('recording')) {
    index.closeIncident(inc.id, 'interrupted', null, 'power loss or crash');
    report.interruptedIncidents += 1;
  }
  return report;
}

/** The recorder's progress note from the recovery tail; null when absent or unreadable (the index row is kept). */
function parseProgress(meta: Buffer): { endMediaMs: number; frames: number; fragments: number } | null {
  if (meta.length === 0) return null;
  try {
    const p = JSON.parse(meta.toString('utf8')) as Record<string, unknown>;
    const { endMediaMs, frames, fragments } = p;
    if (typeof endMediaMs === 'number' && typeof frames === 'number' && typeof fragments === 'number') {
      return { endMediaMs, frames, fragments };
    }
  } catch {
    // fall through: an unreadable note only costs precision, never footage
  }
  return null;
}
