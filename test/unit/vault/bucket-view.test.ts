/**
 * The bucket seen as a dock's evidence directory (src/vault/bucket-view.ts), on the in-memory store behind the same
 * port as Ceph's: what the dock wrote comes back in the layout the verifier reads and verifies; what only the
 * bucket shows is named. The same against Ceph, through `bodycam verify s3://…`: test/integration/store/dock-s3.test.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { S3EvidenceStore } from '../../../src/dock/store/s3-evidence-store.ts';
import { loadPublicKey } from '../../../src/evidence/keys.ts';
import { DEFAULT_RETENTION } from '../../../src/evidence/retention.ts';
import { verifyDirectory } from '../../../src/evidence/verify.ts';
import { MemoryObjectStore } from '../../../src/store/memory.ts';
import { viewBucket } from '../../../src/vault/bucket-view.ts';
import { incomingFile, makeRecording } from '../../harness/recording.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const root = { prefix: 'bodycam', organisation: 'pz5339' };

async function docked() {
  const rec = makeRecording({ startMs: Date.now() - 10 * 60_000, sizes: [900, 800], auditEntries: 5 });
  const objects = new MemoryObjectStore();
  const store = new S3EvidenceStore({ store: objects, root, policy: DEFAULT_RETENTION });
  await store.putDeviceKey(rec.device, rec.publicPem);
  for (const seg of rec.segments) {
    await store.putSegment(rec.device, rec.incident, seg.file, await incomingFile(dir, seg), seg.manifestText);
  }
  await store.putClosing(rec.device, rec.incident, rec.closingText);
  await store.appendAudit(rec.device, rec.auditLines.slice(0, 2).join(''));
  await store.appendAudit(rec.device, rec.auditLines.slice(2).join(''));
  const keys = { devices: new Map([[rec.device, loadPublicKey(rec.publicPem)]]), docks: [] };
  return { rec, objects, keys };
}

/** A put as any client with the credentials can make it: GOVERNANCE (not COMPLIANCE) retention, metadata as given. */
function rawPut(objects: MemoryObjectStore, key: string, body: Buffer, metadata: Record<string, string> = {}) {
  return objects.put({
    key,
    body,
    size: body.length,
    md5: createHash('md5').update(body).digest(),
    sha256: createHash('sha256').update(body).digest(),
    retention: { mode: 'GOVERNANCE', retainUntil: new Date(Date.now() + 86_400_000) },
    metadata,
    contentType: 'application/octet-stream',
  });
}

describe('the bucket as an evidence directory', () => {
  it('lays out what the dock wrote as the verifier reads it, and verifies; the copy goes with remove()', async () => {
    const { rec, objects, keys } = await docked();
    const view = await viewBucket(objects, root);
    expect(view.findings).toEqual([]);
    expect(readFileSync(path.join(view.evidence, rec.device, 'audit.jsonl'), 'utf8')).toBe(rec.auditLines.join(''));
    expect(view.objects.get(`${rec.device}/audit.jsonl`)).toEqual([
      `bodycam/pz5339/${rec.device}/audit/000000000000-000000000001.jsonl`,
      `bodycam/pz5339/${rec.device}/audit/000000000002-000000000004.jsonl`,
    ]);
    const report = await verifyDirectory(view.evidence, keys);
    expect(report.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(report.devices[0]?.incidents[0]?.segments.every((s) => s.verified)).toBe(true);
    await view.remove();
    expect(existsSync(view.evidence)).toBe(false);
  });

  it('names what only the bucket shows: a rewrite, a delete marker, an unlocked object, a gap in the batches, a stray', async () => {
    const { rec, objects } = await docked();
    const base = `bodycam/pz5339/${rec.device}`;
    const segment = `${base}/${rec.incident}/0000.mp4.age`;
    const head = await objects.head(segment);
    // Rewritten with the original's metadata (its SHA-256 too), unlocked.
    await rawPut(objects, segment, Buffer.alloc(900, 1), head?.metadata ?? {});
    await objects.delete(`${base}/${rec.incident}/0001.mp4.age.manifest.json`);
    await rawPut(objects, `${base}/audit/000000000007-000000000008.jsonl`, Buffer.from(''));
    await rawPut(objects, `${base}/notes.txt`, Buffer.from('x'));
    // A recording "under way" planted in the bucket: the dock never writes one, and it is not copied to be read as one.
    await rawPut(objects, `${base}/${rec.incident}/0002.mp4.age.partial`, Buffer.alloc(10));
    await rawPut(objects, `${base}/${rec.incident}/0002.mp4.age.tail.manifest.json`, Buffer.alloc(10));
    const view = await viewBucket(objects, root);
    const got = view.findings.map((f) => `${f.code}: ${f.message}`);
    await view.remove();
    expect(got).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^hash-mismatch: object ${segment} was stored with SHA-256`)),
        expect.stringMatching(new RegExp(`^object-unlocked: object ${segment} is not under COMPLIANCE`)),
        `object-versions: object ${segment} has 2 versions (written once: an older version means it was rewritten)`,
        expect.stringMatching(/^object-versions: object .*0001\.mp4\.age\.manifest\.json has 1 delete marker/),
        expect.stringMatching(/^audit-gap: audit batch .*000000000007-000000000008\.jsonl: a gap: entries 5–6/),
        expect.stringMatching(/^unexpected-entry: object .*notes\.txt is not evidence/),
        expect.stringMatching(/^unexpected-entry: object .*0002\.mp4\.age\.partial is not evidence/),
        expect.stringMatching(/^unexpected-entry: object .*0002\.mp4\.age\.tail\.manifest\.json is not evidence/),
      ]),
    );
    // Strays are not copied, so only their names are reported; the extra audit batch is unlocked too.
    expect(got).toHaveLength(9);
  });
});
