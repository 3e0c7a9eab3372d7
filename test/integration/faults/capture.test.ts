/**
 * The capture process fails under a recording: ffmpeg killed, ffmpeg stalled (SIGSTOP), and a corrupt byte stream
 * (garbage spliced in before a fragment). The recorder never crashes, the incident goes on across each fault with
 * the gap logged, nothing already recorded is lost, and afterwards the index is sound, the segments verify and the
 * footage decodes from a keyframe with the frame counts the index holds.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Daemon, list, makeSimCamera, type Status } from '../../harness/daemon.ts';
import { footageProblems, indexIntegrity, verifyStorage } from '../../harness/faults.ts';
import { which } from '../../harness/tools.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-capture-faults-'));
const trigger = path.join(dir, 'corrupt-next-fragment');
const pidFile = path.join(dir, 'ffmpeg.pid');
const wrapper = path.join(dir, 'ffmpeg');

/**
 * An ffmpeg that is the real one, except that when `trigger` exists it splices 64 random bytes into its output just
 * before the next `moof` (once per trigger file), and appends each real capture's pid where the test finds it.
 */
writeFileSync(
  wrapper,
  `#!${process.execPath}
const { spawn } = require('node:child_process');
const { appendFileSync, existsSync, rmSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const args = process.argv.slice(2);
// stderr through this process too: a stopped child must hold none of the camera's pipes once this one is killed.
const child = spawn(${JSON.stringify(which('ffmpeg') ?? 'ffmpeg')}, args, { stdio: ['inherit', 'pipe', 'pipe'] });
child.stderr.pipe(process.stderr);
const capture = args.includes('pipe:1');
if (capture) appendFileSync(${JSON.stringify(pidFile)}, child.pid + '\\n');
else child.stdout.pipe(process.stdout);
let buf = Buffer.alloc(0);
if (capture) child.stdout.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    if (buf.length < 8) return;
    const size = buf.readUInt32BE(0);
    if (size < 8 || buf.length < size) { if (size < 8) { process.stdout.write(buf); buf = Buffer.alloc(0); } return; }
    if (buf.toString('latin1', 4, 8) === 'moof' && existsSync(${JSON.stringify(trigger)})) {
      rmSync(${JSON.stringify(trigger)});
      process.stdout.write(randomBytes(64));
    }
    process.stdout.write(buf.subarray(0, size));
    buf = buf.subarray(size);
  }
});
process.stdout.on('error', () => child.kill('SIGKILL'));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`,
);
chmodSync(wrapper, 0o755);

/** The pids of every capture run so far; the last is the one running. */
const capturePids = () => readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
const capturePid = () => capturePids().at(-1) as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('capture faults under a recording', () => {
  const camera = makeSimCamera((c) => {
    c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 30, speed: 1, videoBitrateKbps: 300 };
    c['capture'].ffmpegPath = wrapper;
    c['capture'].stallMs = 5000;
    c['preRecord'].seconds = 3;
    c['recording'].segmentSeconds = 10;
    c['warning'].enabled = false;
  });
  const daemon = new Daemon(camera);
  let incident = '';
  afterAll(async () => {
    await daemon.terminate();
    // The stalled run's ffmpeg stays stopped once its parent is gone.
    if (existsSync(pidFile)) spawnSync('kill', ['-KILL', ...capturePids().map(String)]);
  });

  /** The capture delivers again, after `gaps` gaps, in the same incident. */
  async function deliversAgain(before: Status, what: string): Promise<Status> {
    const after = await daemon.waitFor(
      (s) => s.capture.gaps > before.capture.gaps && s.capture.fragments >= before.capture.fragments + 3,
      30_000,
      `capture back after ${what}`,
    );
    expect(after.state).toBe('recording');
    expect(after.incident?.id).toBe(incident);
    expect(after.writeFailures).toBe(0);
    return after;
  }

  it('records on after ffmpeg is killed', async () => {
    await daemon.waitFor((s) => s.state === 'buffering' && s.ring.seconds >= 3, 60_000, 'pre-roll');
    await daemon.press('record', 2);
    const rec = await daemon.waitFor((s) => s.state === 'recording', 10_000, 'recording');
    incident = rec.incident?.id ?? '';
    await sleep(2000);
    const before = await daemon.status();
    process.kill(capturePid(), 'SIGKILL');
    await deliversAgain(before, 'SIGKILL of ffmpeg');
  }, 60_000);

  it('records on after ffmpeg stalls (SIGSTOP): the stall is detected and the capture restarted', async () => {
    const before = await daemon.status();
    const stalled = capturePid();
    process.kill(stalled, 'SIGSTOP');
    await deliversAgain(before, 'a stalled ffmpeg');
    expect(capturePid()).not.toBe(stalled);
  }, 60_000);

  it('records on after garbage in the byte stream, and logs it', async () => {
    const before = await daemon.status();
    writeFileSync(trigger, '');
    await deliversAgain(before, 'a corrupt stream');
    expect(existsSync(trigger)).toBe(false);
    const gaps = (await daemon.events()).filter((e) => e.kind === 'capture_gap' && e.incidentId === incident);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('afterwards: a sound index, segments that verify, footage that decodes, and a camera that stops cleanly', async () => {
    await daemon.press('record', 1, 3500);
    await daemon.waitFor((s) => s.state === 'buffering', 15_000, 'stop');
    expect(daemon.child.exitCode).toBeNull();
    const incidents = list(camera);
    expect(incidents.map((i) => i.state)).toEqual(['closed']);
    expect(footageProblems(camera, incidents)).toEqual([]);
    expect(indexIntegrity(camera)).toBe('ok');
    const verified = verifyStorage(camera);
    expect(verified.code, verified.output).toBe(0);
  }, 120_000);
});
