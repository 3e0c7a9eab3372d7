/**
 * The README's demo: a simulated camera (synthetic 1280x720 test pattern, sim GPIO) buffers 30 s in RAM, an officer
 * double-presses record, records a while, holds the button to stop; then the footage is decrypted with the real `age`
 * tool as a custodian would. Runs at 3× real time so it takes about half a minute.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { controlRequest } from '../src/camera/control/client.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPO, 'dist/cli/bodycam.js');
const SPEED = 3;

interface Status {
  state: string;
  ring: { seconds: number; bytes: number };
  capture: { mediaMs: number };
}

function bodycam(args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bodycam ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout.trim();
}

const say = (text: string) => process.stdout.write(`• ${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(
  socket: string,
  daemon: ChildProcess,
  pred: (s: Status) => boolean,
  what: string,
): Promise<Status> {
  for (let i = 0; i < 600; i++) {
    if (daemon.exitCode !== null) throw new Error(`the daemon exited while waiting for ${what}`);
    try {
      const s = (await controlRequest(socket, { cmd: 'status' }, 5000)) as Status;
      if (pred(s)) return s;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Length of the video in a segment: from its first frame to the end of its last. (ffprobe's format duration is the
 * last timestamp, and segments keep the capture timeline, so it would count the time before the segment too.)
 */
function videoSeconds(mp4: string): number {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', mp4],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const packets = r.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(',').map(Number));
  const first = packets[0]?.[0] ?? 0;
  const last = packets.at(-1) ?? [0, 0];
  return (last[0] ?? 0) + (last[1] ?? 0) - first;
}

async function main(): Promise<void> {
  const out = path.join(REPO, 'demo-out', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(out, { recursive: true });
  const key = path.join(out, 'custodian.key');
  const recipient = bodycam(['keygen', '--out', key]);
  say(`custodian identity ${key} (recipient ${recipient}); the camera only gets the recipient`);
  const configFile = bodycam(['init', '--board', 'sim', '--dir', path.join(out, 'camera'), '--recipient', recipient]);
  const config = JSON.parse(readFileSync(configFile, 'utf8'));
  config.capture.source.speed = SPEED;
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  say(`camera config ${configFile} (sim board, synthetic 1280x720@30, ${SPEED}× real time for the demo)`);

  const logFile = path.join(out, 'daemon.log');
  const daemon = spawn(process.execPath, [CLI, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: Buffer[] = [];
  daemon.stdout.on('data', (d: Buffer) => log.push(d));
  daemon.stderr.on('data', (d: Buffer) => log.push(d));
  const socket = path.join(path.dirname(configFile), 'storage', 'bodycam.sock');
  try {
    say('buffering: the last 30 s live only in RAM …');
    const s = await waitFor(socket, daemon, (st) => st.capture.mediaMs >= 35_000, '35 s of buffering');
    say(
      `ring holds ${s.ring.seconds.toFixed(1)} s (${(s.ring.bytes / 1e6).toFixed(1)} MB); nothing written to storage`,
    );
    say('officer double-presses record: the camera warns the person being filmed (tone, then nl, fr, de)');
    await controlRequest(socket, { cmd: 'press', input: 'record', count: 2, holdMs: 0 });
    await waitFor(socket, daemon, (st) => st.state === 'recording', 'recording');
    await sleep((10_000 / SPEED) | 0);
    for (let i = 0; i < 100; i++) {
      const { events } = (await controlRequest(socket, { cmd: 'events', limit: 20 })) as {
        events: Array<{ kind: string; data: Record<string, unknown> }>;
      };
      const warned = events.find((e) => e.kind.startsWith('warning_'));
      if (warned !== undefined) {
        say(
          `warning ${warned.kind.slice('warning_'.length)}: ${JSON.stringify(warned.data['languages'])}, ${warned.data['durationMs']} ms`,
        );
        break;
      }
      await sleep(300);
    }
    say('officer holds record for 3.5 s to stop');
    await controlRequest(socket, { cmd: 'press', input: 'record', count: 1, holdMs: 3500 });
    await waitFor(socket, daemon, (st) => st.state === 'buffering', 'stop');
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    writeFileSync(logFile, Buffer.concat(log));
  }

  const listed = JSON.parse(bodycam(['list', '--config', configFile, '--json'])) as {
    incidents: Array<{ id: string; prerollActualMs: number; segments: Array<{ path: string; frames: number }> }>;
  };
  const incident = listed.incidents[0];
  if (incident === undefined) throw new Error('no incident was recorded');
  say(
    `incident ${incident.id}: ${(incident.prerollActualMs / 1000).toFixed(1)} s pre-roll, ${incident.segments.length} encrypted segment(s):`,
  );
  const plain = path.join(out, 'decrypted');
  mkdirSync(plain, { recursive: true });
  for (const seg of incident.segments) {
    const mp4 = path.join(plain, path.basename(seg.path, '.age'));
    const dec = spawnSync('age', ['-d', '-i', key, '-o', mp4, seg.path], { encoding: 'utf8' });
    if (dec.status !== 0) throw new Error(`age could not decrypt ${seg.path}: ${dec.stderr}`);
    const seconds = videoSeconds(mp4);
    say(`  ${seg.path}\n    → decrypted with age: ${mp4} (${seconds.toFixed(1)} s, ${seg.frames} frames)`);
  }
  process.stdout.write(`
Warning played (simulated speaker):  ${path.join(path.dirname(configFile), 'speaker')}
Footage (encrypted, age v1): ${path.join(path.dirname(configFile), 'storage', 'footage', incident.id)}
Decrypt a segment as a custodian:  age -d -i ${key} -o segment.mp4 <segment>.mp4.age
Play it:                           ffplay segment.mp4   (or mpv, VLC)
Daemon log (pino JSON):            ${logFile}
`);
}

main().catch((e: unknown) => {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
