/**
 * The camera acting on receipts (src/camera/sync/offload.ts), on real storage: only a receipt signed by the
 * enrolled dock for exactly a segment (or closing manifest) it holds is kept, marks it offloaded and only then
 * deletes the file; a repeat changes nothing; anything else is refused with its reason and touches nothing.
 */

import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateIdentity, parseRecipient } from '../../../../src/age/keys.ts';
import type { SegmentRow } from '../../../../src/camera/storage/segments.ts';
import { CameraStore } from '../../../../src/camera/storage/store.ts';
import { Offload } from '../../../../src/camera/sync/offload.ts';
import { envelopeHash } from '../../../../src/evidence/envelope.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../../../src/evidence/keys.ts';
import { INCIDENT_MANIFEST, receiptFileFor } from '../../../../src/evidence/paths.ts';

import { type Receipt, signReceipt } from '../../../../src/evidence/receipt.ts';
import { storeIncidentIn } from '../../../harness/stored-footage.ts';

interface Signer {
  privateKey: KeyObject;
  keyId: string;
}

function signer(): Signer {
  const k = generateDeviceKeys();
  const privateKey = loadPrivateKey(k.privatePem);
  return { privateKey, keyId: keyId(createPublicKey(privateKey)) };
}

async function camera() {
  const storageDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-receipts-'));
  const keys = generateDeviceKeys();
  const publicKey = loadPublicKey(keys.publicPem);
  const identity = {
    privateKey: loadPrivateKey(keys.privatePem),
    publicKey,
    keyId: keyId(publicKey),
    publicPem: keys.publicPem,
  };
  const store = CameraStore.open(storageDir);
  const recipients = [parseRecipient(generateIdentity().recipient)];
  const target = { store, storageDir, device: 'cam-r', recipients, identity, wallNow: Date.now };
  const { incident } = await storeIncidentIn(target, { segments: 2, bytesEach: 1000 });
  const dock = signer();
  const offload = new Offload({ store, storageDir, device: 'cam-r', dockKey: createPublicKey(dock.privateKey) });
  const segments = () => store.segments.ofIncident(incident);
  const closing = path.join(storageDir, 'footage', incident, INCIDENT_MANIFEST);
  return { store, storageDir, incident, dock, offload, segments, closing };
}

function segmentReceipt(seg: SegmentRow, by: Signer, over: Partial<Receipt> = {}) {
  return signReceipt(
    {
      kind: 'segment',
      device: 'cam-r',
      incident: seg.incidentId,
      seq: seg.seq,
      file: path.basename(seg.path),
      sha256: seg.sha256 ?? '',
      bytes: seg.bytes,
      manifest: 'ab'.repeat(32),
      storedAt: '2026-01-01T00:00:00.000Z',
      ...over,
    },
    by.privateKey,
    by.keyId,
  );
}

describe("a camera's receipts", () => {
  it('keeps a receipt signed by its dock for exactly a segment, marks it offloaded, then deletes the file', async () => {
    const c = await camera();
    const [seg, other] = c.segments();
    if (seg === undefined || other === undefined) throw new Error('two segments expected');
    const env = segmentReceipt(seg, c.dock);
    expect(await c.offload.receipt(env)).toEqual({
      done: 'segment',
      file: path.relative(c.storageDir, seg.path),
      sha256: seg.sha256,
      again: false,
    });
    expect(existsSync(seg.path)).toBe(false);
    expect(JSON.parse(readFileSync(receiptFileFor(seg.path), 'utf8'))).toEqual(JSON.parse(JSON.stringify(env)));
    expect(c.segments().map((s) => s.offloadedAt !== null)).toEqual([true, false]);
    expect(existsSync(other.path)).toBe(true);
    // The same receipt again (the dock missed our acknowledgement): acknowledged, nothing more happens.
    expect(await c.offload.receipt(env)).toMatchObject({ done: 'segment', again: true });
    expect(c.segments().map((s) => s.offloadedAt !== null)).toEqual([true, false]);
    c.store.close();
  });

  it('refuses anything else and touches nothing', async () => {
    const c = await camera();
    const [seg] = c.segments();
    if (seg === undefined) throw new Error('a segment expected');
    const notForThisSegment = 'receipt not signed by the enrolled dock for this segment';
    const altered = segmentReceipt(seg, c.dock);
    altered.payload.storedAt = '2030-01-01T00:00:00.000Z';
    const cases: Array<[string, unknown, string]> = [
      ['another key', segmentReceipt(seg, signer()), notForThisSegment],
      ['altered after signing', altered, notForThisSegment],
      ['another device', segmentReceipt(seg, c.dock, { device: 'cam-x' }), notForThisSegment],
      ['another hash', segmentReceipt(seg, c.dock, { sha256: 'f'.repeat(64) }), notForThisSegment],
      ['another size', segmentReceipt(seg, c.dock, { bytes: seg.bytes + 1 }), notForThisSegment],
      ['another file', segmentReceipt(seg, c.dock, { file: '0009.mp4.age' }), notForThisSegment],
      ['a segment not here', segmentReceipt(seg, c.dock, { seq: 7 }), `no segment ${seg.incidentId}#7 here`],
      ['not a receipt', { payload: 'x' }, 'not a receipt'],
      ['nothing', null, 'not a receipt'],
    ];
    for (const [what, env, reason] of cases) {
      expect({ what, outcome: await c.offload.receipt(env) }).toEqual({ what, outcome: { refused: reason } });
    }
    expect(existsSync(seg.path)).toBe(true);
    expect(existsSync(receiptFileFor(seg.path))).toBe(false);
    expect(c.segments().every((s) => s.offloadedAt === null)).toBe(true);
    c.store.close();
  });

  it("acts on a closing manifest's receipt only for its exact envelope hash", async () => {
    const c = await camera();
    const hash = envelopeHash(JSON.parse(readFileSync(c.closing, 'utf8')));
    const closingReceipt = (sha256: string, by = c.dock) =>
      signReceipt(
        {
          kind: 'incident',
          device: 'cam-r',
          incident: c.incident,
          seq: 2,
          file: INCIDENT_MANIFEST,
          sha256,
          bytes: 0,
          manifest: hash,
          storedAt: '2026-01-01T00:00:00.000Z',
        },
        by.privateKey,
        by.keyId,
      );
    const refused = { refused: 'receipt not signed by the enrolled dock for this closing manifest' };
    expect(await c.offload.receipt(closingReceipt('0'.repeat(64)))).toEqual(refused);
    expect(await c.offload.receipt(closingReceipt(hash, signer()))).toEqual(refused);
    expect(c.store.incidents.closingsAwaitingOffload()).toEqual([c.incident]);
    expect(await c.offload.receipt(closingReceipt(hash))).toMatchObject({
      done: 'incident',
      sha256: hash,
      again: false,
    });
    expect(c.store.incidents.closingsAwaitingOffload()).toEqual([]);
    expect(existsSync(`${c.closing}.receipt.json`)).toBe(true);
    expect(existsSync(c.closing)).toBe(true);
    expect(await c.offload.receipt(closingReceipt(hash))).toMatchObject({ done: 'incident', again: true });
    const foreign = signReceipt(
      { ...closingReceipt(hash).payload, incident: 'cam-r-20260101T000000Z-9999' },
      c.dock.privateKey,
      c.dock.keyId,
    );
    expect(await c.offload.receipt(foreign)).toEqual({
      refused: 'no closing manifest of cam-r-20260101T000000Z-9999 here',
    });
    c.store.close();
  });
});
