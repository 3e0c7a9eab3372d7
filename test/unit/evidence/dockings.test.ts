/**
 * Docking records and completeness: a record signed by the dock proves the chain and the audit log complete up to
 * the heads it names; anything missing or different below them is an error; records that cannot be checked prove
 * nothing and say so; at a dock, the records themselves form a chain.
 */
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAuditLog } from '../../../src/evidence/audit.ts';
import { dockingHead, dockingLine, parseDockingLine, signDocking } from '../../../src/evidence/docking.ts';
import type { ChainHead, Envelope } from '../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../src/evidence/keys.ts';
import { ManifestChain, manifestFileText, segmentManifest } from '../../../src/evidence/manifest.ts';
import { DOCKINGS_LOG } from '../../../src/evidence/paths.ts';
import { verifyDirectory } from '../../../src/evidence/verify.ts';
import { type DeviceBuilder, INC_B, keysOf, removeTempDirs, seg, standardDevice, summary, tempDir } from './builder.ts';

afterAll(removeTempDirs);

function dockIdentity() {
  const pem = generateDeviceKeys();
  const publicKey = loadPublicKey(pem.publicPem);
  return { privateKey: loadPrivateKey(pem.privatePem), publicKey, keyId: keyId(publicKey) };
}
const dock = dockIdentity();

/** The device's current heads: its manifest chain and its audit log as written so far. */
async function headsOf(d: DeviceBuilder): Promise<{ chain: ChainHead | null; audit: ChainHead | null }> {
  const log = parseAuditLog(await readFile(path.join(d.dir, 'audit.jsonl')));
  const last = log.entries.at(-1);
  return {
    chain: d.chain.head,
    audit: last === undefined ? null : { seq: last.envelope.payload.seq, hash: last.hash },
  };
}

/** Appends a record of `heads` (chained to `last`) to the device's dockings.jsonl. */
async function record(
  d: DeviceBuilder,
  heads: { chain: ChainHead | null; audit: ChainHead | null },
  last: ChainHead | null,
  by = dock,
) {
  const env = signDocking({ device: d.id, at: '2026-03-01T12:00:00.000Z', ...heads }, last, by.privateKey, by.keyId);
  await appendFile(path.join(d.dir, DOCKINGS_LOG), dockingLine(env));
  return env;
}

const withDock = (d: DeviceBuilder) => ({ ...keysOf(d), docks: [dock.publicKey] });

