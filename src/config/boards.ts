/**
 * Board profiles (`hardware/boards/NAME.json`): what a technician needs to build and provision one camera on one
 * board: the GPIO pin map, the camera and its encoder, the ALSA devices, the zone's warning languages, the
 * `config.txt` lines and the wiring table. `bodycam provision` turns a profile into a config; `hardware/README.md`
 * shows the same data as tables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { LANGUAGES } from './feedback-schema.ts';
import { GPIO_CHIP_LABEL } from './schema.ts';
import { type Infer, s } from './schema-kit.ts';

const pin = () =>
  s.number().int().min(2).max(27).describe('BCM line on the 40-pin header (0–1 are the HAT EEPROM bus)');

const inputPin = () =>
  s.object({
    pin: pin(),
    activeLow: s.boolean().describe('true: the line reads low when active (switch to ground)'),
    pull: s.enum(['up', 'down', 'none']).describe('bias resistor'),
  });
const outputPin = () => s.object({ pin: pin(), activeLow: s.boolean().describe('true: driving low lights the LED') });

/** A short line of text for people: one line, at most `max` characters. */
const text = (max: number, what: string) =>
  s
    .string()
    .regex(new RegExp(`^[^\\n]{1,${max}}$`), `one line of 1–${max} characters`)
    .describe(what);

const alsaName = (what: string) =>
  s
    .string()
    .regex(/^[A-Za-z0-9_:=,.-]{1,64}$/, 'an ALSA PCM name such as plughw:CARD=Device or default (at most 64)')
    .describe(what);

const cameraSchema = s
  .object({
    source: s.enum(['synthetic', 'v4l2', 'rpicam']).describe('capture source kind (capture.source.kind)'),
    device: s
      .string()
      .regex(/^\/dev\/[A-Za-z0-9/_-]{1,58}$/, 'a device node under /dev, e.g. /dev/video0')
      .optional()
      .describe('V4L2 capture device (v4l2 only)'),
    inputFormat: s.enum(['mjpeg', 'yuyv422']).optional().describe('pixel format asked of a V4L2 camera'),
    width: s.int(160, 3840, 1280, 'frame width in pixels'),
    height: s.int(120, 2160, 720, 'frame height in pixels'),
    fps: s.int(1, 60, 30, 'frames per second'),
  })
  .describe('the camera and its default frame size and rate');

const audioSchema = s
  .object({
    driver: s.enum(['alsa', 'file', 'none']).describe('speaker driver (audio.driver); file is the simulation'),
    playback: alsaName('ALSA playback device of the speaker (audio.device)'),
    capture: alsaName('ALSA capture device of the microphone; plughw converts channels and rate'),
    channels: s.int(1, 2, 1, 'channels the microphone delivers (a mono mic at hw: refuses 2)'),
    rate: s.int(8000, 96_000, 48_000, 'capture sample rate, Hz'),
  })
  .describe('speaker and microphone');

const bootLine = s.object({
  line: s
    .string()
    .regex(/^(\[[a-z0-9]{1,20}\]|[a-z][a-z0-9_]{0,30}=[^\s]{1,80})$/, 'a config.txt line: key=value or [section]')
    .describe('the line as it goes into /boot/firmware/config.txt'),
  why: text(120, 'what the line does, for the technician'),
});

const wiringRow = s.object({
  part: s
    .string()
    .regex(/^[a-z][a-zA-Z0-9]{0,23}$/, 'a GPIO line name or a part (camera, microphone, speaker)')
    .describe('what is wired: a GPIO line of the map, or a part'),
  header: s.number().int().min(1).max(40).optional().describe('physical pin on the 40-pin header (GPIO lines)'),
  connect: text(120, 'what to connect, and how'),
});

