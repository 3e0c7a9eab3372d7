/**
 * Pure builders of the ffmpeg (and rpicam-vid) argument lists for each capture source. Nothing here spawns
 * anything: `ffmpeg.ts` runs the plan, and the tests compare the lists.
 */

interface CommonSource {
  width: number;
  height: number;
  fps: number;
  /** Length of one GOP (= one video fragment) in seconds; keyframes come at exactly this cadence. */
  gopSeconds: number;
  videoBitrateKbps: number;
  audio: boolean;
}

export interface SyntheticSource extends CommonSource {
  kind: 'synthetic';
  /** Media seconds produced per wall-clock second: 1 = real time (the default), > 1 for fast tests. */
  speed: number;
}

/** The ALSA microphone of a v4l2 or rpicam source. */
export interface Microphone {
  /** ALSA PCM, e.g. `plughw:CARD=Device` (plughw converts channels and rate; hw must match them exactly). */
  alsaDevice: string;
  /** Channels asked of the microphone (default 1: a mono mic at `hw:` refuses 2, "cannot set channel count"). */
  audioChannels?: number | undefined;
  /** Sample rate asked of the microphone, Hz (default 48000). */
  audioRate?: number | undefined;
}

export interface V4l2Source extends CommonSource, Microphone {
  kind: 'v4l2';
  device: string;
  encoder: 'libx264' | 'h264_v4l2m2m';
  /** Omitted (or undefined, as a schema's optional key yields): the driver's default format. */
  inputFormat?: 'mjpeg' | 'yuyv422' | undefined;
}

export interface RpicamSource extends CommonSource, Microphone {
  kind: 'rpicam';
  rpicamPath: string;
}

export type SourceConfig = SyntheticSource | V4l2Source | RpicamSource;

export interface FfmpegInput {
  /** What follows `-i`: a lavfi graph, a device, or `pipe:0` for the producer's stdout. */
  url: string;
  /** Options placed before this input's `-i`. */
  options: string[];
}

/** A process whose stdout feeds ffmpeg's `pipe:0` input (rpicam-vid). */
export interface ProducerCommand {
  command: string;
  args: string[];
}

export interface CapturePlan {
  inputs: FfmpegInput[];
  /** What feeds the `pipe:0` input: the producer's stdout (rpicam-vid) or the simulated room (synthetic). */
  pipe?: 'producer' | 'room';
  outputOptions: string[];
  producer?: ProducerCommand;
  /** Media time per wall time (1 except for a sped-up synthetic source). */
  speed: number;
  /** Expected fragment cadence in media milliseconds. */
  gopMs: number;
  /** Video encoder ffmpeg must have (`copy` when the camera encodes), checked before start. */
  videoEncoder: 'libx264' | 'h264_v4l2m2m' | 'copy';
  /** Audio encoder ffmpeg must have, or undefined without audio. */
  audioEncoder?: 'aac';
}

const AUDIO_RATE = 48_000;
/** The AAC bitrate of every source with a microphone, kbit/s. */
export const AUDIO_KBPS = 64;

/**
 * `separate_moof` gives one moof per track, so the ring can drop audio (policy) without rewriting boxes;
 * `default_base_moof` makes every fragment self-contained (data offsets relative to its own moof), which lets
 * the recorder append fragments after any init segment.
 */
const FMP4_OUTPUT = ['-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof+separate_moof'];

export function gopFrames(source: SourceConfig): number {
  return Math.max(1, Math.round(source.fps * source.gopSeconds));
}

/** Fixed GOP, no scene-cut keyframes: every fragment is exactly one GOP and starts on an IDR frame. */
function gopOptions(source: SourceConfig): string[] {
  const g = String(gopFrames(source));
  return ['-g', g, '-keyint_min', g, '-sc_threshold', '0'];
}

function x264Options(source: SourceConfig): string[] {
  const kbps = `${source.videoBitrateKbps}k`;
  // A one-second VBV keeps the ring's memory close to pre-roll × bitrate even on busy scenes.
  return [
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-b:v',
    kbps,
    '-maxrate',
    kbps,
    '-bufsize',
    kbps,
  ];
}

function audioOutput(): string[] {
  return ['-c:a', 'aac', '-b:a', `${AUDIO_KBPS}k`, '-ac', '1', '-ar', String(AUDIO_RATE)];
}

function maps(audio: boolean): string[] {
  return audio ? ['-map', '0:v:0', '-map', '1:a:0'] : ['-map', '0:v:0'];
}

/**
 * The microphone input: a deep queue so a busy encoder does not make ALSA overrun (ffmpeg warns "Thread message
 * queue blocking"), and the channels and rate asked of the device (ffmpeg's ALSA default is 2 channels, which a
 * mono microphone opened at `hw:` refuses). They are the ALSA demuxer's own options, `-channels` and
 * `-sample_rate`: ffmpeg 5.1 does not pass an input `-ac` on to it (found in the device lab). The output is
 * resampled to mono 48 kHz AAC either way.
 */
export function alsaInput(mic: Microphone): FfmpegInput {
  const channels = String(mic.audioChannels ?? 1);
  const rate = String(mic.audioRate ?? AUDIO_RATE);
  return {
    url: mic.alsaDevice,
    options: ['-f', 'alsa', '-thread_queue_size', '1024', '-channels', channels, '-sample_rate', rate],
  };
}

