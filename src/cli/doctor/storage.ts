/** Storage checks: the evidence directory, its free space, and whether it writes fast enough to keep up. */
import { type Stats, statSync } from 'node:fs';
import { open, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { recordingRate, storageOutlook, storageReserve } from '../../camera/health/reserve.ts';
import { CameraStore } from '../../camera/storage/store.ts';
import { indexFile } from '../../evidence/paths.ts';
import { reachProblem, W, X } from './access.ts';
import { type Check, type CheckResult, fail, pass, warn } from './check.ts';

const MIB = 1024 * 1024;
/** Writing slower than this many times the recording rate fails; below the second figure it warns. */
const FAIL_BELOW_RATIO = 2;
const WARN_BELOW_RATIO = 5;

/** The directory itself, or the nearest one above it that exists (the camera creates the rest at start). */
async function nearestExisting(dir: string): Promise<{ dir: string; stats: Stats }> {
  let at = dir;
  for (;;) {
    try {
      return { dir: at, stats: await stat(at) };
    } catch {
      const up = path.dirname(at);
      if (up === at) throw new Error(`nothing of ${dir} exists`);
      at = up;
    }
  }
}

export const storageCheck: Check = async (ctx) => {
  const dir = ctx.config.storage.dir;
  const found = await nearestExisting(dir);
  const results: CheckResult[] = [];
  if (found.dir !== dir) {
    results.push(warn('storage', `${dir} does not exist yet`, `the camera creates it at start; or mkdir -p ${dir}`));
  }
  const problem = await reachProblem(ctx, found.dir, W | X);
  if (problem !== null) {
    const fix =
      ctx.account === null
        ? `chown it to the camera's user (${dir})`
        : `bodycam upgrade --config ${ctx.configFile} (as root: gives ${dir} to ${ctx.account.name})`;
    return [...results, fail('storage', `${problem}: the camera cannot record`, fix)];
  }
  const fs = await statfs(found.dir);
  const free = fs.bavail * fs.bsize;
  const rate = recordingRate(ctx.config.capture.source);
  const reserve = storageReserve({ blockSize: fs.bsize, ...cardContents(dir) }).bytes;
  const outlook = storageOutlook({
    freeBytes: free,
    reserveBytes: reserve,
    bytesPerSecond: rate.bytesPerSecond,
    segmentSeconds: ctx.config.recording.segmentSeconds,
    lowMinutes: ctx.config.storage.lowMinutes,
  });
  const freeText =
    `${(free / 1024 ** 3).toFixed(1)} GiB free, ${(reserve / MIB).toFixed(0)} MiB of it the reserve: ` +
    `about ${(outlook.minutesLeft / 60).toFixed(1)} h of recording left`;
  if (outlook.level === 'full') {
    results.push(fail('space', freeText, 'offload at the dock or free space: not even one segment fits'));
  } else if (outlook.level === 'low') {
    results.push(warn('space', `${freeText}, below storage.lowMinutes`, 'offload at the dock soon'));
  } else {
    results.push(pass('space', freeText));
  }
  if (ctx.config.feedback.storageLowMb !== undefined) {
    results.push(
      warn('config', 'feedback.storageLowMb is deprecated and ignored', 'remove it; set storage.lowMinutes'),
    );
  }
  results.push(await writeSpeed(found.dir, ctx.writeTestBytes, rate.bytesPerSecond));
  return results;
};

/** What the card holds, from its index when there is one (read-only, beside a running camera). */
function cardContents(dir: string): { segmentsOnCard: number; incidentsOnCard: number; walBytesNow: number } {
  try {
    statSync(indexFile(dir));
    const store = CameraStore.open(dir, { readonly: true });
    try {
      return store.contents();
    } finally {
      store.close();
    }
  } catch {
    return { segmentsOnCard: 0, incidentsOnCard: 0, walBytesNow: 0 };
  }
}

/** Write and fsync `bytes` in 1 MiB blocks, as segments are written; the file is removed afterwards. */
async function writeSpeed(dir: string, bytes: number, needed: number): Promise<CheckResult> {
  const file = path.join(dir, `.doctor-write-test-${process.pid}`);
  const block = Buffer.alloc(MIB, 0xa5);
  const started = process.hrtime.bigint();
  let written = 0;
  try {
    const handle = await open(file, 'w', 0o600);
    try {
      while (written < bytes) {
        const n = Math.min(block.length, bytes - written);
        await handle.write(block, 0, n);
        written += n;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    return fail('write', `writing to ${dir} failed (${(e as Error).message})`, 'check the card or disk (dmesg)');
  } finally {
    await rm(file, { force: true });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rate = written / Math.max(seconds, 1e-6);
  const ratio = rate / needed;
  const detail = `${(rate / MIB).toFixed(1)} MiB/s written and synced = ${ratio.toFixed(0)}× the recording rate`;
  if (ratio < FAIL_BELOW_RATIO) {
    return fail('write', detail, 'use a faster card (A1/A2, U3) or a lower capture.source.videoBitrateKbps');
  }
  if (ratio < WARN_BELOW_RATIO) return warn('write', detail, 'a faster card (A1/A2, U3) leaves room for activations');
  return pass('write', detail);
}
