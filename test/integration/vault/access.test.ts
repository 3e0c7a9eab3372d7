/**
 * Access by policy through the custody service, on both index drivers (SQLite, PostgreSQL): the policy's edges as the
 * service decides them from the index's facts (day 29 granted, day 31 refused without a prosecutor's decision and
 * granted with one, another organisation refused until shared, a deleted incident gone), every decision in the signed
 * custody log before it is answered, the incident's history read back, and a removed, reordered or edited record
 * reported by the verifier. The bucket is the in-memory object store with its clock under the test's control.
 */
import { createHash } from 'node:crypto';
import { describe, expect } from 'vitest';
import { generateDeviceKeys, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { ErrorCode } from '../../../src/lib/errors.ts';
import { CustodyService } from '../../../src/vault/access/service.ts';
import type { Account } from '../../../src/vault/accounts/accounts.ts';
import { custodyKey, verifyCustodyLog } from '../../../src/vault/custody-log.ts';
import { custodyText, type SignedCustodyRecord } from '../../../src/vault/custody-record.ts';
import { rebuild } from '../../../src/vault/index/rebuild.ts';
import { driverTest, INDEX_DRIVERS } from '../../harness/index-drivers.ts';
import { ACTIVATED, INC1, ROOT, vaultBucket } from '../../harness/vault-bucket.ts';

const DAY = 86_400_000;
const custody = generateDeviceKeys();
const custodyKeyPrivate = loadPrivateKey(custody.privatePem);
const custodyKeyPublic = loadPublicKey(custody.publicPem);

const person = (name: string, role: Account['role'], organisation = 'pz1'): Account => ({
  name,
  role,
  organisation,
  createdAt: '2026-01-01T00:00:00.000Z',
  disabled: false,
});
const investigator = person('jansen', 'investigator');
const prosecutor = person('de.smet', 'prosecutor');
const supervisor = person('peeters', 'supervisor');
const other = person('claes', 'investigator', 'pz2');

describe.each(INDEX_DRIVERS)('access by policy on $name', (driver) => {
  const test = driverTest(driver);

  async function scene() {
    let now = ACTIVATED;
    const store = await vaultBucket(() => now);
    const db = await driver.open();
    await rebuild(store, db, 'ev');
    const service = await CustodyService.open({
      db,
      store,
      prefix: 'ev',
      key: custodyKeyPrivate,
      lockDays: 3650,
      now: () => now,
      via: 'web',
    });
    return { store, db, service, at: (days: number) => (now = ACTIVATED + days * DAY) };
  }

  test('day 29 granted; day 31 refused, then granted under a recorded decision; each decision logged and verifiable', async () => {
    const { store, db, service, at } = await scene();
    at(29);
    const d29 = await service.request(investigator, INC1, 'PV 2026/1234: assault on the Meir');
    expect(d29.decision).toEqual({ granted: true, basis: 'own-organisation' });
    expect(d29.grant?.untilMs).toBeGreaterThan(ACTIVATED + 29 * DAY);
    expect(await service.liveGrant(investigator, INC1)).toMatchObject({ id: d29.grant?.id });

    at(31);
    expect(await service.liveGrant(investigator, INC1)).toBeNull();
    const d31 = await service.request(investigator, INC1, 'PV 2026/1234: assault on the Meir');
    expect(d31.decision.granted).toBe(false);
    expect(d31.grant).toBeNull();
    const named = await service.request(investigator, INC1, 'PV 2026/1234: assault on the Meir', 'AN.12.L3.2026');
    expect(named.decision).toMatchObject({ granted: false, why: expect.stringContaining('no prosecutor') });

    await expect(
      service.authorise(investigator, INC1, 'AN.12.L3.2026', 'not mine to decide', null),
    ).rejects.toMatchObject({ code: ErrorCode.ACCESS_REFUSED });
    await service.authorise(prosecutor, INC1, 'AN.12.L3.2026', 'judicial inquiry 2026/77', null);
    const granted = await service.request(investigator, INC1, 'PV 2026/1234: assault on the Meir', 'AN.12.L3.2026');
    expect(granted.decision).toEqual({
      granted: true,
      basis: 'prosecutor-authorisation',
      reference: 'AN.12.L3.2026',
    });

    const log = await verifyCustodyLog(store, ROOT, custodyKeyPublic);
    expect(log.problems).toEqual([]);
    expect(
      log.records.map((r) => [r.record.action, r.record.detail?.['basis'] ?? r.record.detail?.['why'] ?? '']),
    ).toEqual([
      ['access-grant', 'own-organisation'],
      ['access-refuse', expect.stringContaining('after 30 days')],
      ['access-refuse', expect.stringContaining('no prosecutor')],
      ['access-refuse', expect.stringContaining('only a prosecutor')],
      ['authorise', ''],
      ['access-grant', 'prosecutor-authorisation'],
    ]);
    expect(log.records.every((r) => r.record.incident === 'INC1' && r.record.detail?.['device'] === 'cam1')).toBe(true);
    expect(log.records[0]?.record.operator).toBe('jansen (investigator, pz1)');
    // The incident's history (what its page shows) is the log's records about it, as stored.
    expect((await service.history(INC1)).map(custodyText)).toEqual(log.records.map(custodyText));
    // The log lives beside the evidence under the prefix: a rebuild neither indexes it nor reports it as a stray.
    expect(await rebuild(store, db, 'ev')).toEqual({ incidents: 1, unexpected: [] });
    await db.close();
  });

  test('another organisation is refused until an authorised person of the recording one shares the incident', async () => {
    const { store, db, service, at } = await scene();
    at(5);
    expect((await service.request(other, INC1, 'joint operation Noord 2026')).decision).toMatchObject({
      granted: false,
      why: expect.stringContaining('another organisation'),
    });
    await expect(service.share(investigator, INC1, 'pz2', 'joint operation Noord 2026')).rejects.toMatchObject({
      code: ErrorCode.ACCESS_REFUSED,
    });
    await service.share(supervisor, INC1, 'pz2', 'joint operation Noord 2026');
    expect((await service.request(other, INC1, 'joint operation Noord 2026')).decision).toEqual({
      granted: true,
      basis: 'shared',
    });
    expect((await service.records.sharedWith('pz2')).length).toBe(1);
    const log = await verifyCustodyLog(store, ROOT, custodyKeyPublic);
    expect(log.problems).toEqual([]);
    expect(log.records.map((r) => r.record.action)).toEqual([
      'access-refuse',
      'access-refuse',
      'share',
      'access-grant',
    ]);
    await db.close();
  });

  test('a deleted incident is gone: refused and logged, whoever asks', async () => {
    const { store, db, service, at } = await scene();
    at(400);
    for await (const v of store.listVersions('ev/pz1/cam1/')) await store.delete(v.key, v.versionId);
    await rebuild(store, db, 'ev');
    const out = await service.request(investigator, INC1, 'PV 2026/1234: assault on the Meir', 'AN.12.L3.2026');
    expect(out.decision).toMatchObject({ granted: false, why: expect.stringContaining('deleted') });
    expect(out.row).toBeNull();
    expect((await verifyCustodyLog(store, ROOT, custodyKeyPublic)).records.at(-1)?.record.action).toBe('access-refuse');
    await db.close();
  });

  test('a removed, reordered or edited record of the access log is reported by the verifier', async () => {
    const { store, db, service, at } = await scene();
    at(1);
    for (let i = 0; i < 4; i++) await service.request(investigator, INC1, `PV 2026/12${i}: follow-up`);
    const clean = await verifyCustodyLog(store, ROOT, custodyKeyPublic);
    expect(clean.problems).toEqual([]);
    const texts = clean.records.map(custodyText);
    // Whoever rewrites goes around the service: straight to the store, as someone holding its credentials would.
    const rewrite = async (seq: number, text: string) => {
      const body = Buffer.from(text);
      await store.put({
        key: custodyKey(ROOT, seq),
        body,
        size: body.length,
        md5: createHash('md5').update(body).digest(),
        sha256: createHash('sha256').update(body).digest(),
        retention: { mode: 'COMPLIANCE', retainUntil: new Date(ACTIVATED + 2 * DAY) },
        metadata: { 'custody-sha256': createHash('sha256').update(body).digest('hex') },
        contentType: 'application/json',
      });
    };
    // Edited: record 2's reason changed in place (a new version of its key).
    const edited = JSON.parse(texts[1] ?? '') as SignedCustodyRecord;
    edited.record.reason = 'nothing to see';
    await rewrite(2, custodyText(edited));
    const afterEdit = await verifyCustodyLog(store, ROOT, custodyKeyPublic);
    expect(afterEdit.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('2 versions'),
        expect.stringMatching(/record 2: signature does not verify/),
        expect.stringMatching(/record 3: does not chain to record 2/),
      ]),
    );
    // Reordered: records 3 and 4 swapped between their keys.
    await rewrite(3, texts[3] ?? '');
    await rewrite(4, texts[2] ?? '');
    const afterSwap = await verifyCustodyLog(store, ROOT, custodyKeyPublic);
    expect(afterSwap.problems).toEqual(expect.arrayContaining([expect.stringMatching(/holds record 4/)]));
    // Removed: once its lock ran out, record 1's every version deleted.
    at(3651 + 1);
    for await (const v of store.listVersions(custodyKey(ROOT, 1))) await store.delete(v.key, v.versionId);
    const afterRemoval = await verifyCustodyLog(store, ROOT, custodyKeyPublic);
    expect(afterRemoval.problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/expected sequence number 1/)]),
    );
    await db.close();
  });
});