const boardSchema = s.object({
  board: s.string().regex(/^[a-z][a-z0-9]{0,15}$/, 'lower-case letters and digits, at most 16'),
  description: text(120, 'the board and OS, for people'),
  gpioDriver: s.enum(['sim', 'onoff', 'gpiox']).describe('GPIO driver (gpio.driver)'),
  gpioChip: s
    .string()
    .regex(GPIO_CHIP_LABEL, 'a GPIO chip label such as pinctrl-rp1')
    .describe("label of the header's GPIO chip (gpio.chip): the drivers refuse any other chip"),
  inputs: s.object({ record: inputPin(), trigger: inputPin(), dock: inputPin(), silent: inputPin() }),
  outputs: s.object({ ledRed: outputPin(), ledGreen: outputPin(), haptic: outputPin() }),
  battery: s
    .object({
      gauge: s.enum(['none', 'sim', 'max17048', 'max17049']).describe('fuel gauge chip (battery.gauge)'),
      bus: s.number().int().min(0).max(31).describe('I2C bus (battery.bus)'),
      address: s.number().int().min(8).max(119).describe('7-bit I2C address (battery.address)'),
      cutoffVolts: s.number().min(0).max(60).describe("the pack's cutoff voltage (battery.cutoffVolts)"),
    })
    .optional()
    .describe('the battery board and its fuel gauge (absent: none)'),
  warningLanguages: s.array(s.enum(LANGUAGES)).min(1, 'at least one language').describe('the zone default'),
  camera: cameraSchema,
  encoder: s.enum(['libx264', 'h264_v4l2m2m']).describe("ffmpeg's H.264 encoder on this board (v4l2 cameras)"),
  audio: audioSchema,
  configTxt: s.array(bootLine).describe('config.txt lines the board needs (overlays, boot-time pulls)'),
  wiring: s.array(wiringRow).min(1, 'at least the GPIO lines').describe('the wiring table'),
});

/** A board profile, as in hardware/boards/NAME.json. */
export type BoardMap = Infer<typeof boardSchema>;
export type BoardInputName = keyof BoardMap['inputs'];
export type BoardOutputName = keyof BoardMap['outputs'];

/** Physical header pin of each BCM line on the 40-pin header. */
// biome-ignore format: a table reads better than one pin per line
export const HEADER_PIN: Readonly<Record<number, number>> = {
  2: 3, 3: 5, 4: 7, 5: 29, 6: 31, 7: 26, 8: 24, 9: 21, 10: 19, 11: 23, 12: 32, 13: 33, 14: 8,
  15: 10, 16: 36, 17: 11, 18: 12, 19: 35, 20: 38, 21: 40, 22: 15, 23: 16, 24: 18, 25: 22, 26: 37, 27: 13,
};

/** At most this many config.txt lines and wiring rows: a profile is read by a person at the bench. */
const MAX_ROWS = 24;

const boardsDir = new URL('../../hardware/boards/', import.meta.url);

/** Names of the profiles shipped in hardware/boards. */
export function knownBoards(): string[] {
  return readdirSync(boardsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Read and check one profile; an unknown name or a bad file is CONFIG_INVALID naming what is wrong. */
export function loadBoard(name: string): BoardMap {
  const known = knownBoards();
  if (!known.includes(name)) {
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `unknown board '${name}'; known boards: ${known.join(', ')}`, {
      key: 'board',
      known,
    });
  }
  const url = new URL(`${name}.json`, boardsDir);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(url, 'utf8'));
  } catch (e) {
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `board map ${url.pathname} unreadable: ${errnoCode(e) ?? e}`, {
      key: 'board',
    });
  }
  return parseBoard(raw, name);
}

/** Check a parsed profile document (schema and cross-key rules); CONFIG_INVALID lists every problem. */
export function parseBoard(raw: unknown, name: string): BoardMap {
  const parsed = boardSchema.safeParse(raw);
  const problems = parsed.ok
    ? crossCheck(parsed.value)
    : parsed.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (!parsed.ok || problems.length > 0) {
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `board map ${name}: ${problems.join('; ')}`, {
      key: 'board',
      problems,
    });
  }
  return parsed.value;
}

