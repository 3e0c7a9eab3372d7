/**
 * Activation-to-durable benchmark. Captures 31+ s of the default synthetic source (1280x720@30, 2000 kb/s, real
 * ffmpeg) into the pre-record ring, then, several times each, measures
 *   (a) the recorder: activate() with the 30 s pre-roll until it is sealed, written and fsynced (index row included);
 *   (b) the floor: sealing the same bytes with AgeSealer and writing + fsyncing them to one file directly.
 * Prints both and their ratio (the machine is shared and noisy: the ratio is the figure to compare).
 *
 *   npm run bench            (BENCH_RUNS=N to change the repetitions)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../../src/lib/logger.ts';
import { Capture } from '../../src/camera/media/capture.ts';
import { PreRecordRing } from '../../src/camera/media/ring.ts';
import type { InitSegment, MediaFragment } from '../../src/camera/media/types.ts';
import { generateIdentity, parseRecipient } from '../../src/age/keys.ts';
import { AgeSealer } from '../../src/age/sealer.ts';
import { Recorder } from '../../src/camera/recording/recorder.ts';
import { SealedFileWriter } from '../../src/camera/recording/segments/sealed-file.ts';
import { IndexDb } from '../../src/camera/storage/index-db.ts';

const PREROLL_MS = 30_000;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);

async function fillRing(): Promise<{ init: InitSegment; fragments: MediaFragment[]; activationMs: number }> {
  const ring = new PreRecordRing({ prerollMs: PREROLL_MS, audioInPreroll: false });
  let init: InitSegment | undefined;
  let lastEnd = 0;
  const capture = new Capture({
    source: {
      kind: 'synthetic',
      width: 1280,
      height: 720,
      fps: 30,
      gopSeconds: 1,
      videoBitrateKbps: 2000,
      audio: true,
      speed: 16,
    },
    ffmpegPath: 'ffmpeg',
    logger: silentLogger(),
    onInit: (i) => {
      init = i;
    },
    onFragment: (f) => {
      ring.push(f);
      if (f.kind === 'video') lastEnd = f.endMs;
    },
    onGap: () => undefined,
  });
  await capture.start();
  while (lastEnd < PREROLL_MS + 1500) await new Promise((r) => setTimeout(r, 100));
  await capture.stop();
  if (init === undefined) throw new Error('no init segment');
  const selected = ring.selectPreroll(lastEnd);
  return { init, fragments: selected.fragments, activationMs: lastEnd };
}

async function recorderRun(
  dir: string,
  recipients: Buffer[],
  init: InitSegment,
  preroll: MediaFragment[],
  activationMs: number,
) {
  const index = new IndexDb(path.join(dir, 'index.sqlite'));
  const recorder = new Recorder({
    index,
    storageDir: dir,
    deviceId: 'bench',
    segmentMs: 60_000,
    stopTimeoutMs: 1000,
    openSegmentFile: (file) => SealedFileWriter.create({ path: file, recipients }),
    logger: silentLogger(),
  });
  recorder.setInit(init);
  const t0 = performance.now();
  recorder.activate({ trigger: 'bench', activationMs, requestedPrerollMs: PREROLL_MS, preroll });
  await recorder.drain();
  const ms = performance.now() - t0;
  recorder.requestStop('bench', activationMs);
  await recorder.shutdown(activationMs);
  index.close();
  return ms;
}

async function floorRun(dir: string, recipients: Buffer[], plain: Buffer[]) {
  const t0 = performance.now();
  const sealer = new AgeSealer(recipients);
  const fh = await open(path.join(dir, 'floor.age'), 'w');
  const parts = [sealer.header];
  for (const p of plain) parts.push(sealer.push(p));
  parts.push(sealer.sealTail());
  await fh.writev(parts);
  await fh.sync();
  const ms = performance.now() - t0;
  await fh.close();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const { init, fragments, activationMs } = await fillRing();
  const bytes = init.bytes.length + fragments.reduce((n, f) => n + f.bytes.length, 0);
  const seconds = (activationMs - (fragments[0]?.startMs ?? activationMs)) / 1000;
  const recipients = [parseRecipient(generateIdentity().recipient)];
  const plain = [init.bytes, ...fragments.map((f) => f.bytes)];
  const rec: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-bench-'));
    // Alternate the order so neither side always runs on a warmer cache.
    if (i % 2 === 0) {
      rec.push(await recorderRun(dir, recipients, init, fragments, activationMs));
      floor.push(await floorRun(dir, recipients, plain));
    } else {
      floor.push(await floorRun(dir, recipients, plain));
      rec.push(await recorderRun(dir, recipients, init, fragments, activationMs));
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const r = median(rec);
  const f = median(floor);
  process.stdout.write(
    `pre-roll: ${seconds.toFixed(1)} s, ${fragments.length} fragments, ${(bytes / 1e6).toFixed(2)} MB (1280x720@30, 2000 kb/s)\n` +
      `activation → durable (recorder, median of ${RUNS}): ${r.toFixed(1)} ms\n` +
      `floor: seal + write + fsync the same bytes directly:  ${f.toFixed(1)} ms\n` +
      `ratio recorder / floor: ${(r / f).toFixed(2)}\n`,
  );
}

await main();
