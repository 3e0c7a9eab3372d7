/** Doctor checks against scripted tools: what a real device answers, and what the technician is told. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  boardProfile,
  missingHardwareEncoderFix,
  noGpioChipFix,
  sysfsGpioFix,
} from '../../../src/cli/doctor/board-fixes.ts';
import type { DoctorContext } from '../../../src/cli/doctor/check.ts';
import { gpioCheck, speakerCheck } from '../../../src/cli/doctor/devices.ts';
import { cameraCheck, encoderCheck, microphoneCheck } from '../../../src/cli/doctor/media.ts';
import { clockCheck } from '../../../src/cli/doctor/trust.ts';
import { buildInitialConfig } from '../../../src/cli/init.ts';
import { validateConfig } from '../../../src/config/load.ts';
import { ScriptedProcesses } from '../../../src/hal/process/scripted.ts';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

/** A Pi 4 camera whose V4L2 device is /dev/null: a character device that exists everywhere. */
function context(runner: ScriptedProcesses, patch: (doc: Record<string, any>) => void = () => {}): DoctorContext {
  const doc = buildInitialConfig({ dir: '/tmp', board: 'pi4', deviceId: 'cam1', recipient: [RECIPIENT], force: false });
  (doc['capture'] as Record<string, any>)['source'].device = '/dev/null';
  patch(doc);
  const checked = validateConfig(doc, '/tmp');
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  return {
    config: checked.config,
    configFile: '/tmp/config.json',
    runner,
    root: '',
    writeTestBytes: 1 << 20,
    now: Date.now,
    account: null,
  };
}

const one = async (p: Promise<unknown>) => (await p) as { status: string; detail: string; fix?: string };

describe('doctor checks', () => {
  it('reports the frame size the camera really gives beside the one asked (vivid gives 320x180 for 320x240)', async () => {
    const runner = new ScriptedProcesses().define('ffmpeg', (call) => {
      call.stderr(
        "Input #0, video4linux2,v4l2, from '/dev/null':\n  Stream #0:0: Video: rawvideo (YUY2 / 0x32595559), yuyv422, 320x180, 147456 kb/s, 30 fps\n",
      );
      call.exit(0);
    });
    const ctx = context(runner, (d) => Object.assign(d['capture'].source, { width: 320, height: 240 }));
    const r = await one(cameraCheck(ctx));
    expect(r.status).toBe('warn');
    expect(r.detail).toBe('/dev/null gives 320x180 when 320x240 is asked');
    expect(runner.callsOf('ffmpeg')[0]?.args).toEqual(
      expect.arrayContaining(['-f', 'v4l2', '-video_size', '320x240', '-i', '/dev/null']),
    );
  });

  it('passes a camera that gives the size asked', async () => {
    const runner = new ScriptedProcesses().define('ffmpeg', (call) => {
      call.stderr('  Stream #0:0: Video: mjpeg (Baseline), yuvj422p(pc, bt470bg/unknown/unknown), 1280x720, 30 fps\n');
      call.exit(0);
    });
    expect(await one(cameraCheck(context(runner)))).toMatchObject({
      status: 'pass',
      detail: '/dev/null gives 1280x720 at 30 fps',
    });
  });

  it("fails a microphone that refuses the format with ALSA's own words, and asks for the configured format", async () => {
    const runner = new ScriptedProcesses().define('ffmpeg', (call) => {
      call.stderr(
        '[alsa @ 0x55] cannot set channel count to 2 (Invalid argument)\nhw:Loopback,1,0: Input/output error\n',
      );
      call.exit(1);
    });
    const ctx = context(runner, (d) =>
      Object.assign(d['capture'].source, { alsaDevice: 'hw:Loopback,1,0', audioChannels: 2 }),
    );
    const r = await one(microphoneCheck(ctx));
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('hw:Loopback,1,0 does not record (hw:Loopback,1,0: Input/output error)');
    expect(r.fix).toContain('plughw: converts');
    expect(runner.callsOf('ffmpeg')[0]?.args).toEqual(
      expect.arrayContaining(['-channels', '2', '-sample_rate', '48000', '-i', 'hw:Loopback,1,0']),
    );
  });

  it('fails an ffmpeg without the encoder the board needs', async () => {
    const runner = new ScriptedProcesses().define('ffmpeg', (call) => {
      call.stdout(' V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC\n');
      call.exit(0);
    });
    const r = await one(encoderCheck(context(runner)));
    expect(r).toMatchObject({ status: 'fail', detail: 'this ffmpeg has no h264_v4l2m2m encoder' });
  });

  it('plays silence through the speaker the way the warning is played, and fails one that does not open', async () => {
    const runner = new ScriptedProcesses().define('aplay', async (call) => {
      const wav = await call.stdin;
      call.stderr(
        wav.subarray(0, 4).toString() === 'RIFF' ? 'aplay: main:831: audio open error: No such device\n' : 'no wav\n',
      );
      call.exit(1);
    });
    const r = await one(speakerCheck(context(runner)));
    expect(r).toMatchObject({
      status: 'fail',
      detail: 'plughw:CARD=Headphones does not play (aplay: main:831: audio open error: No such device)',
    });
    expect(runner.callsOf('aplay')[0]?.args).toEqual(['-q', '-D', 'plughw:CARD=Headphones', '-t', 'wav', '-']);
  });

  it('warns when the dock-sense or silent line names no GPIO input (a typo turns the feature off silently)', async () => {
    const ctx = context(new ScriptedProcesses(), (d) => {
      d['gpio'].driver = 'sim';
      d['controls'] = { dockInput: 'dok' };
    });
    const results = (await gpioCheck(ctx)) as Array<{ status: string; detail: string }>;
    expect(results.map((r) => r.status)).toEqual(['pass', 'warn']);
    expect(results[1]?.detail).toBe(
      'controls.dockInput names "dok", which gpio.inputs does not define: the dock is not sensed: footage is never offloaded',
    );
  });

  it('fails an unset clock', async () => {
    const ctx = { ...context(new ScriptedProcesses()), now: () => Date.UTC(1970, 0, 1, 0, 0, 42) };
    expect(await one(clockCheck(ctx))).toMatchObject({
      status: 'fail',
      detail: 'the clock is unset (1970-01-01T00:00:42.000Z)',
    });
  });
});

