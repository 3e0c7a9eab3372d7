/**
 * What the dock's own page shows, as data (the page's HTML and its `/status.json` are both made from it): the status
 * `bodycam dock status` gives (src/dock/status.ts), plus what only the running dock knows or the page adds: which
 * cameras are docked now, what each is handing over, what its last hello said (release, battery, faults), the
 * incidents held and how far each is at the store, and the updates waiting (given by whoever delivers updates).
 * Everything a camera sent is kept as it came; the page escapes it.
 */
import type { HelloFacts } from '../fleet-publisher.ts';
import type { Withdrawal } from '../revocation.ts';
import { type DockStatusDevice, dockStatus } from '../status.ts';
import { CONNECTED_WITHIN_MS } from '../sync/claims.ts';
import type { Progress } from '../sync/progress.ts';

/** An update the dock holds for a camera and how far it got (from the update delivery, when one is configured). */
export interface PendingUpdate {
  device: string;
  release: string;
  state: string;
  reason?: string;
}

export interface PageTransfer {
  incident: string;
  file: string;
  bytes: number;
  received: number;
  updatedAt: string;
}

export interface PageIncident {
  incident: string;
  segments: number;
  bytes: number;
  /** The camera's closing manifest is in: the incident is complete at the dock. */
  closed: boolean;
  /** Writes of it waiting at the dock for the object store, and of them refused by the store (0 for a directory). */
  waitingForStore: number;
  refusedByStore: number;
}

export type PageCamera = DockStatusDevice & {
  /** The camera spoke to the dock within CONNECTED_WITHIN_MS. */
  docked: boolean;
  hello: HelloFacts | null;
  transfers: PageTransfer[];
  incidentsHeld: PageIncident[];
};

export interface DockPageModel {
  /** When it was made (the dock's wall clock, ISO 8601). */
  at: string;
  /** The broker's name as cameras reach it: which dock this is. */
  dock: string;
  store: { kind: string; waiting: number; refused: number; lastError: string | null };
  cameras: PageCamera[];
  /** null: no update delivery is configured at this dock. */
  updates: PendingUpdate[] | null;
}

export interface PageSources {
  dock: string;
  storeKind: string;
  progress: Progress;
  enrolled: () => string[];
  withdrawals: () => Promise<Withdrawal[]>;
  hello: (device: string) => HelloFacts | null;
  pendingUpdates?: () => Promise<PendingUpdate[]>;
  wallNow: () => number;
}

export async function dockPageModel(src: PageSources): Promise<DockPageModel> {
  const nowMs = src.wallNow();
  const { progress } = src;
  const status = dockStatus(progress, {
    enrolled: src.enrolled(),
    withdrawals: await src.withdrawals(),
    storeKind: src.storeKind,
    nowMs,
  });
  const receiving = progress.receiving();
  const held = progress.incidentsHeld();
  const waiting = progress.backlog.waitingByIncident();
  const cameras = status.devices.map((d): PageCamera => {
    const claim = progress.claims.last(d.device);
    return {
      ...d,
      docked: claim !== null && nowMs - claim.atMs <= CONNECTED_WITHIN_MS,
      hello: src.hello(d.device),
      transfers: receiving
        .filter((t) => t.device === d.device)
        .map(({ incident, file, bytes, received, updatedAt }) => ({ incident, file, bytes, received, updatedAt })),
      incidentsHeld: held
        .filter((i) => i.device === d.device)
        .map(({ incident, segments, bytes, closed }) => {
          const w = waiting.find((x) => x.device === d.device && x.incident === incident);
          return {
            incident,
            segments,
            bytes,
            closed,
            waitingForStore: w?.waiting ?? 0,
            refusedByStore: w?.refused ?? 0,
          };
        }),
    };
  });
  const backlog = status.store.backlog;
  return {
    at: new Date(nowMs).toISOString(),
    dock: src.dock,
    store: {
      kind: status.store.kind,
      waiting: backlog?.waiting ?? 0,
      refused: backlog?.refused ?? 0,
      lastError: backlog?.lastError ?? null,
    },
    cameras,
    updates: src.pendingUpdates === undefined ? null : await src.pendingUpdates(),
  };
}
