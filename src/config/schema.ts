import { z } from 'zod';

/**
 * The one configuration schema. Every key has a default (or is required and says so), a description and
 * bounds; the TypeScript type is derived from it. Objects are strict: an unknown key is an error, because a
 * misspelt key silently falling back to a default is how a camera ships with the wrong pre-roll.
 */

const int = (min: number, max: number, def: number, what: string) =>
  z.number().int().min(min).max(max).default(def).describe(`${what} (${min}–${max}, default ${def})`);

const videoCommon = {
  width: int(160, 3840, 1280, 'frame width in pixels'),
  height: int(120, 2160, 720, 'frame height in pixels'),
  fps: int(1, 60, 30, 'frames per second'),
  gopSeconds: int(1, 4, 1, 'seconds per GOP; one fragment per GOP, segments rotate on GOP boundaries'),
  videoBitrateKbps: int(200, 20_000, 2000, 'video bitrate in kbit/s'),
  audio: z.boolean().default(true).describe('capture the microphone'),
};

const syntheticSource = z.strictObject({
  kind: z.literal('synthetic'),
  ...videoCommon,
  speed: z
    .number()
    .min(0.25)
    .max(16)
    .default(1)
    .describe('media seconds per wall second (1 = real time; tests go faster)'),
});

const v4l2Source = z.strictObject({
  kind: z.literal('v4l2'),
  ...videoCommon,
  device: z.string().min(1).default('/dev/video0').describe('V4L2 capture device'),
  encoder: z
    .enum(['libx264', 'h264_v4l2m2m'])
    .default('h264_v4l2m2m')
    .describe('H.264 encoder (hardware on Pi 4/CM4/Zero 2 W)'),
  inputFormat: z.enum(['mjpeg', 'yuyv422']).optional().describe('pixel format asked of the camera'),
  alsaDevice: z.string().min(1).default('hw:1,0').describe('ALSA capture device of the microphone'),
});

const rpicamSource = z.strictObject({
  kind: z.literal('rpicam'),
  ...videoCommon,
  alsaDevice: z.string().min(1).default('hw:1,0').describe('ALSA capture device of the microphone'),
  rpicamPath: z.string().min(1).default('rpicam-vid').describe('path of rpicam-vid'),
});

export const sourceSchema = z.discriminatedUnion('kind', [syntheticSource, v4l2Source, rpicamSource]);

const inputLine = z.strictObject({
  pin: z.number().int().min(0).max(27).describe('BCM line number on the 40-pin header'),
  activeLow: z.boolean().default(true).describe('low level means active (button to ground with pull-up)'),
  pull: z.enum(['up', 'down', 'none']).default('up').describe('bias resistor'),
});

const outputLine = z.strictObject({
  pin: z.number().int().min(0).max(27).describe('BCM line number on the 40-pin header'),
  activeLow: z.boolean().default(false).describe('low level lights the LED / drives the motor'),
});

export const configSchema = z.strictObject({
  device: z
    .strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, "-" and "_", at most 64')
        .describe('device identity, used in incident ids and (later) broker topics'),
      board: z.string().min(1).default('sim').describe('board pin map under hardware/boards/'),
    })
    .describe('who this camera is'),
  capture: z
    .strictObject({
      source: sourceSchema.describe('where frames come from: synthetic, v4l2 or rpicam'),
      ffmpegPath: z.string().min(1).default('ffmpeg').describe('ffmpeg binary'),
      stallMs: int(1000, 60_000, 5000, 'restart capture when no fragment arrived for this long, ms'),
    })
    .describe('camera and microphone capture'),
  preRecord: z
    .strictObject({
      seconds: int(0, 120, 30, 'seconds of footage kept in RAM before an activation'),
      audio: z.boolean().default(false).describe('keep audio in the pre-roll (policy; most forces keep it off)'),
    })
    .prefault({})
    .describe('the rolling in-memory pre-record buffer'),
  recording: z
    .strictObject({
      segmentSeconds: int(10, 600, 60, 'segment length; segments rotate on the first keyframe past it'),
      fsyncIntervalMs: int(100, 1000, 1000, 'most footage at risk before an fsync, ms'),
      stopTimeoutMs: int(500, 10_000, 3000, 'wait this long for the fragment holding the stop point, ms'),
    })
    .prefault({})
    .describe('how recordings are written'),
  encryption: z
    .strictObject({
      recipients: z
        .array(
          z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, 'an X25519 age recipient: "age1" and 58 bech32 characters'),
        )
        .min(1, 'at least one custodian recipient is needed; create one with `bodycam keygen --out FILE`')
        .describe("custodians' age X25519 recipients; the device holds no key that decrypts"),
    })
    .describe('who can decrypt footage'),
  storage: z
    .strictObject({
      dir: z.string().min(1).describe('footage and index directory (absolute, or relative to the config file)'),
    })
    .describe('local evidence store'),
  gpio: z
    .strictObject({
      driver: z
        .enum(['sim', 'onoff', 'gpiox'])
        .default('sim')
        .describe('sim (no hardware), onoff (sysfs) or gpiox (Pi 5)'),
      debounceMs: int(1, 500, 30, 'a level must hold this long to count, ms'),
      inputs: z
        .record(z.string().regex(/^[a-z][a-zA-Z0-9]*$/), inputLine)
        .default({})
        .describe('input lines by name'),
      outputs: z
        .record(z.string().regex(/^[a-z][a-zA-Z0-9]*$/), outputLine)
        .default({})
        .describe('output lines by name'),
    })
    .prefault({})
    .describe('GPIO lines (filled from the board map by `bodycam init`)'),
  controls: z
    .strictObject({
      recordInput: z.string().default('record').describe('input that starts and stops recording'),
      startPattern: z.enum(['double', 'single', 'hold']).default('double').describe('press pattern that starts'),
      stopHoldMs: int(1000, 10_000, 3000, 'hold the record button this long to stop, ms'),
      multiPressWindowMs: int(200, 2000, 600, 'most time between the presses of a double press, ms'),
      triggerInputs: z.array(z.string()).default(['trigger']).describe('auxiliary lines that start recording'),
      triggerEdge: z
        .enum(['rising', 'falling', 'both'])
        .default('rising')
        .describe('edge of a trigger line that starts'),
      dockInput: z.string().default('dock').describe('line that senses the dock'),
    })
    .prefault({})
    .describe("what the officer's inputs do"),
  control: z
    .strictObject({
      socket: z.string().min(1).optional().describe('control socket for `bodycam ctl` (default: STORAGE/bodycam.sock)'),
    })
    .prefault({})
    .describe('local control socket'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('log level'),
    })
    .prefault({})
    .describe('logging'),
});

export type Config = z.infer<typeof configSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
