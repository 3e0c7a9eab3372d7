/**
 * A dock whose evidence store is S3 (Ceph RGW with Object Lock), end to end: `bodycam dock init --store s3://…`
 * through the real CLI, the dock station in this process, a real sim camera daemon docking into it. Every segment,
 * manifest, closing manifest, audit batch and the device key lands in the bucket under COMPLIANCE retention, the
 * camera deletes only what the dock acknowledged, and a versioned DELETE of any object is refused. A dock pointed at
 * a bucket without Object Lock does not start.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, GetObjectRetentionCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDockConfig } from '../../../src/dock/layout.ts';
import { DockStation } from '../../../src/dock/main.ts';
import { generateDeviceKeys } from '../../../src/evidence/keys.ts';
import { parseManifest } from '../../../src/evidence/manifest.ts';
import { silentLogger } from '../../../src/lib/logger.ts';
import { enrollCamera, makeDock, until } from '../../harness/broker.ts';
import {
  CEPH_MISSING,
  CEPH_SKIP,
  type CephCluster,
  createBucket,
  credentialsFile,
  objectStore,
  rawClient,
  startCeph,
} from '../../harness/ceph.ts';
import { cli, Daemon, list, makeSimCamera } from '../../harness/daemon.ts';

const DAY = 86_400_000;
const describeCeph = describe.skipIf(CEPH_MISSING.length > 0);
const secrets = mkdtempSync(path.join(os.tmpdir(), 'bodycam-dock-s3-'));
let ceph: CephCluster;
const stations: DockStation[] = [];
const daemons: Daemon[] = [];

beforeAll(async () => {
  if (CEPH_MISSING.length > 0) return;
  ceph = await startCeph();
  await createBucket(ceph, 'evidence');
  await createBucket(ceph, 'plain-bucket', { objectLock: false });
}, 90_000);
afterAll(async () => {
  for (const d of daemons) await d.terminate();
  for (const s of stations) await s.stop();
  await ceph?.stop();
  rmSync(secrets, { recursive: true, force: true });
});

const s3Flags = (bucket: string, file: string) => [
  '--store',
  `s3://${bucket}/bodycam`,
  '--s3-endpoint',
  ceph.endpoint,
  '--s3-credentials',
  file,
  '--organisation',
  'pz5339',
];

describeCeph(`a dock storing into S3 ${CEPH_MISSING.length > 0 ? CEPH_SKIP : ''}`, () => {
  it('a docked incident ends up in the bucket, locked; the camera deletes only what the dock acknowledged', async () => {
    const creds = credentialsFile(secrets, ceph.admin);
    const dock = await makeDock(s3Flags('evidence', creds));
    expect(loadDockConfig(dock.dir).store).toMatchObject({
      kind: 's3',
      bucket: 'evidence',
      prefix: 'bodycam',
      organisation: 'pz5339',
      credentialsFile: creds,
    });
    const station = new DockStation(dock.dir, silentLogger());
    stations.push(station);
    await station.start();

    const camera = makeSimCamera((c) => {
      c['device'].id = 'cam-s3';
      c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 15, speed: 4, videoBitrateKbps: 400 };
      c['preRecord'].seconds = 2;
      c['recording'].segmentSeconds = 10;
      c['warning'].enabled = false;
    });
    enrollCamera(dock.dir, camera.configFile);
    const daemon = new Daemon(camera);
    daemons.push(daemon);
    await daemon.waitFor((s) => s.ring.seconds >= 2 && s.state === 'buffering', 60_000, 'pre-roll');
    await daemon.press('trigger', 1);
    const start = (await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording')).capture.mediaMs;
    await daemon.waitFor((s) => s.capture.mediaMs >= start + 16_000, 90_000, 'footage');
    await daemon.press('record', 1, 3500);
    await daemon.waitFor((s) => s.state === 'buffering', 20_000, 'stop');
    const before = list(camera).flatMap((i) => i.segments);
    expect(before.length).toBeGreaterThanOrEqual(2);

    const r = cli(['ctl', '--config', camera.configFile, 'set', 'dock', 'on']);
    expect(r.code).toBe(0);
    const segs = () => list(camera).flatMap((i) => i.segments);
    await until(() => segs().every((s) => s.offloaded), 'every segment offloaded', 90_000);
    expect(segs().every((s) => !existsSync(s.path) && existsSync(`${s.path}.receipt.json`))).toBe(true);

    const store = objectStore(ceph, 'evidence');
    const keys = async () => {
      const out: string[] = [];
      for await (const e of store.list('bodycam/pz5339/cam-s3/'))
        out.push(e.key.slice('bodycam/pz5339/cam-s3/'.length));
      return out;
    };
    // The closing manifest and the audit log follow the footage.
    const deadline = Date.now() + 30_000;
    let got = await keys();
    while (
      !(
        got.includes('device.pub') &&
        got.some((k) => k.startsWith('audit/')) &&
        got.some((k) => k.endsWith('/incident.manifest.json'))
      )
    ) {
      if (Date.now() > deadline) throw new Error(`the bucket holds only ${got.join(', ')}`);
      await new Promise((res) => setTimeout(res, 200));
      got = await keys();
    }
    for (const s of before) {
      const name = `${path.basename(path.dirname(s.path))}/${path.basename(s.path)}`;
      expect(got).toContain(name);
      expect(got).toContain(`${name}.manifest.json`);
    }
    expect(readFileSync(path.join(camera.dir, 'identity', 'device.pub'), 'utf8')).toBe(
      await text(`bodycam/pz5339/cam-s3/device.pub`),
    );

    // Verified straight from the bucket, with the keys from provisioning and enrolment.
    const verifyArgs = [
      'verify',
      's3://evidence/bodycam',
      '--s3-endpoint',
      ceph.endpoint,
      '--s3-credentials',
      creds,
      '--organisation',
      'pz5339',
      '--key',
      `cam-s3=${path.join(camera.dir, 'identity', 'device.pub')}`,
      '--dock-key',
      path.join(dock.dir, 'identity', 'dock.pub'),
    ];
    const verified = cli(verifyArgs);
    expect(verified.stdout, verified.stderr).toContain('Evidence check of s3://evidence/bodycam/pz5339/');
    expect(verified.code, verified.stdout).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`${before.length} of ${before.length} segment\\(s\\) verified`));

    // Exported straight from the bucket: verified there, decrypted with the custodian's identity.
    const incident = path.basename(path.dirname(before[0]?.path ?? ''));
    const out = path.join(secrets, 'from-bucket.mp4');
    const exportArgs = [
      'export',
      '--identity',
      camera.identityFile,
      '--incident',
      incident,
      '--out',
      out,
      '--from',
      ...verifyArgs.slice(1),
    ];
    const exported = cli(exportArgs);
    expect(exported.code, exported.stderr).toBe(0);
    const exportReport = JSON.parse(readFileSync(path.join(secrets, 'from-bucket.json'), 'utf8'));
    expect(exportReport.verification.ok).toBe(true);
    expect(exportReport.segments).toHaveLength(before.length);
    expect(exportReport.store).toMatchObject({ bucket: 's3://evidence/bodycam/pz5339/', findings: [] });
    expect(statSync(out).size).toBeGreaterThan(100_000);

    // The custody log beside the evidence: a legal hold recorded, then checked with the key from provisioning (and
    // said unchecked without it); the export's report carries the incident's history; an edited record is named.
    const custodyKeys = generateDeviceKeys();
    const custodyPriv = path.join(secrets, 'custody.key');
    const custodyPub = path.join(secrets, 'custody.pub');
    writeFileSync(custodyPriv, custodyKeys.privatePem, { mode: 0o600 });
    writeFileSync(custodyPub, custodyKeys.publicPem);
    const held = cli([
      'vault',
      'hold',
      'set',
      '--store',
      ...verifyArgs.slice(1, 8),
      '--signing-key',
      custodyPriv,
      '--operator',
      'insp. Peeters',
      '--lock-days',
      '1',
      '--incident',
      incident,
      '--reason',
      'case 2026/77 goes to court',
    ]);
    expect(held.code, held.stderr).toBe(0);
    const unchecked = cli(verifyArgs);
    expect(unchecked.code, unchecked.stdout).toBe(0);
    expect(unchecked.stdout).toContain('custody-unchecked');
    const withLog = cli([...verifyArgs, '--custody-key', custodyPub]);
    expect(withLog.code, withLog.stdout).toBe(0);
    expect(withLog.stdout).not.toContain('custody-');
    const out2 = path.join(secrets, 'with-history.mp4');
    const exported2 = cli([...exportArgs.map((a) => (a === out ? out2 : a)), '--custody-key', custodyPub]);
    expect(exported2.code, exported2.stderr).toBe(0);
    const report2 = JSON.parse(readFileSync(path.join(secrets, 'with-history.json'), 'utf8'));
    expect(report2.custody).toMatchObject({ verifies: true, records: 1 });
    expect(report2.custody.history.map((r: { record: { action: string; reason: string } }) => r.record)).toEqual([
      expect.objectContaining({ action: 'hold-set', reason: 'case 2026/77 goes to court', incident }),
    ]);
    const custodyRecord = 'bodycam/custody/pz5339/000000000001.json';
    const edited = (await text(custodyRecord)).replace('goes to court', 'was dropped');
    const rawEdit = rawClient(ceph);
    try {
      await rawEdit.send(new PutObjectCommand({ Bucket: 'evidence', Key: custodyRecord, Body: edited }));
    } finally {
      rawEdit.destroy();
    }
    const editedLog = cli([...verifyArgs, '--custody-key', custodyPub]);
    expect(editedLog.code, editedLog.stdout).toBe(1);
    expect(editedLog.stdout).toContain(`custody-log: ${custodyRecord}: 2 versions`);
    expect(editedLog.stdout).toMatch(/custody-log: record 1: signature does not verify/);

    const raw = rawClient(ceph);
    try {
      for (const key of got.map((k) => `bodycam/pz5339/cam-s3/${k}`)) {
        const ret = await raw.send(new GetObjectRetentionCommand({ Bucket: 'evidence', Key: key }));
        expect(ret.Retention?.Mode, key).toBe('COMPLIANCE');
        expect(ret.Retention?.RetainUntilDate?.getTime(), key).toBeGreaterThan(Date.now() + 29 * DAY);
        const head = await store.head(key);
        const del = raw.send(new DeleteObjectCommand({ Bucket: 'evidence', Key: key, VersionId: head?.versionId }));
        await expect(del, key).rejects.toMatchObject({ name: 'AccessDenied' });
        if (key.endsWith('.mp4.age.manifest.json')) {
          const m = parseManifest(await text(key)).payload;
          if (m.kind !== 'segment') throw new Error(`${key} is not a segment manifest`);
          const bytes = await body(key.slice(0, -'.manifest.json'.length));
          expect(createHash('sha256').update(bytes).digest('hex'), key).toBe(m.segment.sha256);
        }
      }
      // Rewritten as a new version by a client with the credentials, and a manifest hidden by a delete marker: the
      // bucket's verify names both, and the verifier what they did to the evidence.
      const segment = got.find((k) => k.endsWith('.mp4.age'));
      const manifest = got.filter((k) => k.endsWith('.mp4.age.manifest.json')).at(-1);
      if (segment === undefined || manifest === undefined) throw new Error('no segment in the bucket');
      const forged = await body(`bodycam/pz5339/cam-s3/${segment}`);
      forged[forged.length >> 1] = (forged[forged.length >> 1] ?? 0) ^ 0xff;
      // The forger copies the original's metadata, its SHA-256 included.
      const metadata = (await store.head(`bodycam/pz5339/cam-s3/${segment}`))?.metadata ?? {};
      const put = { Bucket: 'evidence', Key: `bodycam/pz5339/cam-s3/${segment}`, Body: forged, Metadata: metadata };
      await raw.send(new PutObjectCommand(put));
      await raw.send(new DeleteObjectCommand({ Bucket: 'evidence', Key: `bodycam/pz5339/cam-s3/${manifest}` }));
      const tampered = cli(verifyArgs);
      expect(tampered.code, tampered.stdout).toBe(1);
      expect(tampered.stdout).toContain(`object-versions: object bodycam/pz5339/cam-s3/${segment} has 2 versions`);
      expect(tampered.stdout).toContain(
        `object-versions: object bodycam/pz5339/cam-s3/${manifest} has 1 delete marker`,
      );
      expect(tampered.stdout).toMatch(new RegExp(`ERROR +cam-s3 .*${segment.replace(/[.]/g, '\\.')}.*hash-mismatch`));
      expect(tampered.stdout).toMatch(/FAILED: \d+ error/);
      // Nor is it exported.
      const refused = cli(exportArgs.map((a) => (a === out ? path.join(secrets, 'tampered.mp4') : a)));
      expect(refused.code, refused.stdout).not.toBe(0);
      expect(refused.stderr).toContain('the bucket shows what must not be');
      expect(existsSync(path.join(secrets, 'tampered.mp4'))).toBe(false);
      // The copied SHA-256 metadata does not make the bytes match it.
      expect(tampered.stdout).toContain(`object bodycam/pz5339/cam-s3/${segment} was stored with SHA-256`);
    } finally {
      raw.destroy();
      store.close();
    }

    async function body(key: string): Promise<Buffer> {
      const c = rawClient(ceph);
      try {
        const out = await c.send(new GetObjectCommand({ Bucket: 'evidence', Key: key }));
        return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      } finally {
        c.destroy();
      }
    }
    async function text(key: string): Promise<string> {
      return (await body(key)).toString('utf8');
    }
  }, 240_000);

  it('does not start with a bucket that has no Object Lock, and says what to fix', async () => {
    const dock = await makeDock(s3Flags('plain-bucket', credentialsFile(secrets, ceph.admin, 'plain.credentials')));
    const station = new DockStation(dock.dir, silentLogger());
    await expect(station.start()).rejects.toMatchObject({
      code: 'STORE_BUCKET',
      message: expect.stringContaining('has no Object Lock'),
    });
    await station.stop();
  });
});
