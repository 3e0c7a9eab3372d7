/**
 * When a camera may leave the dock: only when everything it holds that the dock must have is at the dock, with the
 * dock's signature on it, and nothing is being recorded. One decision, made from counts either side can take, so the
 * camera's `status` (and its standby light) and the dock's `bodycam dock status` say the same thing.
 *
 * What the camera must hand over: every segment and closing manifest not yet acknowledged by a signed receipt, and its
 * manifest chain and audit log up to their heads (acknowledged by the dock's signed docking record, which names the
 * chain and audit heads it holds). A recording in progress will make more of all of them, so it is never "safe".
 */

/** A head of a chain (`seq` of its last entry, −1 when empty); null when unknown (no record from the dock yet). */
export type HeadSeq = number | null;

export interface HandOverState {
  /** The camera is connected to the dock (its broker and agent) right now. */
  connected: boolean;
  /** An incident is being recorded (or its stop is being written). */
  recording: boolean;
  /** Segments signed and not yet acknowledged by a receipt from the dock. */
  segmentsWaiting: number;
  /** Closing manifests written and not yet acknowledged by a receipt from the dock. */
  closingsWaiting: number;
  /** Incidents not yet closed (no closing manifest yet): each still owes one. */
  incidentsOpen: number;
  /** The camera's manifest chain head and the head the dock's last signed docking record says it holds. */
  chain: { own: number; atDock: HeadSeq };
  /** The camera's audit log head and the head the dock's last signed docking record says it holds. */
  audit: { own: number; atDock: HeadSeq };
}

export type UndockReadiness =
  | { safe: true; items: 0; text: 'safe to undock' }
  | { safe: false; items: number; reason: 'not-docked' | 'recording' | 'handing-over'; text: string };

/** Entries of a chain the dock does not hold yet (all of them when the dock named no head). */
function behind(own: number, atDock: HeadSeq): number {
  return Math.max(0, own - (atDock ?? -1));
}

/**
 * The decision. `items` counts what is still to hand over: segments, closing manifests (owed ones too), and the
 * manifests and audit lines past the heads the dock has signed for (a segment's or closing's manifest counted once,
 * with its file).
 */
export function undockReadiness(s: HandOverState): UndockReadiness {
  const files = s.segmentsWaiting + s.closingsWaiting + s.incidentsOpen;
  const chainOnly = Math.max(0, behind(s.chain.own, s.chain.atDock) - s.segmentsWaiting - s.closingsWaiting);
  const items = files + chainOnly + behind(s.audit.own, s.audit.atDock);
  if (s.recording) {
    return { safe: false, items, reason: 'recording', text: 'not yet: recording in progress' };
  }
  if (items === 0 && s.connected) return { safe: true, items: 0, text: 'safe to undock' };
  if (!s.connected) {
    return {
      safe: false,
      items,
      reason: 'not-docked',
      text: items === 0 ? 'not docked' : `not docked: ${items} ${items === 1 ? 'item' : 'items'} to hand over`,
    };
  }
  return {
    safe: false,
    items,
    reason: 'handing-over',
    text: `not yet: ${items} ${items === 1 ? 'item' : 'items'} to hand over`,
  };
}
