/**
 * The vault's operations on the store: legal hold set or released on every version of an incident's objects, and
 * expiry of what is past its delete-due date and not held. Each writes its custody record before it acts, so a
 * crash leaves a record of an action that may be unfinished (and is done again by running it again), never an
 * action without a record.
 */
import type { KeyObject } from 'node:crypto';
import { type KeyRoot, parseEvidenceKey } from '../evidence/object-keys.ts';
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import type { ObjectStore } from '../store/port.ts';
import { appendCustodyRecord } from './custody-log.ts';
import type { TouchedObject } from './custody-record.ts';
import { type ExpireDecision, expireDecision } from './expire-decision.ts';

export interface Actor {
  operator: string;
  key: KeyObject;
  /** Lock of each custody record, in days. */
  lockDays: number;
  now: () => number;
}

function rootPrefix(root: KeyRoot): string {
  return `${root.prefix === '' ? '' : `${root.prefix}/`}${root.organisation}/`;
}

/** Every stored version (not delete markers) of the incident's objects, of any device, or of `device` only. */
export async function incidentVersions(
  store: ObjectStore,
  root: KeyRoot,
  incident: string,
  device?: string,
): Promise<TouchedObject[]> {
  const prefix = `${rootPrefix(root)}${device === undefined ? '' : `${device}/`}`;
  const found: TouchedObject[] = [];
  for await (const v of store.listVersions(prefix)) {
    if (v.deleteMarker) continue;
    const k = parseEvidenceKey(root, v.key);
    const of = k.kind === 'segment' || k.kind === 'manifest' || k.kind === 'closing' ? k.incident : null;
    if (of === incident) found.push({ key: v.key, versionId: v.versionId });
  }
  return found;
}

export interface HoldInput {
  incident: string;
  device?: string;
  reason: string;
  on: boolean;
}

/** Sets or releases the legal hold on every version of the incident's objects; returns what it touched. */
export async function setIncidentHold(
  store: ObjectStore,
  root: KeyRoot,
  input: HoldInput,
  actor: Actor,
): Promise<TouchedObject[]> {
  if (input.reason.trim() === '') throw new BodycamError(ErrorCode.USAGE, 'a legal hold needs a reason (--reason)');
  const objects = await incidentVersions(store, root, input.incident, input.device);
  if (objects.length === 0) {
    throw new BodycamError(
      ErrorCode.USAGE,
      `no stored object of incident ${input.incident} under ${rootPrefix(root)} in ${store.describe}`,
    );
  }
  await appendCustodyRecord(store, root, {
    record: {
      operator: actor.operator,
      action: input.on ? 'hold-set' : 'hold-release',
      reason: input.reason,
      incident: input.incident,
      objects,
    },
    key: actor.key,
    nowMs: actor.now(),
    lockDays: actor.lockDays,
  });
  for (const o of objects) await store.setLegalHold(o.key, o.versionId, input.on);
  return objects;
}

export interface ExpireOutcome {
  deleted: TouchedObject[];
  kept: { object: TouchedObject; why: Exclude<ExpireDecision, { delete: true }>['why'] }[];
}

/** Deletes every version under the root that expireDecision() lets go, each recorded in the custody log first. */
export async function expireObjects(
  store: ObjectStore,
  root: KeyRoot,
  reason: string,
  actor: Actor,
): Promise<ExpireOutcome> {
  const out: ExpireOutcome = { deleted: [], kept: [] };
  const candidates: TouchedObject[] = [];
  for await (const v of store.listVersions(rootPrefix(root))) {
    if (v.deleteMarker) continue;
    const object = { key: v.key, versionId: v.versionId };
    const head = await store.head(v.key, v.versionId);
    if (head === null) continue;
    const decision = expireDecision({
      metadata: head.metadata,
      retainUntilMs: head.retention?.retainUntil.getTime() ?? null,
      held: await store.legalHold(v.key, v.versionId),
      nowMs: actor.now(),
    });
    if (decision.delete) candidates.push(object);
    else out.kept.push({ object, why: decision.why });
  }
  for (const object of candidates) {
    await appendCustodyRecord(store, root, {
      record: { operator: actor.operator, action: 'expire', reason, incident: '', objects: [object] },
      key: actor.key,
      nowMs: actor.now(),
      lockDays: actor.lockDays,
    });
    await store.delete(object.key, object.versionId);
    out.deleted.push(object);
  }
  return out;
}
