/**
 * What the dock knows of every camera, gathered once for `bodycam dock status` (its text and its JSON) and the dock's
 * own page: enrolled cameras whether or not they ever docked, cameras in the progress database no longer enrolled
 * (withdrawn: the newest withdrawal says when and why), what each handed over, its last docking record and the undock
 * decision (src/protocol/undock.ts, the one the camera makes), and what waits at the dock for the object store.
 */
import type { Withdrawal } from './revocation.ts';
import type { BacklogSummary } from './store/backlog.ts';
import { type DockUndock, dockUndock } from './sync/claims.ts';
import type { LastDocking } from './sync/docking-state.ts';
import type { Progress } from './sync/progress.ts';

/** One camera's line in `bodycam dock status`: enrolled here or not, and what it has handed over. */
export type DockStatusRow = ReturnType<Progress['summary']>[number] & { enrolled: boolean };

export type DockStatusDevice = DockStatusRow & {
  docking: LastDocking | null;
  undock: DockUndock;
  withdrawn: { at: string; reason: string; serial: string } | null;
};

export interface DockStatus {
  store: { kind: string; backlog: BacklogSummary | null };
  devices: DockStatusDevice[];
}

/**
 * Every camera the dock knows: enrolled ones (DOCKDIR/devices/<id>) whether or not they ever docked, and cameras in
 * the progress database that are no longer enrolled (withdrawn). Sorted by device id.
 */
export function dockStatusRows(enrolled: readonly string[], summary: ReturnType<Progress['summary']>): DockStatusRow[] {
  const rows = new Map<string, DockStatusRow>();
  for (const device of enrolled) {
    rows.set(device, {
      device,
      lastSeen: null,
      stored: 0,
      storedBytes: 0,
      receiving: 0,
      refused: 0,
      receivedTotal: 0,
      auditSeq: -1,
      incidents: 0,
      refusals: [],
      enrolled: true,
    });
  }
  for (const d of summary) rows.set(d.device, { ...d, enrolled: enrolled.includes(d.device) });
  return [...rows.values()].sort((a, b) => a.device.localeCompare(b.device));
}

/** The status from the progress database (null: the dock never ran), at `nowMs` (the dock's wall clock). */
export function dockStatus(
  progress: Progress | null,
  o: { enrolled: readonly string[]; withdrawals: readonly Withdrawal[]; storeKind: string; nowMs: number },
): DockStatus {
  const devices = dockStatusRows(o.enrolled, progress?.summary() ?? []).map((d) => {
    const docking = progress?.dockings.last(d.device) ?? null;
    const w = d.enrolled ? undefined : o.withdrawals.filter((x) => x.device === d.device).at(-1);
    return {
      ...d,
      docking,
      undock: dockUndock(progress?.claims.last(d.device) ?? null, docking, o.nowMs),
      withdrawn: w === undefined ? null : { at: w.at, reason: w.reason, serial: w.serial },
    };
  });
  return { store: { kind: o.storeKind, backlog: progress?.backlog.summary() ?? null }, devices };
}
