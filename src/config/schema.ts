import { CONTROL_SOCKET, DOCK_KEY_FILE } from '../evidence/paths.ts';
import { DEVICE_ID } from '../lib/ids.ts';
import { SEMVER } from '../lib/version.ts';
import { audioSchema, feedbackSchema, REASONS, stealthSchema, warningSchema } from './feedback-schema.ts';
import { type Infer, s } from './schema-kit.ts';

/**
 * The one configuration schema. Every key has a default (or is required and says so), a description and bounds;
 * the TypeScript type is derived from it. Objects are strict: an unknown key is an error, because a misspelt key
 * silently falling back to a default is how a camera ships with the wrong pre-roll.
 */

const videoCommon = {
  width: s.int(160, 3840, 1280, 'frame width in pixels'),
  height: s.int(120, 2160, 720, 'frame height in pixels'),
  fps: s.int(1, 60, 30, 'frames per second'),
  gopSeconds: s.int(1, 4, 1, 'seconds per GOP; one fragment per GOP, segments rotate on GOP boundaries'),
  videoBitrateKbps: s.int(200, 20_000, 2000, 'video bitrate in kbit/s'),
  audio: s.boolean().default(true).describe('capture the microphone'),
};

/** The ALSA microphone of a real camera; `plughw` lets ALSA convert, so a mono mic is not asked for two channels. */
const microphone = {
  alsaDevice: s
    .string()
    .nonEmpty()
    .default('plughw:1,0')
    .describe('ALSA capture device of the microphone (plughw: converts; hw: must match channels and rate exactly)'),
  audioChannels: s.int(1, 2, 1, 'channels asked of the microphone (the board profile says what it delivers)'),
  audioRate: s.int(8000, 96_000, 48_000, 'sample rate asked of the microphone, Hz'),
};

const syntheticSource = s.object({
  kind: s.literal('synthetic'),
  ...videoCommon,
  speed: s
    .number()
    .min(0.25)
    .max(64)
    .default(1)
    .describe('media seconds per wall second (1 = real time; tests and the accelerated soak go faster)'),
});

const v4l2Source = s.object({
  kind: s.literal('v4l2'),
  ...videoCommon,
  device: s.string().nonEmpty().default('/dev/video0').describe('V4L2 capture device'),
  encoder: s
    .enum(['libx264', 'h264_v4l2m2m'])
    .default('h264_v4l2m2m')
    .describe('H.264 encoder (hardware on Pi 4/CM4/Zero 2 W)'),
  inputFormat: s.enum(['mjpeg', 'yuyv422']).optional().describe('pixel format asked of the camera'),
  ...microphone,
});

const rpicamSource = s.object({
  kind: s.literal('rpicam'),
  ...videoCommon,
  ...microphone,
  rpicamPath: s.string().nonEmpty().default('rpicam-vid').describe('path of rpicam-vid'),
});

export const sourceSchema = s
  .tagged('kind', { synthetic: syntheticSource, v4l2: v4l2Source, rpicam: rpicamSource })
  .describe('where frames come from: synthetic, v4l2 or rpicam');

const bcmPin = () => s.number().int().min(0).max(27).describe('BCM line number on the 40-pin header');

const inputLine = s
  .object({
    pin: bcmPin(),
    activeLow: s.boolean().default(true).describe('low level means active (button to ground with pull-up)'),
    pull: s.enum(['up', 'down', 'none']).default('up').describe('bias resistor'),
  })
  .describe('an input line: its BCM pin, polarity and bias');

const outputLine = s
  .object({
    pin: bcmPin(),
    activeLow: s.boolean().default(false).describe('low level lights the LED / drives the motor'),
  })
  .describe('an output line (ledRed, ledGreen, haptic): its BCM pin and polarity');

const lineName = /^[a-z][a-zA-Z0-9]*$/;

