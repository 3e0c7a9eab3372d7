import { describe, expect, it } from 'vitest';
import { generateDeviceKeys, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { incidentObject } from '../../../src/evidence/object-keys.ts';
import { retentionMetadata } from '../../../src/evidence/retention.ts';
import { ErrorCode } from '../../../src/lib/errors.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import { putVerified } from '../../../src/store/verified-put.ts';
import { verifyCustodyLog } from '../../../src/vault/custody-log.ts';
import { type Actor, expireObjects, setIncidentHold } from '../../../src/vault/operations.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1);
const root = { prefix: 'zone', organisation: 'pz5339' };
const pair = generateDeviceKeys();

async function setup() {
  let now = T0;
  const store = new MemoryObjectStore({ now: () => now });
  const actor: Actor = {
    operator: 'insp. Peeters',
    key: loadPrivateKey(pair.privatePem),
    lockDays: 400,
    now: () => now,
  };
  const put = (incident: string, file: string) =>
    putVerified(store, {
      key: incidentObject(root, 'cam1', incident, file),
      source: Buffer.from(`${incident}/${file}`),
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(T0 + 30 * DAY) },
      metadata: retentionMetadata({
        recordedMs: T0,
        recordedBy: 'device',
        minimumUntilMs: T0 + 30 * DAY,
        deleteDueMs: T0 + 60 * DAY,
      }),
      contentType: 'application/octet-stream',
    });
  await put('INC1', 'seg-0001.age');
  await put('INC1', 'seg-0001.age.manifest.json');
  await put('INC2', 'seg-0001.age');
  return { store, actor, advance: (ms: number) => (now += ms) };
}

describe('vault operations', () => {
  it('hold blocks expire; release lets it delete once due; every step verifies in the custody log', async () => {
    const { store, actor, advance } = await setup();
    const held = await setIncidentHold(
      store,
      root,
      { incident: 'INC1', reason: 'prosecutor decision 42', on: true },
      actor,
    );
    expect(held).toHaveLength(2);
    for (const o of held) expect(await store.legalHold(o.key, o.versionId)).toBe(true);

    advance(10 * DAY);
    const early = await expireObjects(store, root, 'retention schedule', actor);
    expect(early.deleted).toEqual([]);
    expect(early.kept.map((k) => k.why).sort()).toEqual(['held', 'held', 'before-minimum'].sort());
    // Before its minimum nothing can be deleted, hold or not: the store refuses a versioned delete.
    const inc2 = early.kept.find((k) => k.object.key.includes('/INC2/'));
    await expect(store.delete(inc2?.object.key ?? '', inc2?.object.versionId)).rejects.toMatchObject({
      code: ErrorCode.STORE_DENIED,
    });

    advance(60 * DAY);
    const due = await expireObjects(store, root, 'retention schedule', actor);
    expect(due.deleted.map((o) => o.key)).toEqual([expect.stringContaining('/INC2/')]);
    expect(due.kept.map((k) => k.why)).toEqual(['held', 'held']);

    await setIncidentHold(store, root, { incident: 'INC1', reason: 'case closed', on: false }, actor);
    const after = await expireObjects(store, root, 'retention schedule', actor);
    expect(after.deleted).toHaveLength(2);
    expect(after.kept).toEqual([]);

    const log = await verifyCustodyLog(store, root, loadPublicKey(pair.publicPem));
    expect(log.problems).toEqual([]);
    expect(log.records.map((r) => [r.record.action, r.record.objects.length])).toEqual([
      ['hold-set', 2],
      ['expire', 1],
      ['hold-release', 2],
      ['expire', 1],
      ['expire', 1],
    ]);
    expect(log.records[0]?.record).toMatchObject({
      operator: 'insp. Peeters',
      reason: 'prosecutor decision 42',
      incident: 'INC1',
    });
  });

  it('a custody record cannot be deleted, and a rewritten one shows as a second version', async () => {
    const { store, actor } = await setup();
    await setIncidentHold(store, root, { incident: 'INC2', reason: 'r', on: true }, actor);
    const versions = [];
    for await (const x of store.listVersions('zone/custody/pz5339/')) versions.push(x);
    const [v] = versions;
    await expect(store.delete(v?.key ?? '', v?.versionId)).rejects.toMatchObject({ code: ErrorCode.STORE_DENIED });
    await putVerified(store, {
      key: v?.key ?? '',
      source: Buffer.from('{}'),
      retention: { mode: 'COMPLIANCE', retainUntil: new Date(T0 + DAY) },
      metadata: {},
      contentType: 'application/json',
      absent: true,
    });
    const log = await verifyCustodyLog(store, root, loadPublicKey(pair.publicPem));
    expect(log.problems).toContain(`${v?.key}: 2 versions; a record is written once`);
  });

  it('refuses a hold without a reason or on an incident with nothing stored', async () => {
    const { store, actor } = await setup();
    await expect(
      setIncidentHold(store, root, { incident: 'INC1', reason: ' ', on: true }, actor),
    ).rejects.toMatchObject({ code: ErrorCode.USAGE });
    await expect(
      setIncidentHold(store, root, { incident: 'NOPE', reason: 'r', on: true }, actor),
    ).rejects.toMatchObject({ code: ErrorCode.USAGE });
  });
});
