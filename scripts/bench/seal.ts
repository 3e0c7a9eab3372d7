/**
 * Sealing throughput: AgeSealer over 64 MiB (pushed in 256 KiB pieces, about one fragment) against one raw
 * node:crypto ChaCha20-Poly1305 pass over the same bytes, in the same run, so the ratio is the age overhead.
 * Usage: node scripts/bench/seal.ts
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { generateIdentity, parseRecipient } from '../../src/age/keys.ts';
import { AgeSealer } from '../../src/age/sealer.ts';

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
