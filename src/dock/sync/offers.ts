/**
 * One inventory's segment offers, assessed: the first `maxOffersPerInventory` are checked against
 * the camera's signed manifests, the store and the budgets; the rest are not looked at. The work is done in
 * slices that give the event loop back, so a camera offering thousands of bad segments delays no other camera.
 *
 * An offer already stored is receipted again (the camera missed its receipt) only when the store still holds the
 * segment with the size and hash the receipt names; otherwise it is pulled again.
 */
import type { KeyObject } from 'node:crypto';
import type { SegmentOffer } from '../../protocol/messages.ts';
import type { DockLimits } from '../limits.ts';
import { admit, type BudgetState, taken } from './budget.ts';
import type { EvidenceStore } from './evidence-store.ts';
import type { Progress } from './progress.ts';
import type { TransferItem } from './transfer.ts';
import { checkSegmentOffer } from './verify-offer.ts';

export interface Refused {
  offer: SegmentOffer;
  code: string;
  message: string;
}

export interface Assessment {
  /** To pull, oldest first (`again` when the store lost or altered a segment it had stored). */
  queue: TransferItem[];
  /** Stored and held as offered: receipt again, move nothing. */
  resend: Array<{ offer: SegmentOffer; hash: string }>;
  refused: Refused[];
  /** Offers past the per-inventory budget, not looked at. */
  notConsidered: number;
}

export interface AssessOptions {
  device: string;
  key: KeyObject;
  limits: DockLimits;
  progress: Progress;
  store: EvidenceStore;
  budget: BudgetState;
  /** Segments (`incident#seq`) being transferred now: neither queued again nor refused. */
  busy: ReadonlySet<string>;
}

/** Offers checked between two turns of the event loop (a signature check each). */
const SLICE = 32;

export const offerKey = (o: { incident: string; seq: number }) => `${o.incident}#${o.seq}`;

export async function assessOffers(segments: readonly SegmentOffer[], o: AssessOptions): Promise<Assessment> {
  // The first in the camera's order (it offers what it wants moved first), then pulled oldest first.
  const considered = segments
    .slice(0, o.limits.maxOffersPerInventory)
    .sort((a, b) => a.incident.localeCompare(b.incident) || a.seq - b.seq);
  const a: Assessment = { queue: [], resend: [], refused: [], notConsidered: segments.length - considered.length };
  const seen = new Set<string>();
  let budget = o.budget;
  for (const [i, offer] of considered.entries()) {
    if (i % SLICE === SLICE - 1) await new Promise((resolve) => setImmediate(resolve));
    const key = offerKey(offer);
    if (seen.has(key)) {
      a.refused.push({ offer, code: 'duplicate-offer', message: 'offered twice in one inventory' });
      continue;
    }
    seen.add(key);
    if (o.busy.has(key)) continue;
    const v = checkSegmentOffer(o.device, o.key, offer);
    if ('code' in v) {
      a.refused.push({ offer, ...v });
      continue;
    }
    const held = o.progress.dockings.heldAt(o.device, v.ok.env.payload.chainSeq);
    if (held !== undefined && held !== v.ok.hash) {
      const chainSeq = v.ok.env.payload.chainSeq;
      a.refused.push({ offer, code: 'chain-fork', message: `the dock holds another manifest at chainSeq ${chainSeq}` });
      continue;
    }
    const row = o.progress.transfer(o.device, offer.incident, offer.seq);
    const stored = row?.state === 'stored' && row.sha256 === offer.sha256;
    if (stored && (await o.store.holdsSegment(o.device, offer.incident, offer.file, offer))) {
      a.resend.push({ offer, hash: v.ok.hash });
      continue;
    }
    const verdict = admit(offer.bytes, o.limits, budget);
    if ('code' in verdict) {
      a.refused.push({ offer, ...verdict });
      continue;
    }
    budget = taken(budget, offer.bytes);
    a.queue.push({ offer, hash: v.ok.hash, env: v.ok.env, again: stored });
  }
  return a;
}
