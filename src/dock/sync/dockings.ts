/**
 * The dock's docking records (src/evidence/docking.ts). Once a docking has handed over everything the camera offered
 * (footage, closing manifests, the audit log), the dock signs what it now holds verified of that camera, its chain
 * head (the highest chainSeq with every manifest below held) and its audit head, when that differs from its last
 * record; it appends the record to the camera's `dockings.jsonl` in the evidence store (the file is the record: the
 * next one chains to its last line) and hands it to the camera. At each inventory it compares the camera's own heads
 * with what it recorded, and reports a camera that no longer extends them (a card rolled back, edited or replaced).
 */
import { type DockingRecord, dockingHead, dockingLine, parseDockingLine, signDocking } from '../../evidence/docking.ts';
import type { ChainHead, Envelope } from '../../evidence/envelope.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Inventory } from '../../protocol/messages.ts';
import type { EvidenceStore } from './evidence-store.ts';
import type { Progress } from './progress.ts';

export interface DockingsOptions {
  progress: Progress;
  store: EvidenceStore;
  dock: { privateKey: import('node:crypto').KeyObject; keyId: string };
  logger: Logger;
  now: () => number;
}

const same = (a: ChainHead | null, b: ChainHead | null) => a?.seq === b?.seq && a?.hash === b?.hash;

/** Why a camera's own heads no longer extend what the dock holds and recorded, or null when they do. */
export function rollbackOf(
  camera: NonNullable<Inventory['heads']>,
  held: { chainTop: number; chainAt: (seq: number) => string | undefined; audit: ChainHead | null },
): string | null {
  const cam = camera.chain;
  if (held.chainTop >= 0 && (cam === null || cam.seq < held.chainTop)) {
    return `its manifest chain ends at ${cam?.seq ?? 'nothing'}, but the dock holds manifests up to chainSeq ${held.chainTop}`;
  }
  const atCam = cam === null ? undefined : held.chainAt(cam.seq);
  if (cam !== null && atCam !== undefined && atCam !== cam.hash) {
    return `its manifest at chainSeq ${cam.seq} is not the one the dock holds`;
  }
  const audit = camera.audit;
  if (held.audit !== null && (audit === null || audit.seq < held.audit.seq)) {
    return `its audit log ends at entry ${audit?.seq ?? 'nothing'}, but the dock holds entries up to ${held.audit.seq}`;
  }
  if (held.audit !== null && audit?.seq === held.audit.seq && audit.hash !== held.audit.hash) {
    return `its audit entry ${audit.seq} is not the one the dock holds`;
  }
  return null;
}

export class Dockings {
  readonly #o: DockingsOptions;

  constructor(options: DockingsOptions) {
    this.#o = options;
  }

  /** Compares the heads a camera reports with what the dock holds; a rollback is logged and kept for `dock status`. */
  compare(device: string, heads: Inventory['heads']): void {
    if (heads === undefined) return;
    const { progress } = this.#o;
    const audit = progress.auditHead(device);
    const why = rollbackOf(heads, {
      chainTop: progress.dockings.highestHeld(device),
      chainAt: (seq) => progress.dockings.heldAt(device, seq),
      audit: audit.hash === null ? null : { seq: audit.seq, hash: audit.hash },
    });
    const before = progress.dockings.last(device)?.rollback ?? null;
    if (why !== null) {
      this.#o.logger.error(
        { device, why, camera: heads },
        'the camera no longer extends what the dock holds: rolled back',
      );
    } else if (before !== null) {
      this.#o.logger.info({ device }, 'the camera extends what the dock holds again');
    }
    progress.dockings.setRollback(device, why);
  }

  /** The last record in the store, parsed (the store's file is the truth, whatever the database says). */
  async #lastRecord(device: string): Promise<Envelope<DockingRecord> | null> {
    const line = await this.#o.store.lastDocking(device);
    if (line === null) return null;
    const parsed = parseDockingLine(line);
    if ('reason' in parsed) throw new Error(`the last docking record of ${device} is unreadable: ${parsed.reason}`);
    return parsed.envelope;
  }

  /** Signs, stores and returns a record when what the dock holds changed since its last one; else null. */
  async settle(device: string): Promise<Envelope<DockingRecord> | null> {
    const { progress } = this.#o;
    const last = await this.#lastRecord(device);
    const chain = progress.dockings.contiguousHead(device, last?.payload.chain ?? null);
    const a = progress.auditHead(device);
    const audit = a.hash === null ? null : { seq: a.seq, hash: a.hash };
    if (
      (chain === null && audit === null) ||
      (last !== null && same(last.payload.chain, chain) && same(last.payload.audit, audit))
    ) {
      return null;
    }
    const at = new Date(this.#o.now()).toISOString();
    const env = signDocking(
      { device, at, chain, audit },
      last === null ? null : dockingHead(last),
      this.#o.dock.privateKey,
      this.#o.dock.keyId,
    );
    await this.#o.store.appendDocking(device, dockingLine(env));
    progress.dockings.signed(device, { record: dockingHead(env), signedAt: at, chain, audit });
    this.#o.logger.info({ device, record: env.payload.seq, chain, audit }, 'docking recorded');
    return env;
  }
}
