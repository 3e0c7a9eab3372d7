/**
 * The S3 evidence store's throughput, as a ratio to bare PutObject of the same bytes in the same run: a single-node
 * Ceph cluster with the RADOS Gateway (scripts/ceph), a bucket with Object Lock (COMPLIANCE default 30 days), and
 * SEGMENTS signed segments of SEGMENT_BYTES random bytes with their manifests. (a) The dock's S3 evidence store puts
 * each segment and its manifest as it does for a docked camera: write-once check, retention and dates, MD5 and signed
 * SHA-256 checked by the store, HEAD of the stored version, the local file removed. (b) A client with the same
 * settings puts the same bytes as plain PutObject requests (the bucket's default retention applies). Alternated
 * segment by segment (a shared machine's load swings more between passes than between neighbouring requests);
 * median of BENCH_RUNS (default 5) runs' ratios. Goal: store / bare ≥ 0.8; exits 1 below it.
 *
 *   node scripts/bench/store.ts
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3EvidenceStore } from '../../src/dock/store/s3-evidence-store.ts';
import { sha256Hex } from '../../src/evidence/canonical.ts';
import { generateDeviceKeys, keyId, loadPrivateKey, loadPublicKey } from '../../src/evidence/keys.ts';
import { ManifestChain, manifestFileText, segmentManifest } from '../../src/evidence/manifest.ts';
import { DEFAULT_RETENTION } from '../../src/evidence/retention.ts';
import { S3ObjectStore } from '../../src/store/s3.ts';
import { clusterRss, startCeph } from '../ceph/cluster.ts';

const SEGMENTS = Number(process.env['STORE_BENCH_SEGMENTS'] ?? 12);
const SEGMENT_BYTES = Number(process.env['STORE_BENCH_BYTES'] ?? 4 * 1024 * 1024);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const GOAL = 0.8;
const BUCKET = 'bench-evidence';
const DEVICE = 'bench-cam';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

interface Segment {
  incident: string;
  file: string;
  path: string;
  manifestText: string;
}

/** SEGMENTS sealed-looking segments (random bytes) with signed manifests, recorded a few minutes ago. */
function makeSegments(dir: string): Segment[] {
  mkdirSync(dir, { recursive: true });
  const keys = generateDeviceKeys();
  const privateKey = loadPrivateKey(keys.privatePem);
  const kid = keyId(loadPublicKey(keys.publicPem));
  const chain = new ManifestChain(null);
  const start = Date.now() - 10 * 60_000;
  const incident = `${DEVICE}-20260101T000000Z-0000`;
  return Array.from({ length: SEGMENTS }, (_, seq) => {
    const bytes = randomBytes(SEGMENT_BYTES);
    const file = `${String(seq).padStart(4, '0')}.mp4.age`;
    const at = (ms: number) => new Date(start + ms).toISOString();
    const env = chain.append(
      segmentManifest({
        device: DEVICE,
        incident,
        segment: { seq, file, sha256: sha256Hex(bytes), bytes: bytes.length, ending: 'closed' },
        media: { firstMs: seq * 60_000, endMs: (seq + 1) * 60_000, frames: 1800, fragments: 60 },
        wall: { first: at(seq * 60_000), end: at((seq + 1) * 60_000) },
        preroll: seq === 0 ? { requestedMs: 30_000, actualMs: 30_500, firstKeyframeOffsetMs: 0 } : null,
        clock: { source: 'ntp', offsetMs: 2 },
        retention: { policeAccessDays: 30, maxMonths: 12 },
        signedAt: at((seq + 1) * 60_000),
      }),
      privateKey,
      kid,
    );
    const p = path.join(dir, file);
    writeFileSync(p, bytes);
    return { incident, file, path: p, manifestText: manifestFileText(env) };
  });
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'bodycam-storebench-'));
  const ceph = await startCeph({ memstoreBytes: 8 * 1024 ** 3 });
  const settings = {
    endpoint: ceph.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: ceph.admin.accessKeyId, secretAccessKey: ceph.admin.secretAccessKey },
  };
  const objects = new S3ObjectStore({ ...settings, bucket: BUCKET });
  const bare = new S3Client({
    ...settings,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  const storeRates: number[] = [];
  const bareRates: number[] = [];
  const ratios: number[] = [];
  const bytes = SEGMENTS * SEGMENT_BYTES;
  try {
    const { CreateBucketCommand, PutObjectLockConfigurationCommand } = await import('@aws-sdk/client-s3');
    await bare.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
    await bare.send(
      new PutObjectLockConfigurationCommand({
        Bucket: BUCKET,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
        },
      }),
    );
    const originals = makeSegments(path.join(root, 'made'));
    for (let run = 0; run < RUNS; run++) {
      // Incoming files are copied first: the store removes each once it is stored.
      const incoming = path.join(root, `incoming-${run}`);
      mkdirSync(incoming, { recursive: true });
      const copies = originals.map((s) => {
        const p = path.join(incoming, s.file);
        copyFileSync(s.path, p);
        return { ...s, path: p };
      });
      const evidence = new S3EvidenceStore({
        store: objects,
        root: { prefix: `store-${run}`, organisation: 'bench' },
        policy: DEFAULT_RETENTION,
      });
      // Segment by segment, (a) then (b), so both meet the same load on a shared machine.
      let storeMs = 0;
      let bareMs = 0;
      for (const [i, s] of copies.entries()) {
        let t = performance.now();
        await evidence.putSegment(DEVICE, s.incident, s.file, s.path, s.manifestText);
        storeMs += performance.now() - t;
        const original = originals[i] ?? s;
        const key = `bare-${run}/bench/${DEVICE}/${s.incident}/${s.file}`;
        t = performance.now();
        // Read from the file, as the store does.
        await bare.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: readFileSync(original.path) }));
        await bare.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${key}.manifest.json`, Body: s.manifestText }));
        bareMs += performance.now() - t;
      }
      storeRates.push(bytes / 1e6 / (storeMs / 1000));
      bareRates.push(bytes / 1e6 / (bareMs / 1000));
      ratios.push(bareMs / storeMs);
    }
  } finally {
    const rss = clusterRss(ceph);
    objects.close();
    bare.destroy();
    await ceph.stop();
    rmSync(root, { recursive: true, force: true });
    process.stdout.write(
      `cluster: started in ${(ceph.startMs / 1000).toFixed(2)} s, ${(rss / 1024 ** 2).toFixed(0)} MiB RSS at the end\n`,
    );
  }
  const s = median(storeRates);
  const b = median(bareRates);
  const ratio = median(ratios);
  process.stdout.write(
    `store: ${SEGMENTS} segments of ${(SEGMENT_BYTES / 1e6).toFixed(1)} MB with manifests; median of ${RUNS}\n` +
      `S3 evidence store (write-once check, COMPLIANCE lock, MD5 and SHA-256 checked by the store): ${s.toFixed(1)} MB/s\n` +
      `bare PutObject, same bytes, same settings:                                       ${b.toFixed(1)} MB/s\n` +
      `ratio store / bare: ${ratio.toFixed(2)} (median of the runs' ratios; goal ≥ ${GOAL})\n`,
  );
  if (!(ratio >= GOAL)) {
    process.stderr.write(`store benchmark below its goal: ${ratio.toFixed(2)} < ${GOAL}\n`);
    process.exitCode = 1;
  }
}

await main();