/** The fuel gauge and what the camera does at low and critical charge (board profiles fill gauge, bus, address). */
export const batterySchema = s
  .object({
    gauge: s
      .enum(['none', 'sim', 'max17048', 'max17049'])
      .default('none')
      .describe('fuel gauge: none (mains or no gauge), sim, max17048 (one cell) or max17049 (two cells)'),
    bus: s.int(0, 31, 1, 'I2C bus of the gauge (/dev/i2c-N)'),
    address: s.int(8, 119, 0x36, "the gauge's 7-bit I2C address (MAX17048/9: 54 = 0x36)"),
    pollSeconds: s.int(1, 600, 30, 'read the gauge every this many seconds'),
    lowPercent: s.int(1, 90, 15, 'warn the officer (LED pattern, vibration, event log) at this charge, %'),
    criticalPercent: s.int(0, 50, 5, 'close any recording and power off at this charge, %'),
    cutoffVolts: s
      .number()
      .min(0)
      .max(60)
      .default(3.3)
      .describe("the pack's cutoff voltage: at or under it the battery is critical whatever its charge says, V"),
    hysteresisPercent: s.int(0, 20, 3, 'a low warning clears only this far above lowPercent, %'),
    confirmReadings: s.int(
      1,
      10,
      2,
      'critical readings in a row before acting (one bad reading never stops a recording)',
    ),
    closeTimeoutSeconds: s.int(1, 120, 15, 'wait this long for a recording to close before powering off, s'),
    shutdownCommand: s
      .array(s.string().nonEmpty())
      .min(1, 'a command, then its arguments')
      .default(['systemctl', 'poweroff'])
      .describe('command and arguments that power the system off at critical charge'),
  })
  .default({})
  .describe('the battery: fuel gauge, low-charge warning, clean power-off at critical charge');

/** A GPIO chip's label as the kernel gives it (pinctrl-rp1, pinctrl-bcm2711, gpio-brcmstb@107d508500). */
export const GPIO_CHIP_LABEL = /^[A-Za-z0-9][A-Za-z0-9@._-]{0,63}$/;

/**
 * A device identity: it names the camera's incidents, topics and certificate (its CN, the broker's user name). Never
 * `dock` in any case: that is the dock agent's certificate name, which the broker's ACL gives the whole topic tree.
 */
export { DEVICE_ID };
/** What DEVICE_ID allows, for messages. */
export const DEVICE_ID_RULE = 'letters, digits, "-" and "_", at most 64, starting with a letter or digit, not "dock"';

