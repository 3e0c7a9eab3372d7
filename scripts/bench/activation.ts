/**
 * Activation-to-durable benchmark, on the camera as `bodycam run` builds it (the same Camera class and a config
 * from the same code as `init --board sim`: synthetic 1280x720@30, 2000 kb/s, 30 s pre-roll, real time, real
 * ffmpeg, SQLite and age sealing). Once the ring holds 30 s, it activates several times and measures
 *   (a) the camera: from activate() until the recorder reports the pre-roll durable (segment synced: sealed,
 *       written, fsynced, tail and index rows committed);
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
import { generateIdentity, parseRecipient } from '../../src/age/keys.ts';
import { AgeSealer } from '../../src/age/sealer.ts';
import { Camera } from '../../src/camera/main.ts';
import { PreRecordRing } from '../../src/camera/media/ring.ts';
import type { InitSegment } from '../../src/camera/media/types.ts';
import { buildInitialConfig } from '../../src/cli/init.ts';
import { validateConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/lib/logger.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);

function next<T>(subscribe: (resolve: (v: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((v) => {
      off();
      resolve(v);
    });
  });
}

async function floorRun(dir: string, recipients: Buffer[], plain: Buffer[]): Promise<number> {
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
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-bench-'));
  const { recipient } = generateIdentity();
  const checked = validateConfig(
    buildInitialConfig({ dir, recipient: [recipient], board: 'sim', deviceId: 'bench', force: false }),
    dir,
  );
  if (!checked.ok) throw new Error(`bench config: ${JSON.stringify(checked.problems)}`);
  const config = checked.config;
  const camera = new Camera(config, silentLogger());
  const bus = camera.bus;
  // The floor seals exactly what the camera's ring hands the recorder: the same selection over the same fragments.
  const mirror = new PreRecordRing({
    prerollMs: config.preRecord.seconds * 1000,
    audioInPreroll: config.preRecord.audio,
  });
  let init: InitSegment | undefined;
  bus.on('capture.init', (i) => {
    init = i;
  });
  bus.on('capture.fragment', (f) => mirror.push(f));
  await camera.start();
  while (mirror.stats().seconds < config.preRecord.seconds + 1) await new Promise((r) => setTimeout(r, 200));

  const recipients = [parseRecipient(recipient)];
  const cam: number[] = [];
  const floor: number[] = [];
  let bytes = 0;
  let seconds = 0;
  let fragments = 0;
  for (let i = 0; i < RUNS; i++) {
    const floorDir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-floor-'));
    const measureFloor = async () => {
      const selected = mirror.selectPreroll(activationMs);
      const plain = [init?.bytes ?? Buffer.alloc(0), ...selected.fragments.map((f) => f.bytes)];
      floor.push(await floorRun(floorDir, recipients, plain));
    };
    let activationMs = 0;
    const started = next<number>((resolve) => bus.on('incident.started', (e) => resolve(e.activationMs)));
    const synced = next<number>((resolve) => bus.on('segment.synced', () => resolve(performance.now())));
    const t0 = performance.now();
    if (camera.activate('bench') === null) throw new Error('the camera did not start recording');
    activationMs = await started;
    cam.push((await synced) - t0);
    const selected = mirror.selectPreroll(activationMs);
    fragments = selected.fragments.length;
    seconds = selected.actualPrerollMs / 1000;
    bytes = (init?.bytes.length ?? 0) + selected.fragments.reduce((n, f) => n + f.bytes.length, 0);
    const closed = next<void>((resolve) => bus.on('incident.closed', () => resolve()));
    camera.stopRecording('bench');
    await closed;
    await measureFloor();
    rmSync(floorDir, { recursive: true, force: true });
  }
  await camera.stop();
  rmSync(dir, { recursive: true, force: true });
  const c = median(cam);
  const f = median(floor);
  process.stdout.write(
    `pre-roll: ${seconds.toFixed(1)} s, ${fragments} fragments, ${(bytes / 1e6).toFixed(2)} MB (1280x720@30, 2000 kb/s)\n` +
      `activation → durable (camera, median of ${RUNS}): ${c.toFixed(1)} ms\n` +
      `floor: seal + write + fsync the same bytes directly:  ${f.toFixed(1)} ms\n` +
      `ratio camera / floor: ${(c / f).toFixed(2)}\n`,
  );
}

await main();
