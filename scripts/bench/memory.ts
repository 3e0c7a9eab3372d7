/**
 * Buffering memory benchmark: runs the real daemon on `init --board sim` defaults (1280x720@30, 30 s pre-roll,
 * real time) for BENCH_MINUTES (default 10) and samples its RSS every 5 s. Checks the budget
 * RSS ≤ 80 MB + 1.3 × pre-roll bytes (goals.ts; exit 1 and by how much when over), and reports ffmpeg's RSS
 * separately (another process).
 *
 *   npm run bench:memory            BENCH_MINUTES=1 npm run bench:memory for a quick look
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { controlRequest } from '../../src/camera/control/client.ts';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../src/lib/memory.ts';
import { GOALS, reportGoals } from './goals.ts';
import { machineLine } from './machine.ts';
import { childPids, residentOf, rssOf } from './proc.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'dist/cli/bodycam.js');
const MINUTES = Number(process.env['BENCH_MINUTES'] ?? 10);

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-mem-'));
  const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' }).stdout.trim();
  const recipient = cli(['keygen', '--out', path.join(dir, 'k')]);
  const configFile = cli(['init', '--board', 'sim', '--dir', path.join(dir, 'cam'), '--recipient', recipient]);
  const socket = path.join(dir, 'cam', 'storage', 'bodycam.sock');
  // Launched as scripts/bodycam and the systemd unit launch it, with the daemon's Node flags.
  const daemon = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'run', '--config', configFile], {
    stdio: 'ignore',
    env: { ...DAEMON_ENV, ...process.env },
  });
  const pid = daemon.pid ?? 0;
  const end = Date.now() + MINUTES * 60_000;
  let maxRss = 0;
  let maxFfmpeg = 0;
  let fileAtMax = 0;
  let ringBytes = 0;
  let ringSeconds = 0;
  let samples = 0;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 5000));
    const { rss, file } = residentOf(pid);
    if (rss > maxRss) {
      maxRss = rss;
      fileAtMax = file;
    }
    for (const c of childPids(pid)) maxFfmpeg = Math.max(maxFfmpeg, rssOf(c));
    try {
      const s = (await controlRequest(socket, { cmd: 'status' }, 5000)) as { ring: { bytes: number; seconds: number } };
      ringBytes = Math.max(ringBytes, s.ring.bytes);
      ringSeconds = s.ring.seconds;
    } catch {
      // starting
    }
    samples += 1;
  }
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  const budget = GOALS.memoryBaseBytes + GOALS.memoryPerPrerollByte * ringBytes;
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  process.stdout.write(
    `buffering ${MINUTES} min, ${samples} samples; ring ${ringSeconds.toFixed(1)} s, max ${mb(ringBytes)}\n` +
      `daemon max RSS ${mb(maxRss)}; budget 80 MB + 1.3 × ring = ${mb(budget)}; ratio RSS / budget ${(maxRss / budget).toFixed(2)} ${maxRss <= budget ? '(within)' : '(OVER)'}\n` +
      `  of it file-backed ${mb(fileAtMax)} (the Node binary's code and data: clean, reclaimable), anonymous ${mb(maxRss - fileAtMax)}\n` +
      `ffmpeg max RSS ${mb(maxFfmpeg)} (separate process)\n`,
  );
  process.stdout.write(machineLine('memory'));
  reportGoals('memory', [
    {
      what: `daemon max RSS (budget 80 MB + 1.3 × ${mb(ringBytes)} of pre-roll = ${mb(budget)})`,
      actual: samples > 0 && maxRss > 0 && ringBytes > 0 ? maxRss / 1e6 : null,
      atMost: budget / 1e6,
      unit: ' MB',
      digits: 1,
      enforced: true,
    },
  ]);
}

await main();