describe('fixes that fit the board', () => {
  const boards = ['pi4', 'cm4', 'zero2w', 'pi5'] as const;

  it.each(boards)('%s: the missing hardware encoder', (board) => {
    const fix = missingHardwareEncoderFix(boardProfile(board));
    if (board === 'pi5') {
      expect(fix).toBe(
        'the Raspberry Pi 5 has no H.264 hardware encoder: set capture.source.encoder to libx264 (what `bodycam provision --board pi5` writes)',
      );
    } else {
      expect(fix).toMatch(/hardware encoder \(bcm2835-codec\) should appear as \/dev\/video11: update Raspberry Pi OS/);
      expect(fix).not.toMatch(/Pi 5/);
    }
  });

  it.each(boards)('%s: GPIO sysfs not writable, or absent', (board) => {
    const fix = sysfsGpioFix(boardProfile(board), true, 'the service user bodycam');
    if (board === 'pi5') {
      expect(fix).toMatch(/^the Raspberry Pi 5's header is on its RP1 chip.*set gpio\.driver to gpiox/);
    } else {
      expect(fix).toMatch(/^the service user bodycam must be in group gpio/);
      expect(fix).not.toMatch(/Pi 5/);
      expect(sysfsGpioFix(boardProfile(board), false, 'x')).toMatch(/^this kernel has no GPIO sysfs/);
    }
  });

  it.each(boards)('%s: no GPIO character device', (board) => {
    const fix = noGpioChipFix(boardProfile(board));
    if (board === 'pi5') expect(fix).toMatch(/CONFIG_GPIO_CDEV\); update it \(apt full-upgrade\) and reboot$/);
    else expect(fix).toMatch(new RegExp(`^gpio\\.driver gpiox is for the Pi 5; a .* uses onoff .*--board ${board}`));
  });

  it('gives a board without a profile a generic fix', () => {
    expect(missingHardwareEncoderFix(boardProfile('custom'))).toMatch(/^this board shows no hardware H\.264 encoder/);
    expect(boardProfile('custom')).toBeNull();
  });

  it('tells a Pi 4 without /dev/video11 about its own encoder, never about a Pi 5', async () => {
    const runner = new ScriptedProcesses().define('ffmpeg', (call) => {
      call.stdout(' V....D h264_v4l2m2m         V4L2 mem2mem H.264 encoder wrapper\n');
      call.exit(0);
    });
    const ctx = { ...context(runner), root: mkdtempSync(path.join(os.tmpdir(), 'bodycam-doctor-root-')) };
    const r = await one(encoderCheck(ctx));
    expect(r.status).toBe('fail');
    expect(r.fix).toContain("Raspberry Pi 4 Model B's hardware encoder");
    expect(r.fix).not.toContain('Pi 5');
  });
});
