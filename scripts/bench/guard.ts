/**
 * The start guard's check of a release (src/camera/update/slots.ts installedReleaseProblem), which runs before every
 * start of a packaged camera that runs a release from the dock: a release shaped like the package's (2,600 files,
 * 25 MB: many small modules, a few large ones) installed as the updater installs it, then checked against its signed
 * manifest, against a floor measured in the same run: reading the same files, nothing else. The check may cost a
 * little over the floor (the hashing and the walk); its absolute time is printed to say what a start waits.
 * Usage: node scripts/bench/guard.ts
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { installedReleaseProblem, installRelease } from '../../src/camera/update/slots.ts';
import { releaseSlot } from '../../src/evidence/paths.ts';
import { openBundle, packBundle } from '../../src/protocol/bundle.ts';
import { GOALS, reportGoals } from './goals.ts';

const FILES = 2600;
// Sizes as in the package's dist/ and node_modules/: most a few KiB, one in 50 of 100–400 KiB, one of 4 MiB.
let seed = 7;
const next = () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};
const files = Array.from({ length: FILES }, (_, i) => {
  const size =
    i === 0 ? 4 * 1024 * 1024 : i % 50 === 0 ? 100_000 + Math.floor(next() * 300_000) : Math.floor(next() * 12_000);
  const bytes = Buffer.alloc(size);
  for (let j = 0; j < size; j += 4096) bytes[j] = Math.floor(next() * 256);
  return { path: `node_modules/m${i % 130}/lib/f${i}.js`, bytes };
});
const total = files.reduce((n, f) => n + f.bytes.length, 0);
const keys = generateKeyPairSync('ed25519');
const opened = openBundle(
  packBundle({ kind: 'release', version: '9.0.0' }, files, keys.privateKey),
  keys.publicKey,
  'release',
  '0.0.1',
);
if ('refused' in opened) throw new Error(opened.refused);
const root = mkdtempSync(path.join(os.tmpdir(), 'bodycam-bench-guard-'));
await installRelease(root, '9.0.0', opened.ok.files, opened.ok.signed);
const slot = releaseSlot(root, '9.0.0');

const floor = () => {
  for (const e of readdirSync(slot, { recursive: true, withFileTypes: true }))
    if (e.isFile()) readFileSync(path.join(e.parentPath, e.name));
};
const check = async () => {
  const problem = await installedReleaseProblem(slot, '9.0.0', keys.publicKey);
  if (problem !== null) throw new Error(`the check refused a release it should pass: ${problem}`);
};
const ms = async (run: () => unknown) => {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e6;
};
// Interleaved, so that load on the machine falls on both alike; medians of 9.
const floors: number[] = [];
const checks: number[] = [];
for (let i = 0; i < 9; i++) {
  floors.push(await ms(floor));
  checks.push(await ms(check));
}
rmSync(root, { recursive: true, force: true });
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)] as number;
const ratio = median(checks) / median(floors);
console.log(`release: ${FILES} files, ${(total / 1e6).toFixed(1)} MB`);
console.log(`read the files (floor): ${median(floors).toFixed(0)} ms`);
console.log(`start guard's check:    ${median(checks).toFixed(0)} ms (${ratio.toFixed(2)}x the floor)`);
reportGoals('guard', [
  {
    what: "the start guard's check over reading the files",
    actual: ratio,
    atMost: GOALS.guardCheckVsRead,
    unit: 'x',
    digits: 2,
    enforced: true,
  },
]);
