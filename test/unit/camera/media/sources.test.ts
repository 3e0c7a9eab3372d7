import { describe, expect, it } from 'vitest';
import { buildCapturePlan, type SourceConfig } from '../../../../src/camera/media/sources.ts';
import { validateConfig } from '../../../../src/config/load.ts';

const FMP4 = ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof+separate_moof'];
const GOP30 = ['-g', '30', '-keyint_min', '30', '-sc_threshold', '0'];
const AAC = ['-c:a', 'aac', '-b:a', '64k', '-ac', '1', '-ar', '48000'];
const X264_2M = [
  ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
  ...['-b:v', '2000k', '-maxrate', '2000k', '-bufsize', '2000k'],
];
const AV = ['-map', '0:v:0', '-map', '1:a:0'];
const ALSA_IN = ['-f', 'alsa', '-thread_queue_size', '1024'];
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
        alsaDevice: 'plughw:CARD=Device',
        audioChannels: 1,
        audioRate: 48000,
      },
      inputs: [
        {
          url: '/dev/video0',
          options: [
            ...['-f', 'v4l2', '-thread_queue_size', '512', '-input_format', 'mjpeg'],
            ...['-framerate', '30', '-video_size', '1280x720'],
          ],
        },
        { url: 'plughw:CARD=Device', options: [...ALSA_IN, '-channels', '1', '-sample_rate', '48000'] },
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
      source: {
        kind: 'rpicam',
        ...common,
        audio: true,
        alsaDevice: 'hw:CARD=Loopback,DEV=1',
        audioChannels: 2,
        audioRate: 44100,
        rpicamPath: 'rpicam-vid',
      },
      inputs: [
        {
          url: 'pipe:0',
          options: ['-f', 'h264', '-framerate', '30', '-fflags', '+genpts', '-thread_queue_size', '512'],
        },
        { url: 'hw:CARD=Loopback,DEV=1', options: [...ALSA_IN, '-channels', '2', '-sample_rate', '44100'] },
      ],
      output: [...AV, '-c:v', 'copy', ...AAC, ...FMP4],
    },
    {
      name: 'rpicam from an older config without channels or rate: mono at 48 kHz asked of the mic',
      source: { kind: 'rpicam', ...common, audio: true, alsaDevice: 'plughw:1,0', rpicamPath: 'rpicam-vid' },
      inputs: [
        {
          url: 'pipe:0',
          options: ['-f', 'h264', '-framerate', '30', '-fflags', '+genpts', '-thread_queue_size', '512'],
        },
        { url: 'plughw:1,0', options: [...ALSA_IN, '-channels', '1', '-sample_rate', '48000'] },
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

describe('microphone settings from the config schema', () => {
  const doc = (source: Record<string, unknown>) => ({
    device: { id: 'cam-1' },
    capture: { source },
    encryption: { recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'] },
    storage: { dir: 'storage' },
    gpio: { inputs: { record: { pin: 5 }, trigger: { pin: 6 } } },
  });

  it.each(['v4l2', 'rpicam'])('an older %s config stays valid and asks plughw:1,0 for mono at 48 kHz', (kind) => {
    const r = validateConfig(doc({ kind }), '/etc/bodycam');
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    const mic = buildCapturePlan(r.config.capture.source).inputs[1];
    expect(mic).toEqual({ url: 'plughw:1,0', options: [...ALSA_IN, '-channels', '1', '-sample_rate', '48000'] });
  });

  it('passes the board profile channels and rate through to the ALSA input', () => {
    const r = validateConfig(
      doc({ kind: 'v4l2', alsaDevice: 'plughw:CARD=Device', audioChannels: 2, audioRate: 16000 }),
      '/etc/bodycam',
    );
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(buildCapturePlan(r.config.capture.source).inputs[1]?.options).toEqual([
      ...ALSA_IN,
      '-channels',
      '2',
      '-sample_rate',
      '16000',
    ]);
  });

  it.each([
    [{ audioChannels: 3 }, 'capture.source.audioChannels', 'must be at most 2'],
    [{ audioRate: 4000 }, 'capture.source.audioRate', 'must be at least 8000'],
  ])('refuses %j', (extra, key, message) => {
    const r = validateConfig(doc({ kind: 'rpicam', ...extra }), '/');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toContainEqual({ key, message });
  });
});