/** Rules across keys: distinct pins, a v4l2 device, one wiring row per GPIO line on its header pin, bounded lists. */
function crossCheck(map: BoardMap): string[] {
  const problems: string[] = [];
  const lines = [...boardInputs(map), ...boardOutputs(map)];
  const keys = [
    ...Object.keys(map.inputs).map((n) => `inputs.${n}`),
    ...Object.keys(map.outputs).map((n) => `outputs.${n}`),
  ];
  lines.forEach((l, i) => {
    const first = lines.findIndex((o) => o.pin === l.pin);
    if (first < i) problems.push(`${keys[i]}.pin: BCM ${l.pin} is used twice (also ${keys[first]})`);
  });
  if (map.camera.source === 'v4l2' && map.camera.device === undefined) {
    problems.push('camera.device: a v4l2 camera needs its device node');
  }
  for (const l of lines) {
    const rows = map.wiring.filter((w) => w.part === l.name);
    if (rows.length !== 1) problems.push(`wiring: '${l.name}' needs exactly one row (has ${rows.length})`);
    else if (rows[0]?.header !== HEADER_PIN[l.pin]) {
      problems.push(`wiring.${l.name}: BCM ${l.pin} is header pin ${HEADER_PIN[l.pin]}, not ${rows[0]?.header}`);
    }
  }
  for (const w of map.wiring) {
    if (w.header !== undefined && !lines.some((l) => l.name === w.part)) {
      problems.push(`wiring.${w.part}: a header pin is only for GPIO lines of the map`);
    }
  }
  if (map.configTxt.length > MAX_ROWS) problems.push(`configTxt: at most ${MAX_ROWS} lines`);
  if (map.wiring.length > MAX_ROWS) problems.push(`wiring: at most ${MAX_ROWS} rows`);
  return problems;
}

/** The map's inputs as named lines (`record`, `trigger`, `dock`, `silent`), the shape the GPIO port takes. */
export function boardInputs(map: BoardMap): Array<{ name: string } & BoardMap['inputs'][BoardInputName]> {
  return Object.entries(map.inputs).map(([name, p]) => ({ name, ...p }));
}

/** The map's outputs as named lines (`ledRed`, `ledGreen`, `haptic`). */
export function boardOutputs(map: BoardMap): Array<{ name: string } & BoardMap['outputs'][BoardOutputName]> {
  return Object.entries(map.outputs).map(([name, p]) => ({ name, ...p }));
}

/** `capture.source` for a camera on this board: its camera, encoder and microphone (channels and rate). */
export function boardSourceConfig(map: BoardMap): Record<string, unknown> {
  const { source, width, height, fps } = map.camera;
  const mic = { alsaDevice: map.audio.capture, audioChannels: map.audio.channels, audioRate: map.audio.rate };
  switch (source) {
    case 'synthetic':
      return { kind: 'synthetic', width, height, fps, speed: 1 };
    case 'v4l2':
      return {
        kind: 'v4l2',
        device: map.camera.device,
        encoder: map.encoder,
        ...(map.camera.inputFormat === undefined ? {} : { inputFormat: map.camera.inputFormat }),
        width,
        height,
        fps,
        ...mic,
      };
    case 'rpicam':
      return { kind: 'rpicam', width, height, fps, ...mic };
  }
}

/** The `audio` section (the speaker) for this board. */
export function boardAudioConfig(map: BoardMap): Record<string, unknown> {
  return map.audio.driver === 'alsa' ? { driver: 'alsa', device: map.audio.playback } : { driver: map.audio.driver };
}

/** The wiring table as text rows: GPIO lines with BCM number, header pin and polarity, then the parts. */
export function wiringSummary(map: BoardMap): string[] {
  const lines = new Map<string, { pin: number; activeLow: boolean; pull?: string }>(
    [...boardInputs(map), ...boardOutputs(map)].map((l) => [l.name, l]),
  );
  return map.wiring.map((w) => {
    const line = lines.get(w.part);
    if (line === undefined) return `${w.part.padEnd(10)} ${w.connect}`;
    const polarity = `${line.activeLow ? 'active low' : 'active high'}${line.pull === undefined ? '' : `, pull ${line.pull}`}`;
    const where = `BCM ${line.pin} (pin ${w.header})`.padEnd(16);
    return `${w.part.padEnd(10)} ${where} ${w.connect} [${polarity}]`;
  });
}
