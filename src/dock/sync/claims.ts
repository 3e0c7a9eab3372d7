/**
 * What each camera last told the dock it holds (its newest inventory taken up), in `dock.sqlite`, so that
 * `bodycam dock status`, another process, can say "safe to undock" by the same decision the camera shows
 * (src/protocol/undock.ts): the camera's counts of segments and closing manifests not yet receipted, incidents still
 * owing a closing manifest, whether it is recording, and its chain and audit heads, against the heads the dock's last
 * signed docking record vouches for. A docked camera sends an inventory within 15 s of the dock's last message and
 * 300 ms after its last receipt, and while a transfer runs each chunk it sends counts as its word too (`heard`: a
 * transfer longer than CONNECTED_WITHIN_MS has no inventory in it), so a claim whose last word is older than
 * CONNECTED_WITHIN_MS means the camera is no longer there.
 */
import type { Migration } from '../../lib/migration.ts';
import type { Database } from '../../lib/sqlite.ts';
import type { Inventory } from '../../protocol/messages.ts';
import { type UndockReadiness, undockReadiness } from '../../protocol/undock.ts';
import type { LastDocking } from './docking-state.ts';

export const CLAIMS_MIGRATION: Migration = {
  version: 3,
  name: 'what each camera last said it holds',
  up(db) {
    db.exec(`
      CREATE TABLE claims (
        device TEXT PRIMARY KEY, session TEXT NOT NULL, at_ms INTEGER NOT NULL,
        recording INTEGER, segments INTEGER NOT NULL, closings INTEGER NOT NULL, open INTEGER,
        chain_seq INTEGER NOT NULL, audit_seq INTEGER NOT NULL
      );
    `);
  },
};

/** A camera's newest claim. `recording` and `open` are null from a camera too old to report them. */
export interface Claim {
  session: string;
  /** The camera's last word in that session (its inventory, or a chunk since): the dock's wall clock, ms. */
  atMs: number;
  recording: boolean | null;
  segments: number;
  closings: number;
  open: number | null;
  chainSeq: number;
  auditSeq: number;
}

/** The claim an inventory makes; an older camera's (no `holding`) counts only what it offered, and knows no more. */
export function claimOf(session: string, atMs: number, inv: Inventory, notConsidered: number): Claim {
  return {
    session,
    atMs,
    recording: inv.holding?.recording ?? null,
    segments: inv.holding?.segments ?? inv.segments.length + notConsidered,
    closings: inv.holding?.closings ?? inv.incidents.length,
    open: inv.holding?.open ?? null,
    chainSeq: inv.heads?.chain?.seq ?? -1,
    auditSeq: inv.auditHead,
  };
}

/** A camera that sent nothing for this long is not at the dock (it sends an inventory every 15 s while docked). */
export const CONNECTED_WITHIN_MS = 45_000;
/** How often a transfer's chunks refresh a camera's last word (`heard`). */
export const HEARD_EVERY_MS = 5000;

export class Claims {
  readonly #db: Database;
  readonly #heard = new Map<string, number>();

  constructor(db: Database) {
    this.#db = db;
  }

  record(device: string, c: Claim): void {
    this.#db.run(
      `INSERT INTO claims (device, session, at_ms, recording, segments, closings, open, chain_seq, audit_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(device) DO UPDATE SET session = excluded.session, at_ms = excluded.at_ms,
         recording = excluded.recording, segments = excluded.segments, closings = excluded.closings,
         open = excluded.open, chain_seq = excluded.chain_seq, audit_seq = excluded.audit_seq`,
      device,
      c.session,
      c.atMs,
      c.recording === null ? null : c.recording ? 1 : 0,
      c.segments,
      c.closings,
      c.open,
      c.chainSeq,
      c.auditSeq,
    );
  }

  /**
   * The camera spoke again in the claim's session (a chunk): its last word is now, the claim itself unchanged. Written
   * at most once per HEARD_EVERY_MS per camera (a transfer sends many chunks a second).
   */
  heard(device: string, session: string, atMs: number): void {
    if (atMs - (this.#heard.get(device) ?? Number.NEGATIVE_INFINITY) < HEARD_EVERY_MS) return;
    this.#heard.set(device, atMs);
    this.#db.run(
      'UPDATE claims SET at_ms = ? WHERE device = ? AND session = ? AND at_ms < ?',
      atMs,
      device,
      session,
      atMs,
    );
  }

  last(device: string): Claim | null {
    const r = this.#db.get<{
      session: string;
      atMs: number;
      recording: number | null;
      segments: number;
      closings: number;
      open: number | null;
      chainSeq: number;
      auditSeq: number;
    }>(
      `SELECT session, at_ms AS atMs, recording, segments, closings, open, chain_seq AS chainSeq,
         audit_seq AS auditSeq FROM claims WHERE device = ?`,
      device,
    );
    if (r === undefined) return null;
    return { ...r, recording: r.recording === null ? null : r.recording === 1 };
  }
}

/** What `dock status` says about undocking one camera. */
export type DockUndock =
  | (UndockReadiness & { since: string })
  | { safe: false; reason: 'never-docked' | 'unknown'; text: string };

/**
 * The decision at the dock, from the camera's newest claim and the dock's last signed docking record: the same one
 * the camera makes (undockReadiness), "connected" meaning a claim newer than CONNECTED_WITHIN_MS. A camera whose
 * release does not say whether it is recording or how many incidents are open is never called safe.
 */
export function dockUndock(claim: Claim | null, docking: LastDocking | null, nowMs: number): DockUndock {
  if (claim === null) return { safe: false, reason: 'never-docked', text: 'never docked here' };
  const since = new Date(claim.atMs).toISOString();
  const connected = nowMs - claim.atMs <= CONNECTED_WITHIN_MS;
  if (claim.recording === null || claim.open === null) {
    return {
      safe: false,
      reason: 'unknown',
      text: "cannot tell: the camera's release does not report what it holds; check the camera itself",
    };
  }
  const r = undockReadiness({
    connected,
    recording: claim.recording,
    segmentsWaiting: claim.segments,
    closingsWaiting: claim.closings,
    incidentsOpen: claim.open,
    chain: { own: claim.chainSeq, atDock: docking?.chain?.seq ?? (docking === null ? null : -1) },
    audit: { own: claim.auditSeq, atDock: docking?.audit?.seq ?? (docking === null ? null : -1) },
  });
  return { ...r, since };
}
