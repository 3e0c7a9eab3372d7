/**
 * Sealing throughput: AgeSealer over 64 MiB (pushed in 256 KiB pieces, about one fragment) against one raw
 * node:crypto ChaCha20-Poly1305 pass over the same bytes, in the same run, so the ratio is the age overhead; then
 * the cost of signing a segment's manifest and an audit entry, against sealing that segment.
 * Usage: node scripts/bench/seal.ts
 */
import { createCipheriv, createPublicKey, randomBytes } from 'node:crypto';
import { generateIdentity, parseRecipient } from '../../src/age/keys.ts';
import { AgeSealer } from '../../src/age/sealer.ts';
import { AuditChain, auditLine } from '../../src/evidence/audit.ts';
import { generateDeviceKeys, keyId, loadPrivateKey } from '../../src/evidence/keys.ts';
import { ManifestChain, manifestFileText, segmentManifest } from '../../src/evidence/manifest.ts';

const SIZE = 64 * 1024 * 1024;
const PIECE = 256 * 1024;
const plain = randomBytes(SIZE);
const recipients = [parseRecipient(generateIdentity().recipient)];

function timeMs(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function best(run: () => void): number {
  return Math.min(timeMs(run), timeMs(run), timeMs(run));
}

const raw = best(() => {
  const cipher = createCipheriv('chacha20-poly1305', randomBytes(32), randomBytes(12), { authTagLength: 16 });
  cipher.update(plain);
  cipher.final();
});
const age = best(() => {
  const sealer = new AgeSealer(recipients);
  for (let i = 0; i < SIZE; i += PIECE) sealer.push(plain.subarray(i, i + PIECE));
  sealer.finish();
});

const mbps = (ms: number) => (SIZE / 1e6 / (ms / 1000)).toFixed(0);
console.log(`raw chacha20-poly1305: ${mbps(raw)} MB/s (${raw.toFixed(1)} ms)`);
console.log(`AgeSealer:             ${mbps(age)} MB/s (${age.toFixed(1)} ms)`);
console.log(`AgeSealer / raw:       ${(raw / age).toFixed(2)}`);

// Signing and chaining: one segment manifest (sign + hash + file text) and one audit entry, against sealing the
// 60 s segment the manifest describes (2000 kb/s video + 64 kb/s audio ≈ 15.5 MB) in the same run.
const keys = generateDeviceKeys();
const privateKey = loadPrivateKey(keys.privatePem);
const id = keyId(createPublicKey(keys.publicPem));
const chain = new ManifestChain(null);
const audit = new AuditChain(null);
const manifestFields = () =>
  segmentManifest({
    device: 'bench-cam',
    incident: 'bench-cam-20260101T000000Z-0000',
    segment: { seq: 3, file: '0003.mp4.age', sha256: 'a'.repeat(64), bytes: 15_480_000, ending: 'closed' },
    media: { firstMs: 180_000, endMs: 240_000, frames: 1800, fragments: 120 },
    wall: { first: '2026-01-01T00:03:00.000Z', end: '2026-01-01T00:04:00.000Z' },
    preroll: null,
    clock: { source: 'ntp', offsetMs: null },
    retention: { policeAccessDays: 30, maxMonths: 12 },
    signedAt: '2026-01-01T00:04:00.100Z',
  });
const N = 500;
const perManifest =
  best(() => {
    for (let i = 0; i < N; i++) manifestFileText(chain.append(manifestFields(), privateKey, id));
  }) / N;
const perAudit =
  best(() => {
    for (let i = 0; i < N; i++)
      auditLine(
        audit.append(
          { at: '2026-01-01T00:00:00.000Z', kind: 'stop', incident: null, data: { reason: 'button-hold' } },
          privateKey,
          id,
        ),
      );
  }) / N;
const segmentBytes = Math.round(((2064 * 1000) / 8) * 60);
const segmentSeal = (age / SIZE) * segmentBytes;
console.log(
  `manifest sign + chain + file text: ${(perManifest * 1000).toFixed(0)} µs per segment; ${((perManifest / segmentSeal) * 100).toFixed(3)} % of sealing that 60 s segment (${segmentSeal.toFixed(1)} ms)`,
);
console.log(`audit entry sign + chain: ${(perAudit * 1000).toFixed(0)} µs`);
