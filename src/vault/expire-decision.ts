/**
 * Whether `bodycam vault expire` deletes one stored object version. Pure, tested as a table. A version is deleted
 * only when all hold: its delete-due date (metadata) has passed, its minimum-until date (metadata) has passed, its
 * Object Lock retention has run out, and no legal hold is on it. A version without readable dates is kept: nothing
 * is deleted on a guess. (The store refuses a delete under COMPLIANCE retention anyway; this decision keeps expire
 * from even asking.)
 */
import { RETENTION_METADATA } from '../evidence/retention.ts';

export interface ExpireFacts {
  metadata: Record<string, string>;
  /** The version's Object Lock retain-until, or null without one. */
  retainUntilMs: number | null;
  held: boolean;
  nowMs: number;
}

export type ExpireDecision =
  | { delete: true }
  | { delete: false; why: 'held' | 'not-due' | 'before-minimum' | 'locked' | 'no-dates' };

function dateMs(text: string | undefined): number | null {
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

export function expireDecision(f: ExpireFacts): ExpireDecision {
  const due = dateMs(f.metadata[RETENTION_METADATA.deleteDue]);
  const minimum = dateMs(f.metadata[RETENTION_METADATA.minimumUntil]);
  if (due === null || minimum === null) return { delete: false, why: 'no-dates' };
  if (f.held) return { delete: false, why: 'held' };
  if (f.nowMs < minimum) return { delete: false, why: 'before-minimum' };
  if (f.nowMs < due) return { delete: false, why: 'not-due' };
  if (f.retainUntilMs !== null && f.nowMs < f.retainUntilMs) return { delete: false, why: 'locked' };
  return { delete: true };
}
