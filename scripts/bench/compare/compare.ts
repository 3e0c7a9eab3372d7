/**
 * bodycam against what people build instead, in one run and one process tree, on one encoded source
 * (feed.ts): bodycam, an ffmpeg segment_wrap loop recorder with a copying controller, and a GStreamer leaky
 * queue opened on the trigger (with a blocking probe, and as the bare queue+valve recipe). The same trigger
 * frames for all. Per recorder and trigger: activation → durable pre-roll and its ratio to age-sealing + writing +
 * fsyncing the same number of bytes of the same stream directly (the floor, measured right after, while the
 * others are idle); pre-roll requested vs recorded (ffprobe); first frame a keyframe; frames lost or duplicated
 * (each frame recognised by its slice hash); controller and recorder CPU per hour of footage; peak RSS; what the
 * card sees (card.ts): bytes written per standby hour and, while recording, per byte of footage kept.
 * Writes bench-results/compare.json and compare.svg, prints the README table, and exits non-zero when one of
 * bodycam's goals (goals.ts) is missed.
 *
 *   npm run bench    or   node scripts/bench/compare/compare.ts   (BENCH_COMPARE_TRIGGERS=N, default 4)
 *
 * Under arm64 emulation (`npm run bench:arm64`, scripts/bench/arm64.sh): this script runs on the arm64 Node under
 * qemu-aarch64, BENCH_COMPARE_NODE (a JSON array: command and first arguments) starts the Node controllers the same
 * way, BENCH_COMPARE_NAME names the results (bench-results/NAME.json, .svg), and BENCH_COMPARE_GST=0 leaves out the
 * GStreamer rows (their Python and GStreamer would run natively beside emulated Node: no ratio to read);
 * BENCH_COMPARE_START_S (default 60) is how long each recorder may take to start.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writevSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateIdentity, parseRecipient } from '../../../src/age/keys.ts';
import { AgeSealer } from '../../../src/age/sealer.ts';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../../src/lib/memory.ts';
import { GOALS, type Miss, reportGoals } from '../goals.ts';
import { machineLine } from '../machine.ts';
import { framesOfRecording } from './analyze.ts';
import type { Phase } from './card.ts';
import { Feed, loadClip, type Source } from './feed.ts';
import { TreeSampler } from './procstat.ts';
import { seamReport } from './seam.ts';
import { peerTable, recordingMisses, type SystemResult, summarise, table, writeChart } from './summary.ts';
import { Controller, gstreamerMissing, systemSpecs } from './systems.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const SOURCE: Source = { width: 1920, height: 1080, fps: 30, kbps: 8000, seconds: 20 };
const PREROLL_S = 30;
const POST_S = 5;
const STAGGER_MS = 3000;
/**
 * After a recording closes, this long is its closing phase (card.ts): bodycam's spoken warning runs ~13 s from the
 * activation, and its end is audited and signs the incident's manifest; on a loaded machine that comes seconds late.
 */
const CLOSING_S = 20;
const TRIGGERS = Number(process.env['BENCH_COMPARE_TRIGGERS'] ?? 4);
const NAME = process.env['BENCH_COMPARE_NAME'] ?? 'compare';
if (!/^[a-z0-9-]+$/.test(NAME)) throw new Error(`compare: BENCH_COMPARE_NAME ${JSON.stringify(NAME)}: a-z, 0-9, -`);
const NODE = nodeCommand(process.env['BENCH_COMPARE_NODE']);

/** The command that starts the Node controllers: BENCH_COMPARE_NODE, a JSON array of strings, or this Node. */
function nodeCommand(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') return [process.execPath];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = null;
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== '')) {
    throw new Error(`compare: BENCH_COMPARE_NODE must be a JSON array of strings, e.g. ["qemu-aarch64-static", …]`);
  }
  return v as string[];
}
/** First trigger once 30 s are buffered; then every ~36 s (the GStreamer queue refills only after a stop), the
 *  fractions moving the trigger across the GOP. */
const triggerFrames = Array.from({ length: TRIGGERS }, (_, j) => Math.round((33.2 + j * 36.37) * SOURCE.fps));

/**
 * Seal + write + fsync `bytes` of the stream, the better of two tries. Synchronous on purpose: the feed's FIFO
 * writes can hold every libuv pool thread, which would make an asynchronous floor wait for a thread.
 */