export const configSchema = s.object({
  release: s
    .string()
    .regex(SEMVER, 'a semantic version such as 0.2.0')
    .optional()
    .describe('the bodycam release that wrote this file (init, provision, upgrade); absent before 0.2.0'),
  device: s
    .object({
      id: s.string().regex(DEVICE_ID, DEVICE_ID_RULE).describe('device identity, used in incident ids'),
      board: s.string().nonEmpty().default('sim').describe('board pin map under hardware/boards/'),
    })
    .describe('who this camera is'),
  capture: s
    .object({
      source: sourceSchema,
      ffmpegPath: s.string().nonEmpty().default('ffmpeg').describe('ffmpeg binary'),
      stallMs: s.int(1000, 60_000, 5000, 'restart capture when no fragment arrived for this long, ms'),
    })
    .describe('camera and microphone capture'),
  preRecord: s
    .object({
      seconds: s.int(0, 120, 30, 'seconds of footage kept in RAM before an activation'),
      audio: s.boolean().default(false).describe('keep audio in the pre-roll (policy; most forces keep it off)'),
    })
    .default({})
    .describe('the rolling in-memory pre-record buffer'),
  recording: s
    .object({
      segmentSeconds: s.int(10, 600, 60, 'segment length; segments rotate on the first keyframe past it'),
      stopTimeoutMs: s.int(500, 10_000, 3000, 'wait this long for the fragment holding the stop point, ms'),
    })
    .default({})
    .describe('how recordings are written'),
  encryption: s
    .object({
      recipients: s
        .array(
          s.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, 'an X25519 age recipient: "age1" and 58 bech32 characters'),
        )
        .min(1, 'at least one custodian recipient is needed; create one with `bodycam keygen --out FILE`')
        .describe("custodians' age X25519 recipients; the device holds no key that decrypts"),
    })
    .describe('who can decrypt footage'),
  evidence: s
    .object({
      keyFile: s
        .string()
        .nonEmpty()
        .default('identity/device.key')
        .describe("the device's Ed25519 signing key (mode 0600, relative to the config file); signs, never decrypts"),
      policeAccessDays: s.int(1, 3650, 30, 'retention hint in manifests: police access period, days'),
      maxMonths: s.int(1, 120, 12, 'retention hint in manifests: longest keeping, months'),
    })
    .default({})
    .describe('signed manifests and the audit log'),
  dock: s
    .object({
      host: s.string().nonEmpty().describe("the dock broker's host name or address (in its server certificate)"),
      port: s.int(1, 65535, 8883, 'the dock broker port (MQTT 5 over TLS)'),
      ca: s
        .string()
        .nonEmpty()
        .default('dock/ca.crt')
        .describe("the dock site's CA certificate (relative to the config file)"),
      cert: s
        .string()
        .nonEmpty()
        .default('dock/client.crt')
        .describe("this camera's client certificate (CN = device id)"),
      key: s.string().nonEmpty().default('dock/client.key').describe("this camera's client key (mode 0600)"),
      dockKey: s
        .string()
        .nonEmpty()
        .default(`dock/${DOCK_KEY_FILE}`)
        .describe("the dock's Ed25519 public key: only acknowledgements it signed let the camera delete footage"),
    })
    .optional()
    .describe('the dock this camera offloads to (written by `bodycam dock enroll`; absent: not enrolled)'),
  update: s
    .object({
      root: s
        .string()
        .nonEmpty()
        .default('/opt/bodycam')
        .describe('where releases are installed: releases/<version>/ and the `current` link the service starts'),
      releaseKey: s
        .string()
        .nonEmpty()
        .describe('the release public key (Ed25519 PEM, provisioned): only releases it signed are installed'),
      configKey: s
        .string()
        .nonEmpty()
        .optional()
        .describe("the dock site's config public key (Ed25519 PEM, provisioned); absent: no config changes by dock"),
      healthSeconds: s.int(
        10,
        3600,
        120,
        'after an update, the camera must prove itself healthy within this many seconds or it goes back',
      ),
    })
    .optional()
    .describe('signed updates delivered at the dock (absent: the camera takes none)'),
  storage: s
    .object({
      dir: s.string().nonEmpty().describe('footage and index directory (absolute, or relative to the config file)'),
      lowMinutes: s.int(
        0,
        10_000,
        30,
        'storage shows as low below this many minutes of recording left beyond the reserve (0: never)',
      ),
    })
    .describe('local evidence store'),
  gpio: s
    .object({
      driver: s
        .enum(['sim', 'onoff', 'gpiox'])
        .default('sim')
        .describe('sim (no hardware), onoff (sysfs) or gpiox (Pi 5)'),
      chip: s
        .string()
        .regex(GPIO_CHIP_LABEL, 'a GPIO chip label such as pinctrl-rp1 (letters, digits, ".", "@", "_", "-")')
        .optional()
        .describe(
          "label of the 40-pin header's GPIO chip (pinctrl-rp1 on a Pi 5, pinctrl-bcm2711 on a Pi 4); absent: any of those",
        ),
      debounceMs: s.int(1, 500, 30, 'a level must hold this long to count, ms'),
      inputs: s.record(lineName, inputLine).default({}).describe('input lines by name'),
      outputs: s.record(lineName, outputLine).default({}).describe('output lines by name'),
    })
    .default({})
    .describe('GPIO lines (filled from the board map by `bodycam init`)'),
  battery: batterySchema,
  controls: s
    .object({
      recordInput: s.string().default('record').describe('input that starts and stops recording'),
      startPattern: s.enum(['double', 'single', 'hold']).default('double').describe('press pattern that starts'),
      stopHoldMs: s.int(1000, 10_000, 3000, 'hold the record button this long to stop, ms'),
      multiPressWindowMs: s.int(200, 2000, 600, 'most time between the presses of a double press, ms'),
      triggerInputs: s.array(s.string()).default(['trigger']).describe('auxiliary lines that start recording'),
      triggerEdge: s
        .enum(['rising', 'falling', 'both'])
        .default('rising')
        .describe('edge of a trigger line that starts'),
      dockInput: s.string().default('dock').describe('line that senses the dock'),
      silentInput: s
        .string()
        .default('silent')
        .describe('line whose press starts a silent activation (no warning) and whose hold toggles stealth'),
      silentReason: s.enum(REASONS).default('severity').describe('reason recorded for a silent activation'),
      stealthHoldMs: s.int(1000, 10_000, 3000, 'hold the silent line this long to toggle stealth, ms'),
    })
    .default({})
    .describe("what the officer's inputs do"),
  warning: warningSchema,
  audio: audioSchema,
  feedback: feedbackSchema,
  stealth: stealthSchema,
  control: s
    .object({
      socket: s
        .string()
        .nonEmpty()
        .optional()
        .describe(`control socket for \`bodycam ctl\` (default: STORAGE/${CONTROL_SOCKET})`),
    })
    .default({})
    .describe('local control socket'),
  log: s
    .object({
      level: s.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('log level'),
    })
    .default({})
    .describe('logging'),
});

export type Config = Infer<typeof configSchema>;
export type SourceConfig = Infer<typeof sourceSchema>;
