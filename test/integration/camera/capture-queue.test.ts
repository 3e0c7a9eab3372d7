/**
 * An rpicam-vid camera must be read on while ffmpeg's write to the daemon waits (a busy daemon, a fragment larger
 * than the pipe): a camera process blocked on its output stalls and loses frames. The real ffmpeg, with the arguments
 * `buildCapturePlan` gives an rpicam source (the camera's input read on a thread of its own, behind a queue of 512
 * packets), is fed raw H.264 on its stdin while nobody reads its stdout; every byte written must be taken, and once
 * reading resumes every frame must come out. Without the queue ffmpeg takes nothing while its output waits.
 */
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ffmpegArgs } from '../../../src/camera/media/ffmpeg.ts';
import { buildCapturePlan, type SourceConfig } from '../../../src/camera/media/sources.ts';

const FPS = 15;
const SECONDS = 14;

/** Raw H.264 as rpicam-vid writes it: a keyframe every second, noisy enough that each GOP is ~0.5 MB. */
function cameraStream(): Buffer {
  return execFileSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
      ...['-i', `testsrc2=size=640x480:rate=${FPS},noise=alls=40:allf=t`, '-t', String(SECONDS)],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-b:v', '4M', '-maxrate', '4M'],
      ...['-bufsize', '4M', '-g', String(FPS), '-keyint_min', String(FPS), '-sc_threshold', '0', '-f', 'h264', '-'],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

/** Frames in an H.264 elementary stream or a container, as ffprobe counts them. */
function frames(input: Buffer, format: string): number {
  const out = execFileSync(
    'ffprobe',
    [
      ...['-v', 'error', '-f', format, '-i', 'pipe:0', '-select_streams', 'v:0', '-count_packets'],
      ...['-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0'],
    ],
    { input, maxBuffer: 64 * 1024 * 1024 },
  );
  return Number(out.toString().trim());
}

const until = async (what: string, test: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('capture of a camera process', () => {
  it.each([false, true])(
    'reads the camera on while its output waits (microphone: %s)',
    async (audio) => {
      const source: SourceConfig = {
        kind: 'rpicam',
        width: 640,
        height: 480,
        fps: FPS,
        gopSeconds: 1,
        videoBitrateKbps: 4000,
        audio,
        alsaDevice: 'hw:0,0',
        rpicamPath: 'rpicam-vid',
      };
      const plan = buildCapturePlan(source);
      const [camera, microphone] = plan.inputs;
      if (camera === undefined) throw new Error('no camera input');
      // The microphone, when there is one, is a silent stand-in for the ALSA device with the same queue.
      const at = microphone?.options.indexOf('-thread_queue_size') ?? -1;
      const queue = microphone?.options.slice(at, at + 2) ?? [];
      const silence = { url: 'anullsrc=r=48000:cl=mono', options: ['-f', 'lavfi', ...queue, '-t', String(SECONDS)] };
      const inputs = audio ? [camera, silence] : [camera];
      if (audio) expect(queue).toEqual(['-thread_queue_size', '1024']);
      const args = ffmpegArgs({ ...plan, inputs });
      const stream = cameraStream();
      const at8s = Math.floor((stream.length * 8) / SECONDS);
      const at13s = Math.floor((stream.length * 13) / SECONDS);
      // Five seconds written while nobody reads: far more than the pipes and the muxer's open fragment hold (under
      // 1 MB); the queue holds 512 packets (34 s here).
      expect(at13s - at8s).toBeGreaterThan(2_000_000);

      const ffmpeg = spawn('ffmpeg', ['-nostdin', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      ffmpeg.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const out: Buffer[] = [];
      let outBytes = 0;
      const onData = (d: Buffer) => {
        out.push(d);
        outBytes += d.length;
      };
      ffmpeg.stdout.on('data', onData);
      // Eight seconds flow as usual, until ffmpeg has written most of them out (its queues are then near empty).
      ffmpeg.stdin.write(stream.subarray(0, at8s));
      await until('the first seconds through', () => outBytes > at8s * 0.8, 20_000);
      // Now the daemon is busy: nobody reads ffmpeg's output, and the camera writes on.
      ffmpeg.stdout.off('data', onData);
      ffmpeg.stdout.pause();
      const taken = new Promise<void>((resolve) => ffmpeg.stdin.write(stream.subarray(at8s, at13s), () => resolve()));
      const accepted = await Promise.race([
        taken.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
      ]);
      const waiting = ffmpeg.stdin.writableLength;
      // Reading resumes: every frame comes out.
      ffmpeg.stdout.on('data', onData);
      ffmpeg.stdout.resume();
      ffmpeg.stdin.end(stream.subarray(at13s));
      const code = await new Promise<number | null>((r) => ffmpeg.on('close', r));
      expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
      expect({ accepted, waiting }).toEqual({ accepted: true, waiting: 0 });
      expect(frames(Buffer.concat(out), 'mp4')).toBe(frames(stream, 'h264'));
    },
    60_000,
  );
});