export interface PlanOptions {
  /**
   * Synthetic source only: ffmpeg input options of a raw PCM stream on `pipe:0` (the simulated room) to mix into
   * the microphone track, as a real microphone hears the camera's own speaker.
   */
  roomInput?: readonly string[];
}

function synthetic(source: SyntheticSource, options: PlanOptions): CapturePlan {
  // `-readrate` paces each input against the wall clock at `speed` × real time (measured: speed 4 gives ~4 media
  // seconds per wall second, speed 1 ~1, on ffmpeg 5.1); it must be given per input.
  const pace = ['-readrate', String(source.speed)];
  const inputs: FfmpegInput[] = [
    { url: `testsrc2=size=${source.width}x${source.height}:rate=${source.fps}`, options: [...pace, '-f', 'lavfi'] },
  ];
  // The "room background": a quiet 1 kHz tone (RMS about -43 dBFS), well below speech from the speaker.
  if (source.audio) {
    inputs.push({
      url: `sine=frequency=1000:sample_rate=${AUDIO_RATE},volume=0.08`,
      options: [...pace, '-f', 'lavfi'],
    });
  }
  const room = source.audio && options.roomInput !== undefined;
  if (room) inputs.push({ url: 'pipe:0', options: [...(options.roomInput ?? [])] });
  const mapping = room
    ? [
        '-filter_complex',
        '[1:a][2:a]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[mic]',
        '-map',
        '0:v:0',
        '-map',
        '[mic]',
      ]
    : maps(source.audio);
  return {
    inputs,
    ...(room ? { pipe: 'room' as const } : {}),
    outputOptions: [
      ...mapping,
      ...x264Options(source),
      ...gopOptions(source),
      ...(source.audio ? audioOutput() : []),
      ...FMP4_OUTPUT,
    ],
    speed: source.speed,
    gopMs: source.gopSeconds * 1000,
    videoEncoder: 'libx264',
    ...(source.audio ? { audioEncoder: 'aac' as const } : {}),
  };
}

function v4l2(source: V4l2Source): CapturePlan {
  const videoIn = ['-f', 'v4l2', '-thread_queue_size', '512'];
  if (source.inputFormat !== undefined) videoIn.push('-input_format', source.inputFormat);
  videoIn.push('-framerate', String(source.fps), '-video_size', `${source.width}x${source.height}`);
  const inputs: FfmpegInput[] = [{ url: source.device, options: videoIn }];
  if (source.audio) inputs.push(alsaInput(source));
  const encoder =
    source.encoder === 'libx264'
      ? x264Options(source)
      : ['-c:v', 'h264_v4l2m2m', '-pix_fmt', 'yuv420p', '-b:v', `${source.videoBitrateKbps}k`];
  return {
    inputs,
    // Webcams deliver jittery frame times; a constant output rate keeps "fps × gopSeconds frames" = one GOP of time.
    outputOptions: [
      ...maps(source.audio),
      ...encoder,
      '-fps_mode',
      'cfr',
      '-r',
      String(source.fps),
      ...gopOptions(source),
      ...(source.audio ? audioOutput() : []),
      ...FMP4_OUTPUT,
    ],
    speed: 1,
    gopMs: source.gopSeconds * 1000,
    videoEncoder: source.encoder,
    ...(source.audio ? { audioEncoder: 'aac' as const } : {}),
  };
}

function rpicam(source: RpicamSource): CapturePlan {
  const producer: ProducerCommand = {
    command: source.rpicamPath,
    args: [
      '-t',
      '0',
      '-n',
      '--codec',
      'h264',
      '--inline',
      '--intra',
      String(gopFrames(source)),
      '--framerate',
      String(source.fps),
      '--width',
      String(source.width),
      '--height',
      String(source.height),
      '--bitrate',
      String(source.videoBitrateKbps * 1000),
      '-o',
      '-',
    ],
  };
  // Raw H.264 carries no timestamps: ffmpeg derives them from -framerate (genpts), so the GOP stays exact. The thread
  // queue keeps ffmpeg reading rpicam-vid while its write to the daemon waits (~17 s of footage; without it, none:
  // test/integration/camera/capture-queue.test.ts). On ffmpeg 5.1 its polling costs ~17 s of CPU per hour of footage,
  // the whole of the tree's gap to the loop recorder; the `async` protocol and the `fifo` muxer, which decouple too,
  // cost as much or more (docs/benchmarks.md, "where the time goes").
  const inputs: FfmpegInput[] = [
    {
      url: 'pipe:0',
      options: ['-f', 'h264', '-framerate', String(source.fps), '-fflags', '+genpts', '-thread_queue_size', '512'],
    },
  ];
  if (source.audio) inputs.push(alsaInput(source));
  return {
    inputs,
    outputOptions: [...maps(source.audio), '-c:v', 'copy', ...(source.audio ? audioOutput() : []), ...FMP4_OUTPUT],
    producer,
    pipe: 'producer',
    speed: 1,
    gopMs: source.gopSeconds * 1000,
    videoEncoder: 'copy',
    ...(source.audio ? { audioEncoder: 'aac' as const } : {}),
  };
}

export function buildCapturePlan(source: SourceConfig, options: PlanOptions = {}): CapturePlan {
  switch (source.kind) {
    case 'synthetic':
      return synthetic(source, options);
    case 'v4l2':
      return v4l2(source);
    case 'rpicam':
      return rpicam(source);
  }
}
