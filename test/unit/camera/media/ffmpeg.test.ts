/**
 * ffmpeg for capture, both halves: the argument list fluent-ffmpeg builds from a plan (compared as lists), and the
 * process started through the process port (scripted here, on the fake clock): the input piped to its stdin, the
 * stop by SIGINT then SIGKILL, which exits count as asked for, and the check before the first start.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkFfmpeg, ffmpegArgs, startFfmpeg } from '../../../../src/camera/media/ffmpeg.ts';
import { buildCapturePlan, type CapturePlan } from '../../../../src/camera/media/sources.ts';
import { FakeClock } from '../../../../src/hal/clock/fake.ts';
import { ScriptedProcesses } from '../../../../src/hal/process/scripted.ts';
import { ErrorCode, isBodycamError } from '../../../../src/lib/errors.ts';
import { silentLogger } from '../../../../src/lib/logger.ts';

const FMP4 = ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof+separate_moof'];

describe('ffmpegArgs', () => {
  it('puts each input after its options, the banner off first, and the fMP4 output on stdout', () => {
    const plan = buildCapturePlan(
      {
        kind: 'synthetic',
        width: 160,
        height: 120,
        fps: 15,
        gopSeconds: 1,
        videoBitrateKbps: 200,
        audio: true,
        speed: 1,
      },
      { roomInput: ['-f', 's16le', '-ar', '48000'] },
    );
    expect(ffmpegArgs(plan)).toEqual([
      ...['-hide_banner', '-readrate', '1', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=15'],
      ...['-readrate', '1', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000,volume=0.08'],
      ...['-f', 's16le', '-ar', '48000', '-i', 'pipe:0'],
      ...plan.outputOptions,
      'pipe:1',
    ]);
    expect(plan.outputOptions.slice(-4)).toEqual(FMP4);
  });

  it('keeps an option with a space as one argument, and an input without options bare', () => {
    const plan: CapturePlan = {
      inputs: [
        { url: 'pipe:0', options: [] },
        { url: 'anullsrc', options: ['-f', 'lavfi'] },
      ],
      outputOptions: ['-metadata', 'title=a b', ...FMP4],
      speed: 1,
      gopMs: 1000,
      videoEncoder: 'copy',
    };
    expect(ffmpegArgs(plan)).toEqual([
      ...['-hide_banner', '-i', 'pipe:0', '-f', 'lavfi', '-i', 'anullsrc'],
      ...['-metadata', 'title=a b', ...FMP4, 'pipe:1'],
    ]);
  });
});

const PLAN = buildCapturePlan({
  kind: 'rpicam',
  rpicamPath: 'rpicam-vid',
  width: 160,
  height: 120,
  fps: 15,
  gopSeconds: 1,
  videoBitrateKbps: 200,
  audio: false,
  alsaDevice: 'default',
});

describe('startFfmpeg', () => {
  it('spawns ffmpeg through the port with the plan, feeding the input to its stdin', async () => {
    const clock = new FakeClock();
    const processes = new ScriptedProcesses({ clock }).define('/opt/ffmpeg', async (call) => {
      call.stdout(await call.stdin);
      call.exit(0);
    });
    const input = new PassThrough();
    const ffmpeg = startFfmpeg(processes, PLAN, { ffmpegPath: '/opt/ffmpeg', input, clock, logger: silentLogger() });
    const out: Buffer[] = [];
    ffmpeg.stdout.on('data', (b: Buffer) => out.push(b));
    input.end(Buffer.from('h264 from the camera'));
    expect(await ffmpeg.exited).toEqual({ code: 0, signal: null, requested: false, message: undefined });
    expect(Buffer.concat(out).toString()).toBe('h264 from the camera');
    expect(processes.calls[0]?.args).toEqual(ffmpegArgs(PLAN));
    expect(processes.calls[0]?.spec.stdin).toBe('pipe');
  });

  it('stop() sends SIGINT, then SIGKILL when ffmpeg lingers; either exit counts as asked for', async () => {
    const clock = new FakeClock();
    let obeys = true;
    const processes = new ScriptedProcesses({ clock }).define('ffmpeg', (call) => {
      call.onKill = (signal) => {
        if (signal === 'SIGKILL') call.exitBySignal(signal);
        else if (obeys) call.exit(255);
      };
    });
    const options = { ffmpegPath: 'ffmpeg', clock, logger: silentLogger() };
    const polite = startFfmpeg(processes, PLAN, options);
    await clock.advance(0);
    expect(await polite.stop(3000)).toEqual({ code: 255, signal: null, requested: true, message: undefined });

    obeys = false;
    const stubborn = startFfmpeg(processes, PLAN, options);
    await clock.advance(0);
    const stopping = stubborn.stop(3000);
    await clock.advance(2999);
    expect(processes.calls[1]?.running).toBe(true);
    await clock.advance(1);
    expect(await stopping).toMatchObject({ signal: 'SIGKILL', requested: true });
    expect(processes.calls.map((c) => c.signals)).toEqual([['SIGINT'], ['SIGINT', 'SIGKILL']]);
  });

  it('an exit ffmpeg chose itself is not asked for; a binary that cannot start says why', async () => {
    const clock = new FakeClock();
    const processes = new ScriptedProcesses({ clock }).define('ffmpeg', (call) => {
      call.stderr('Conversion failed!\n');
      call.exit(1);
    });
    const options = { ffmpegPath: 'ffmpeg', clock, logger: silentLogger() };
    const failed = startFfmpeg(processes, PLAN, options);
    expect(await failed.exited).toEqual({ code: 1, signal: null, requested: false, message: undefined });
    expect(failed.stderrTail()).toEqual(['Conversion failed!']);
    const missing = startFfmpeg(processes, PLAN, { ...options, ffmpegPath: '/nowhere/ffmpeg' });
    expect((await missing.exited).message).toBe('spawn /nowhere/ffmpeg ENOENT');
  });
});

describe('checkFfmpeg', () => {
  const answering = (encoders: string) =>
    new ScriptedProcesses({ clock: new FakeClock() }).define('ffmpeg', (call) => {
      call.stdout(call.args.includes('-version') ? 'ffmpeg version 5.1.6-0+deb12u1 Copyright\n' : encoders);
      call.exit(0);
    });

  it('reads the version and the encoders', async () => {
    const processes = answering(' V....D libx264              libx264 H.264\n A....D aac                  AAC\n');
    expect(await checkFfmpeg(processes, 'ffmpeg', ['libx264', 'aac', 'copy'])).toEqual({
      version: '5.1.6-0+deb12u1',
      encoders: ['libx264', 'aac'],
    });
  });

  it('names a missing encoder (MEDIA_FFMPEG_UNUSABLE) and a missing binary (MEDIA_FFMPEG_MISSING)', async () => {
    const processes = answering(' A....D aac                  AAC\n');
    const lacking = await checkFfmpeg(processes, 'ffmpeg', ['libx264']).catch((e: unknown) => e);
    expect(isBodycamError(lacking, ErrorCode.MEDIA_FFMPEG_UNUSABLE)).toBe(true);
    expect((lacking as Error).message).toContain('lacks the encoder(s) libx264');
    const missing = await checkFfmpeg(processes, '/nowhere/ffmpeg').catch((e: unknown) => e);
    expect(isBodycamError(missing, ErrorCode.MEDIA_FFMPEG_MISSING)).toBe(true);
    expect((missing as Error).message).toContain('apt-get install ffmpeg');
  });
});
