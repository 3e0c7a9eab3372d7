/**
 * The watchdog end to end: the daemon as systemd starts it (NOTIFY_SOCKET, WATCHDOG_USEC), with `systemd-notify`
 * replaced on PATH by a recorder of what would have been sent, and an ffmpeg that wedges for good after its first
 * run (as a dead camera does). READY comes once buffering, pings while the capture delivers, and none once it has
 * stalled for good, so systemd would restart the camera; STOPPING on SIGTERM.
 * Real time and real processes (the compiled daemon, a wedged ffmpeg): an integration test. The notifier's decisions
 * on fake time: test/unit/camera/service/notify.test.ts.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, makeSimCamera } from '../harness/daemon.ts';
import { which } from '../harness/tools.ts';

describe('systemd watchdog', () => {
  const kill: Array<() => void> = [];
  afterAll(() => {
    for (const k of kill) k();
  });

  it('pings while the capture delivers and stops once it has stalled for good', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bodycam-watchdog-'));
    const bin = path.join(dir, 'bin');
    const sent = path.join(dir, 'sent');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'systemd-notify'), `#!/bin/sh\necho "$(date +%s%N) $*" >> ${sent}\n`);
    const realFfmpeg = which('ffmpeg') ?? 'ffmpeg';
    const marker = path.join(dir, 'ran-once');
    // Probes (-version, -encoders, fluent-ffmpeg's -formats …) always work; the capture runs once, then hangs.
    writeFileSync(
      path.join(bin, 'wedging-ffmpeg'),
      `#!/bin/sh\ncase " $* " in *" -version "*|*" -encoders "*|*" -formats "*|*" -codecs "*|*" -filters "*) exec ${realFfmpeg} "$@";; esac\nif [ -e ${marker} ]; then exec sleep 3600; fi\ntouch ${marker}\nexec ${realFfmpeg} "$@"\n`,
    );
    chmodSync(path.join(bin, 'systemd-notify'), 0o755);
    chmodSync(path.join(bin, 'wedging-ffmpeg'), 0o755);
    const camera = makeSimCamera((c) => {
      c['capture'].source = { kind: 'synthetic', width: 320, height: 240, fps: 15, speed: 1, videoBitrateKbps: 300 };
      c['capture'].ffmpegPath = path.join(bin, 'wedging-ffmpeg');
      c['capture'].stallMs = 3000;
      c['preRecord'].seconds = 2;
    });
    const daemon = spawn(process.execPath, [CLI, 'run', '--config', camera.configFile], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env['PATH']}`,
        NOTIFY_SOCKET: '/run/systemd/notify',
        WATCHDOG_USEC: '1000000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    daemon.stdout?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    daemon.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
    });
    kill.push(() => daemon.kill('SIGKILL'));
    const lines = () => (existsSync(sent) ? readFileSync(sent, 'utf8').trim().split('\n') : []);
    const messages = () => lines().map((l) => l.slice(l.indexOf(' ') + 1));
    const until = async (pred: () => boolean, what: string, ms: number) => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(messages())}\n${log.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await until(() => messages().includes('READY=1 STATUS=buffering'), 'READY', 30_000);
    await until(() => messages().filter((m) => m === 'WATCHDOG=1').length >= 3, 'three pings', 15_000);
    // Wedge it: the running ffmpeg stops delivering (SIGSTOP); every restart hangs from then on.
    const ffmpegPid = Number(
      (await import('node:child_process'))
        .spawnSync('pgrep', ['-P', String(daemon.pid), '-f', 'wedging-ffmpeg|ffmpeg'], { encoding: 'utf8' })
        .stdout.split('\n')[0],
    );
    expect(ffmpegPid).toBeGreaterThan(0);
    process.kill(ffmpegPid, 'SIGSTOP');
    kill.push(() => {
      try {
        process.kill(ffmpegPid, 'SIGKILL');
      } catch {
        // gone
      }
    });
    // Within the health window (2 × stallMs = 6 s) pings stop, and stay stopped: systemd's WatchdogSec would restart it.
    await new Promise((r) => setTimeout(r, 7000));
    const stoppedAt = messages().filter((m) => m === 'WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 6000));
    expect(messages().filter((m) => m === 'WATCHDOG=1').length).toBe(stoppedAt);
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
    expect(messages().at(-1)).toBe('STOPPING=1');
  }, 90_000);
});
