/**
 * Closing manifests, taken at the end of a camera's transfers: each one the camera offered, signed by its enrolled
 * key, whose every listed segment the dock has stored, is written to the store (again, if the store no longer
 * holds it as it should) and receipted.
 */
import type { KeyObject } from 'node:crypto';
import { manifestFileText } from '../../evidence/manifest.ts';
import { INCIDENT_MANIFEST } from '../../evidence/paths.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EvidenceStore } from './evidence-store.ts';
import type { Progress } from './progress.ts';
import type { Addressee, Replies } from './replies.ts';
import { checkClosing } from './verify-offer.ts';

export interface ClosingDeps {
  progress: Progress;
  store: EvidenceStore;
  replies: Replies;
  logger: Logger;
}

/** Closings checked between two turns of the event loop (a signature check each). */
const SLICE = 32;

/** Stores and receipts the closings of complete incidents; false when a receipt was withheld (withdrawn camera). */
export async function takeClosings(
  s: Addressee,
  key: KeyObject,
  closings: ReadonlyMap<string, unknown>,
  d: ClosingDeps,
): Promise<boolean> {
  const refused: Array<{ incident: string; code: string; message: string }> = [];
  let checked = 0;
  for (const [incident, manifest] of closings) {
    if (++checked % SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    const v = checkClosing(s.device, key, incident, manifest);
    if ('code' in v) {
      refused.push({ incident, ...v });
      continue;
    }
    const complete = v.ok.env.payload.segments.every((seg) => {
      const row = d.progress.transfer(s.device, incident, seg.seq);
      return row?.state === 'stored' && row.manifestHash === seg.manifest;
    });
    if (!complete) continue;
    const text = manifestFileText(v.ok.env);
    if (
      d.progress.incidentStored(s.device, incident) !== v.ok.hash ||
      !(await d.store.holdsClosing(s.device, incident, text))
    ) {
      await d.store.putClosing(s.device, incident, text);
      d.progress.storeIncident(s.device, incident, v.ok.hash);
    }
    d.progress.dockings.held(s.device, v.ok.env.payload.chainSeq, v.ok.hash);
    const receipt = { kind: 'incident' as const, incident, seq: v.ok.env.payload.segments.length };
    const closing = { file: INCIDENT_MANIFEST, sha256: v.ok.hash, bytes: 0, manifest: v.ok.hash };
    if (!d.replies.receipt(s, { ...receipt, ...closing })) return false;
  }
  if (refused.length > 0) {
    d.logger.error({ device: s.device, refused: refused.length, first: refused[0] }, 'closing manifests refused');
  }
  return true;
}
