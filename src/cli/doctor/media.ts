/** Capture checks: ffmpeg, the board's encoder, the camera (and the frame size it really gives), the microphone. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { R, reachProblem, W, whoRuns } from './access.ts';
import { boardProfile, missingHardwareEncoderFix } from './board-fixes.ts';
import { type Check, fail, lastLine, pass, skip, warn } from './check.ts';

const PROBE_TIMEOUT_MS = 15_000;

export const ffmpegCheck: Check = async (ctx) => {
  const ffmpeg = ctx.config.capture.ffmpegPath;
  const r = await ctx.runner.run({ command: ffmpeg, args: ['-hide_banner', '-version'] }, { timeoutMs: 10_000 });
  if (r.error !== undefined || r.code !== 0) {
    return fail('ffmpeg', `${ffmpeg} does not run (${r.error?.message ?? lastLine(r.stderr)})`, fixFfmpeg(ffmpeg));
  }
  const version = /^ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? 'unknown version';
  return pass('ffmpeg', `${ffmpeg} ${version}`);
};

function fixFfmpeg(ffmpeg: string): string {
  return `install it (apt-get install ffmpeg) or set capture.ffmpegPath (now ${ffmpeg})`;
}

/** The encoder the source needs: in this ffmpeg, and for the Pi's hardware encoder its memory-to-memory device. */
export const encoderCheck: Check = async (ctx) => {
  const source = ctx.config.capture.source;
  if (source.kind === 'rpicam') return skip('encoder', 'rpicam-vid encodes on the camera side (see camera)');
  const encoder = source.kind === 'v4l2' ? source.encoder : 'libx264';
  const r = await ctx.runner.run(
    { command: ctx.config.capture.ffmpegPath, args: ['-hide_banner', '-encoders'] },
    { timeoutMs: 10_000 },
  );
  if (r.error !== undefined || r.code !== 0) return fail('encoder', 'cannot list ffmpeg encoders', 'see ffmpeg');
  if (!new RegExp(`^\\s*V\\S*\\s+${encoder}\\s`, 'm').test(r.stdout)) {
    return fail(
      'encoder',
      `this ffmpeg has no ${encoder} encoder`,
      encoder === 'libx264'
        ? 'install an ffmpeg built with libx264 (Debian: apt-get install ffmpeg)'
        : 'use the Raspberry Pi OS ffmpeg, or set capture.source.encoder to libx264 (software, more CPU)',
    );
  }
  if (encoder === 'h264_v4l2m2m') {
    const node = path.join(ctx.root, '/dev/video11');
    if (!(await isCharDevice(node))) {
      return fail(
        'encoder',
        `h264_v4l2m2m is built in, but the hardware encoder's device ${node} is missing`,
        missingHardwareEncoderFix(boardProfile(ctx.config.device.board)),
      );
    }
    const problem = await reachProblem(ctx, node, R | W);
    if (problem !== null) {
      return fail('encoder', problem, `${whoRuns(ctx)} must be in group video (the package adds it: \`id bodycam\`)`);
    }
  }
  return pass('encoder', `${encoder}${encoder === 'h264_v4l2m2m' ? ' (hardware)' : ' (software)'}`);
};

/** The camera: the source opens and delivers a frame; the size it really gives is reported beside the request. */
export const cameraCheck: Check = async (ctx) => {
  const source = ctx.config.capture.source;
  const asked = `${source.width}x${source.height}`;
  if (source.kind === 'synthetic') return pass('camera', `synthetic test pattern ${asked} at ${source.fps} fps`);
  if (source.kind === 'rpicam') {
    const r = await ctx.runner.run({ command: source.rpicamPath, args: ['--list-cameras'] }, { timeoutMs: 20_000 });
    if (r.error !== undefined) {
      return fail('camera', `${source.rpicamPath} is missing`, 'apt-get install rpicam-apps (Raspberry Pi OS)');
    }
    const found = /^\s*\d+\s*:\s*(\S+)/m.exec(r.stdout);
    if (found === null) {
      return fail(
        'camera',
        'rpicam-vid finds no camera module',
        'seat the ribbon cable, set camera_auto_detect=1 in config.txt (see the board profile) and reboot',
      );
    }
    return pass('camera', `camera module ${found[1]} (asked ${asked} at ${source.fps} fps)`);
  }
  const device = path.join(ctx.root, source.device);
  if (!(await isCharDevice(device))) {
    return fail(
      'camera',
      `no V4L2 camera at ${source.device}`,
      'connect the camera (ls /dev/video*; v4l2-ctl --list-devices) or set capture.source.device',
    );
  }
  const denied = await reachProblem(ctx, device, R | W);
  if (denied !== null) {
    return fail('camera', denied, `${whoRuns(ctx)} must be in group video (the package adds it: \`id bodycam\`)`);
  }
  const args = ['-hide_banner', '-f', 'v4l2'];
  if (source.inputFormat !== undefined) args.push('-input_format', source.inputFormat);
  args.push('-framerate', String(source.fps), '-video_size', asked, '-i', device, '-frames:v', '1', '-f', 'null', '-');
  const r = await ctx.runner.run({ command: ctx.config.capture.ffmpegPath, args }, { timeoutMs: PROBE_TIMEOUT_MS });
  if (r.error !== undefined || r.code !== 0 || r.timedOut) {
    return fail(
      'camera',
      `${source.device} gives no frame (${r.timedOut ? 'timed out' : lastLine(r.stderr)})`,
      'check the camera supports the format and size asked (v4l2-ctl --list-formats-ext -d DEVICE)',
    );
  }
  const size = /Stream #0:0.*?Video: .*?, (\d{2,5})x(\d{2,5})/.exec(r.stderr);
  const actual = size === null ? 'unknown' : `${size[1]}x${size[2]}`;
  if (actual !== asked) {
    return warn(
      'camera',
      `${source.device} gives ${actual} when ${asked} is asked`,
      `set capture.source.width/height to a size the camera has (v4l2-ctl --list-formats-ext -d ${source.device})`,
    );
  }
  return pass('camera', `${source.device} gives ${actual} at ${source.fps} fps`);
};

/** The microphone: a short capture at the configured channels and rate. */
export const microphoneCheck: Check = async (ctx) => {
  const source = ctx.config.capture.source;
  if (!source.audio) return warn('microphone', 'audio capture is off', 'set capture.source.audio to true');
  if (source.kind === 'synthetic') return pass('microphone', 'synthetic tone (simulation)');
  const args = [
    '-hide_banner',
    '-f',
    'alsa',
    '-channels',
    String(source.audioChannels),
    '-sample_rate',
    String(source.audioRate),
  ];
  args.push('-i', source.alsaDevice, '-t', '0.3', '-f', 'null', '-');
  const r = await ctx.runner.run({ command: ctx.config.capture.ffmpegPath, args }, { timeoutMs: PROBE_TIMEOUT_MS });
  if (r.error !== undefined || r.code !== 0 || r.timedOut) {
    return fail(
      'microphone',
      `${source.alsaDevice} does not record (${r.timedOut ? 'timed out' : lastLine(r.stderr)})`,
      'check the card (arecord -l) and capture.source.alsaDevice; plughw: converts channels and rate, hw: does not',
    );
  }
  return pass('microphone', `${source.alsaDevice}, ${source.audioChannels} ch at ${source.audioRate} Hz`);
};

export async function isCharDevice(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isCharacterDevice();
  } catch {
    return false;
  }
}
