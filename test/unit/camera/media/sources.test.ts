import { describe, expect, it } from 'vitest';
import { buildCapturePlan, type SourceConfig } from '../../../../src/camera/media/sources.ts';

const FMP4 = ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof+separate_moof'];
const GOP30 = ['-g', '30', '-keyint_min', '30', '-sc_threshold', '0'];
const AAC = ['-c:a', 'aac', '-b:a', '64k', '-ac', '1', '-ar', '48000'];
const X264_2M = [
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
  ...['-b:v', '2000k', '-maxrate', '2000k', '-bufsize', '2000k'],
];
const AV = ['-map', '0:v:0', '-map', '1:a:0'];
const common = { width: 1280, height: 720, fps: 30, gopSeconds: 1, videoBitrateKbps: 2000 };

describe('buildCapturePlan', () => {
  it.each<{ name: string; source: SourceConfig; inputs: unknown; output: string[] }>([
    {
      name: 'synthetic, real time, with audio',
      source: { kind: 'synthetic', ...common, audio: true, speed: 1 },
      inputs: [
        { url: 'testsrc2=size=1280x720:rate=30', options: ['-readrate', '1', '-f', 'lavfi'] },
        { url: 'sine=frequency=1000:sample_rate=48000,volume=0.08', options: ['-readrate', '1', '-f', 'lavfi'] },
      ],
      output: [...AV, ...X264_2M, ...GOP30, ...AAC, ...FMP4],
    },
    {
      name: 'synthetic at speed 4 without audio, 2 s GOP',
      source: { kind: 'synthetic', ...common, gopSeconds: 2, audio: false, speed: 4 },
      inputs: [{ url: 'testsrc2=size=1280x720:rate=30', options: ['-readrate', '4', '-f', 'lavfi'] }],
      output: ['-map', '0:v:0', ...X264_2M, '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', ...FMP4],
    },
    {
      name: 'v4l2 mjpeg + libx264 + ALSA',
      source: {
        kind: 'v4l2',
        ...common,
        device: '/dev/video0',
        encoder: 'libx264',
        inputFormat: 'mjpeg',
        audio: true,
        alsaDevice: 'hw:1,0',
      },
      inputs: [
        {
          url: '/dev/video0',
          options: [
            ...['-f', 'v4l2', '-thread_queue_size', '512', '-input_format', 'mjpeg'],
            ...['-framerate', '30', '-video_size', '1280x720'],
          ],
        },
        { url: 'hw:1,0', options: ['-f', 'alsa', '-thread_queue_size', '1024'] },
      ],
      output: [...AV, ...X264_2M, '-fps_mode', 'cfr', '-r', '30', ...GOP30, ...AAC, ...FMP4],
    },
    {
      name: 'v4l2 default format + hardware encoder, no audio',
      source: {
        kind: 'v4l2',
        ...common,
        device: '/dev/video2',
        encoder: 'h264_v4l2m2m',
        audio: false,
        alsaDevice: 'hw:1,0',
      },
      inputs: [
        {
          url: '/dev/video2',
          options: ['-f', 'v4l2', '-thread_queue_size', '512', '-framerate', '30', '-video_size', '1280x720'],
        },
      ],
      output: [
        ...['-map', '0:v:0', '-c:v', 'h264_v4l2m2m', '-pix_fmt', 'yuv420p', '-b:v', '2000k'],
        ...['-fps_mode', 'cfr', '-r', '30', ...GOP30, ...FMP4],
      ],
    },
    {
      name: 'rpicam: H.264 copied from stdin + ALSA',
      source: { kind: 'rpicam', ...common, audio: true, alsaDevice: 'hw:1,0', rpicamPath: 'rpicam-vid' },
      inputs: [
        {
          url: 'pipe:0',
          options: ['-f', 'h264', '-framerate', '30', '-fflags', '+genpts', '-thread_queue_size', '512'],
        },
        { url: 'hw:1,0', options: ['-f', 'alsa', '-thread_queue_size', '1024'] },
      ],
      output: [...AV, '-c:v', 'copy', ...AAC, ...FMP4],
    },
  ])('$name', ({ source, inputs, output }) => {
    const plan = buildCapturePlan(source);
    expect(plan.inputs).toEqual(inputs);
    expect(plan.outputOptions).toEqual(output);
  });

  it('rpicam-vid gets a fixed intra period, size, rate and bitrate, writing to stdout', () => {
    const plan = buildCapturePlan({
      kind: 'rpicam',
      ...common,
      gopSeconds: 2,
      fps: 25,
      audio: false,
      alsaDevice: 'hw:1,0',
      rpicamPath: '/usr/bin/rpicam-vid',
    });
    expect(plan.producer).toEqual({
      command: '/usr/bin/rpicam-vid',
      args: [
        ...['-t', '0', '-n', '--codec', 'h264', '--inline', '--intra', '50', '--framerate', '25'],
        ...['--width', '1280', '--height', '720', '--bitrate', '2000000', '-o', '-'],
      ],
    });
    expect(plan.outputOptions).toEqual(['-map', '0:v:0', '-c:v', 'copy', ...FMP4]);
    expect(plan).toMatchObject({ speed: 1, gopMs: 2000, videoEncoder: 'copy' });
    expect(plan.audioEncoder).toBeUndefined();
  });

  it('reports speed, GOP length and the encoders to check', () => {
    const plan = buildCapturePlan({ kind: 'synthetic', ...common, audio: true, speed: 4 });
    expect(plan).toMatchObject({ speed: 4, gopMs: 1000, videoEncoder: 'libx264', audioEncoder: 'aac' });
    expect(plan.producer).toBeUndefined();
  });
});