function floorMs(clip: Buffer, bytes: number, dir: string, recipients: Buffer[]): number {
  const plain: Buffer[] = [];
  for (let left = bytes; left > 0; left -= clip.length) plain.push(clip.subarray(0, Math.min(left, clip.length)));
  const once = () => {
    const t0 = performance.now();
    const sealer = new AgeSealer(recipients);
    const fd = openSync(path.join(dir, 'floor.age'), 'w');
    writevSync(fd, [sealer.header, ...plain.map((p) => sealer.push(p)), sealer.sealTail()]);
    fsyncSync(fd);
    const ms = performance.now() - t0;
    closeSync(fd);
    return ms;
  };
  return Math.min(once(), once());
}

async function main(): Promise<void> {
  const started = performance.now();
  const clip = loadClip(SOURCE, path.join(REPO, '.cache/bench'));
  const clipIndex = new Map(clip.units.map((u, i) => [u.id, i]));
  if (clipIndex.size !== clip.units.length) throw new Error('compare: the clip has repeated frames');
  const gstMissing = process.env['BENCH_COMPARE_GST'] === '0' ? 'left out (BENCH_COMPARE_GST=0)' : gstreamerMissing();
  if (gstMissing !== null) process.stderr.write(`compare: GStreamer rows skipped: ${gstMissing}\n`);
  const specs = systemSpecs(
    {
      prerollSeconds: PREROLL_S,
      fps: SOURCE.fps,
      kbps: SOURCE.kbps,
      width: SOURCE.width,
      height: SOURCE.height,
      nodeFlags: DAEMON_NODE_FLAGS,
      daemonEnv: DAEMON_ENV,
      node: NODE,
    },
    gstMissing === null,
  );
  const work = mkdtempSync(path.join(os.tmpdir(), 'bodycam-compare-'));
  // The write counters count pages of a block device's files: on tmpfs every recorder would write nothing.
  const fsType = spawnSync('stat', ['-f', '-c', '%T', work], { encoding: 'utf8' }).stdout.trim();
  if (fsType === 'tmpfs' || fsType === 'ramfs') {
    throw new Error(`compare: ${work} is on ${fsType}; set TMPDIR to a directory on a disk`);
  }
  const recipients = [parseRecipient(generateIdentity().recipient)];
  const runs = specs.map((spec) => {
    const dir = path.join(work, spec.key);
    mkdirSync(dir);
    const fifo = path.join(dir, 'feed.h264');
    spawnSync('mkfifo', [fifo]);
    const controller = new Controller(spec, fifo, dir);
    const sampler = new TreeSampler(controller.child.pid ?? 0);
    const card = new CardLog(sampler, CLOSING_S * SOURCE.fps);
    return { spec, dir, fifo, controller, sampler, floors: [] as number[], card };
  });
  const floorQueue: Promise<void>[] = [];
  const post = POST_S * SOURCE.fps;
  const feed = new Feed(
    clip.units,
    SOURCE.fps,
    STAGGER_MS,
    runs.map((run) => ({
      fifo: run.fifo,
      onFrame: (n) => {
        run.card.fed(n);
        const j = triggerFrames.indexOf(n);
        if (j >= 0) {
          run.card.activated();
          run.controller.send({ cmd: 'trigger', id: j });
          void run.controller
            .next((r) => r.event === 'stopped' && r.id === j, 600_000)
            .then((r) => {
              if (r !== undefined) run.card.stopped();
            });
          // The floor for the same bytes, right after this recorder's durable report (the others are idle then).
          floorQueue.push(
            run.controller
              .next((r) => r.event === 'durable' && r.id === j, 20_000)
              .then(async (r) => {
                if (r?.event === 'durable') run.floors[j] = floorMs(clip.bytes, r.bytes, run.dir, recipients);
              }),
          );
        }
        const s = triggerFrames.indexOf(n - post);
        if (s >= 0) run.controller.send({ cmd: 'stop', id: s });
      },
    })),
  );
  const startMs = Number(process.env['BENCH_COMPARE_START_S'] ?? 60) * 1000;
  const ready = await Promise.all(runs.map((r) => r.controller.next((x) => x.event === 'ready', startMs)));
  if (ready.some((r) => r === undefined)) throw new Error('compare: a recorder did not start');
  for (const r of runs) {
    r.sampler.mark();
    r.card.start(); // start-up (keys, prompts, config) is not standby
  }
  feed.start();
  const sampling = setInterval(() => {
    for (const r of runs) r.sampler.sample();
  }, 1000);
  const lastTrigger = TRIGGERS - 1;
  await Promise.all(runs.map((r) => r.controller.next((x) => x.event === 'stopped' && x.id === lastTrigger, 600_000)));
  // Every recorder's last recording gets its whole closing phase before the counters are read for the last time.
  await new Promise((resolve) => setTimeout(resolve, CLOSING_S * 1000 + 1000));
  for (const r of runs) {
    r.sampler.sample();
    r.card.end();
  }
  const footageSeconds = feed.seconds();
  clearInterval(sampling);
  await Promise.all(floorQueue);
  feed.stop();
  await Promise.all(runs.map((r) => r.controller.quit(5000)));

  const identity = runs.find((r) => r.spec.key === 'bodycam')?.controller.reports.find((x) => x.event === 'ready');
  const results: SystemResult[] = runs.map((run) => {
    const triggers = triggerFrames.map((frame, j) => {
      const durable = run.controller.reports.find((x) => x.event === 'durable' && x.id === j);
      const stopped = run.controller.reports.find((x) => x.event === 'stopped' && x.id === j);
      const files = stopped?.event === 'stopped' ? stopped.files : [];
      const key = run.spec.key === 'bodycam' && identity?.event === 'ready' ? identity.identity : undefined;
      const frames = framesOfRecording(files, key);
      return {
        frame,
        durableMs: durable?.event === 'durable' ? durable.ms : null,
        durableBytes: durable?.event === 'durable' ? durable.bytes : null,
        floorMs: run.floors[j] ?? null,
        seam: seamReport(frames, clipIndex, clip.units.length, {
          frame,
          stopFrame: frame + POST_S * SOURCE.fps,
          fps: SOURCE.fps,
        }),
      };
    });
    const totals = run.sampler.totals(run.spec.exclude);
    const kept = run.controller.reports.flatMap((r) => (r.event === 'stopped' ? r.files : []));
    return {
      key: run.spec.key,
      label: run.spec.label,
      counted: run.spec.counted,
      triggers,
      cpuPerHour: {
        controller: (totals.controller.cpu / footageSeconds) * 3600,
        recorder: (totals.tree.cpu / footageSeconds) * 3600,
      },
      cpuPerHourByCommand: Object.fromEntries(
        Object.entries(totals.byCommand).map(([k, cpu]) => [k, Math.round((cpu / footageSeconds) * 36_000) / 10]),
      ),
      peakRss: { controller: totals.controller.rss, recorder: totals.tree.rss },
      card: { phases: run.card.phases, footageBytes: kept.reduce((n, f) => n + statSync(f).size, 0) },
    };
  });
  rmSync(work, { recursive: true, force: true });

  const summary = summarise(results, { prerollSeconds: PREROLL_S, gopSeconds: 1 });
  const outDir = path.join(REPO, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const doc = {
    command:
      NAME === 'compare'
        ? 'npm run bench (node scripts/bench/compare/compare.ts)'
        : `BENCH_COMPARE_NAME=${NAME} node scripts/bench/compare/compare.ts`,
    node: { arch: process.arch, version: process.version, controllers: NODE },
    date: new Date().toISOString(),
    source: { ...SOURCE, gop: SOURCE.fps, bFrames: 0, clip: path.relative(REPO, clip.file), looped: true },
    prerollSeconds: PREROLL_S,
    postRollSeconds: POST_S,
    staggerMs: STAGGER_MS,
    triggerFrames,
    footageSecondsPerRecorder: footageSeconds,
    wallSeconds: (performance.now() - started) / 1000,
    gstreamer: gstMissing ?? 'present',
    summary,
    results,
  };
  writeFileSync(path.join(outDir, `${NAME}.json`), `${JSON.stringify(doc, null, 2)}\n`);
  writeChart(path.join(outDir, `${NAME}.svg`), summary, PREROLL_S);
  process.stdout.write(
    `${table(summary)}\n\nThe same as ratios to the segment_wrap recorder in this run:\n\n${peerTable(summary, 'segment-wrap')}\n` +
      `\nwall ${doc.wallSeconds.toFixed(0)} s; Node ${process.version} ${process.arch}; bench-results/${NAME}.json, ${NAME}.svg\n`,
  );
  const bodycam = summary.find((s) => s.key === 'bodycam');
  const peer = summary.find((s) => s.key === 'segment-wrap');
  const vsPeer = (f: (s: NonNullable<typeof bodycam>) => number) =>
    bodycam === undefined || peer === undefined || f(peer) <= 0 ? null : f(bodycam) / f(peer);
  // The cross-check: no recorder can have written less than the footage it keeps.
  const extra: Miss[] = summary
    .filter((x) => x.card.recordingBytes < x.card.footageBytes)
    .map((s) => ({
      line:
        `${s.label}: ${s.card.recordingBytes} bytes counted as written while recording, fewer than the ` +
        `${s.card.footageBytes} bytes of footage it keeps: the write counters missed writes`,
      enforced: true,
    }));
  // The evidence itself: every bodycam recording exact, or the run fails whatever its speed.
  const exact = bodycam === undefined ? ['bodycam: no result'] : recordingMisses(bodycam);
  extra.push(...exact.map((line) => ({ line, enforced: true })));
  process.stdout.write(machineLine('compare'));
  reportGoals(
    'compare',
    [
      {
        what: 'bodycam controller CPU per hour of footage / the segment_wrap controller’s',
        actual: vsPeer((s) => s.cpuPerHour.controller),
        atMost: GOALS.controllerCpuVsPeer,
        unit: '×',
        digits: 2,
        enforced: true,
      },
      {
        what: 'bodycam tree CPU per hour of footage / the segment_wrap tree’s',
        actual: vsPeer((s) => s.cpuPerHour.recorder),
        atMost: GOALS.treeCpuVsPeer,
        unit: '×',
        digits: 2,
        enforced: true,
      },
      {
        what: 'bodycam activation → durable pre-roll / its floor',
        actual: bodycam?.ratio ?? null,
        atMost: GOALS.activationVsFloorCompare,
        unit: '×',
        digits: 2,
        enforced: true,
      },
      {
        what: 'bodycam bytes written per standby hour',
        actual: bodycam?.card.standbyBytesPerHour ?? null,
        atMost: GOALS.standbyBytesPerHour,
        unit: ' B',
        digits: 0,
        enforced: true,
      },
      {
        what: 'bodycam write amplification while recording',
        actual: bodycam?.card.writeAmplification ?? null,
        atMost: GOALS.writeAmplification,
        unit: '×',
        digits: 3,
        enforced: true,
      },
    ],
    extra,
  );
}

/**
 * A recorder's storage writes cut into phases (card.ts): each change of phase reads the tree's counters and books
 * what was written since the last reading, with the frames fed meanwhile, to the phase that just ended.
 */
class CardLog {
  readonly phases: Phase[] = [];
  readonly #sampler: TreeSampler;
  readonly #closingFrames: number;
  #frames = 0;
  #kind: Phase['kind'] = 'standby';
  #closingUntil = 0;
  #last = { frames: 0, writeBytes: 0 };

  constructor(sampler: TreeSampler, closingFrames: number) {
    this.#sampler = sampler;
    this.#closingFrames = closingFrames;
  }

  start(): void {
    this.#last = { frames: this.#frames, writeBytes: this.#sampler.io().writeBytes };
  }

  /** Frame n (0-based) was fed. */
  fed(n: number): void {
    this.#frames = n + 1;
    if (this.#kind === 'closing' && this.#frames >= this.#closingUntil) this.#next('standby');
  }

  activated(): void {
    this.#next('recording');
  }

  stopped(): void {
    this.#closingUntil = this.#frames + this.#closingFrames;
    this.#next('closing');
  }

  end(): void {
    this.#next(this.#kind);
  }

  #next(kind: Phase['kind']): void {
    const now = { frames: this.#frames, writeBytes: this.#sampler.io().writeBytes };
    const frames = now.frames - this.#last.frames;
    if (frames > 0 || now.writeBytes > this.#last.writeBytes) {
      this.phases.push({ kind: this.#kind, frames, writeBytes: now.writeBytes - this.#last.writeBytes });
    }
    this.#last = now;
    this.#kind = kind;
  }
}
await main();