describe('docking records on a camera', () => {
  it('prove the chain and the audit log complete up to their heads, and the report says so', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    await record(d, await headsOf(d), null);
    const report = await verifyDirectory(dir, withDock(d));
    expect(summary(report)).toEqual([]);
    expect(report.devices[0]?.completeness).toEqual({
      chain: { seq: 6, record: { seq: 0, at: '2026-03-01T12:00:00.000Z', dockKeyId: dock.keyId } },
      audit: { seq: 12, record: { seq: 0, at: '2026-03-01T12:00:00.000Z', dockKeyId: dock.keyId } },
    });
  });

  it('show the newest incident and the audit tail removed below their heads', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    await record(d, await headsOf(d), null);
    await rm(path.join(dir, 'footage', INC_B), { recursive: true });
    const file = path.join(dir, 'audit.jsonl');
    const lines = (await readFile(file, 'utf8')).split('\n');
    const cut = lines.findIndex((l) => l.includes(INC_B));
    await writeFile(
      file,
      lines
        .slice(0, cut)
        .map((l) => `${l}\n`)
        .join(''),
    );
    const report = await verifyDirectory(dir, withDock(d));
    expect(summary(report)).toEqual(['error below-dock-record -', 'error below-dock-record audit.jsonl']);
    expect(report.findings[0]?.message).toMatch(
      /manifests chainSeq 4–6 are missing; the dock recorded it at docking record 0/,
    );
    expect(report.devices[0]?.completeness).toEqual({ chain: null, audit: null });
  });

  it('show a head replaced by another manifest signed with the device key (a rolled-back or forked card)', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    const heads = await headsOf(d);
    await record(d, { chain: { seq: 4, hash: d.chain.head?.hash ?? '' }, audit: null }, null);
    const b0 = `${seg(INC_B, 0)}.manifest.json`;
    const original = JSON.parse(await readFile(path.join(dir, b0), 'utf8'));
    const { chainSeq, prev, format: _f, kind: _k, ...fields } = original.payload;
    const forged = new ManifestChain({ seq: chainSeq - 1, hash: prev }).append(
      segmentManifest({ ...fields, media: { ...fields.media, frames: 1 } }),
      d.privateKey,
      d.kid,
    );
    await writeFile(path.join(dir, b0), manifestFileText(forged));
    const report = await verifyDirectory(dir, withDock(d));
    expect(summary(report)).toContain('error rolled-back -');
    expect(heads.chain?.seq).toBe(6);
  });

  it('prove nothing without the dock key, and say so; a record signed by another key is an error', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    await record(d, await headsOf(d), null);
    const unchecked = await verifyDirectory(dir, keysOf(d));
    expect(summary(unchecked)).toEqual(['warning dockings-unchecked dockings.jsonl']);
    expect(unchecked.devices[0]?.completeness).toEqual({ chain: null, audit: null });
    await record(d, await headsOf(d), null, dockIdentity());
    expect(summary(await verifyDirectory(dir, withDock(d)))).toEqual(['error docking-bad-signature dockings.jsonl:2']);
  });

  it('refuse a record of another device and a record whose fields were edited', async () => {
    const dir = await tempDir();
    const d = await standardDevice(dir);
    const env = signDocking(
      { device: 'cam-9', at: '2026-03-01T12:00:00.000Z', ...(await headsOf(d)) },
      null,
      dock.privateKey,
      dock.keyId,
    );
    const edited: Envelope<typeof env.payload> = { ...env, payload: { ...env.payload, device: d.id } };
    await writeFile(path.join(dir, DOCKINGS_LOG), dockingLine(env) + dockingLine(edited));
    expect(summary(await verifyDirectory(dir, withDock(d)))).toEqual([
      'error docking-bad-signature dockings.jsonl:2',
      'error docking-malformed dockings.jsonl:1',
    ]);
  });
});

describe("docking records at a dock: the dock's own chain", () => {
  async function dockDevice() {
    const root = await tempDir();
    const d = await standardDevice(path.join(root, 'cam-0042'), 'dock');
    const first = await record(d, { chain: { seq: 3, hash: '' }, audit: null }, null).catch(() => null);
    expect(first).toBeNull(); // a head needs its hash: the format refuses an empty one
    const heads = await headsOf(d);
    const r0 = await record(d, { chain: heads.chain, audit: null }, null);
    const r1 = await record(d, heads, dockingHead(r0));
    return { root, d, r0, r1 };
  }

  it('verify when complete and contiguous', async () => {
    const { root, d } = await dockDevice();
    const report = await verifyDirectory(root, withDock(d));
    expect(summary(report)).toEqual([]);
    expect(report.devices[0]?.completeness.audit?.record.seq).toBe(1);
  });

  it('show a record removed or replaced', async () => {
    const { root, d, r1 } = await dockDevice();
    const file = path.join(root, 'cam-0042', DOCKINGS_LOG);
    await writeFile(file, dockingLine(r1));
    expect(summary(await verifyDirectory(root, withDock(d)))).toEqual(['error docking-gap cam-0042/dockings.jsonl:1']);
    const other = signDocking(
      { device: d.id, at: '2026-03-02T00:00:00.000Z', chain: null, audit: null },
      null,
      dock.privateKey,
      dock.keyId,
    );
    await writeFile(file, dockingLine(other) + dockingLine(r1));
    expect(summary(await verifyDirectory(root, withDock(d)))).toEqual([
      'error docking-broken cam-0042/dockings.jsonl:2',
    ]);
  });

  it('parse only canonical lines', () => {
    const env = signDocking(
      { device: 'cam-1', at: '2026-03-01T12:00:00.000Z', chain: null, audit: null },
      null,
      dock.privateKey,
      dock.keyId,
    );
    expect(parseDockingLine(dockingLine(env).trimEnd())).toEqual({ envelope: env });
    expect(parseDockingLine(JSON.stringify(env))).toEqual({ reason: 'not written as canonical JSON' });
  });
});
