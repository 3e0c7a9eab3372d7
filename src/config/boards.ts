import { readdirSync, readFileSync } from 'node:fs';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { LANGUAGES } from './feedback-schema.ts';
import { type Infer, s } from './schema-kit.ts';

const pin = () =>
  s.number().int().min(2).max(27).describe('BCM line on the 40-pin header (0–1 are the HAT EEPROM bus)');

const inputPin = () =>
  s.object({
    pin: pin(),
    activeLow: s.boolean().describe('true: the line reads low when active (switch to ground)'),
    pull: s.enum(['up', 'down', 'none']),
  });
const outputPin = () => s.object({ pin: pin(), activeLow: s.boolean().describe('true: driving low lights the LED') });

const boardSchema = s.object({
  board: s.string().nonEmpty(),
  gpioDriver: s.enum(['sim', 'onoff', 'gpiox']),
  inputs: s.object({ record: inputPin(), trigger: inputPin(), dock: inputPin(), silent: inputPin() }),
  outputs: s.object({ ledRed: outputPin(), ledGreen: outputPin(), haptic: outputPin() }),
  warningLanguages: s.array(s.enum(LANGUAGES)).min(1, 'at least one language').describe('the zone default'),
});

/** A board's pin map, as in hardware/boards/NAME.json. */
export type BoardMap = Infer<typeof boardSchema>;
export type BoardInputName = keyof BoardMap['inputs'];
export type BoardOutputName = keyof BoardMap['outputs'];

const boardsDir = new URL('../../hardware/boards/', import.meta.url);

/** Names of the pin maps shipped in hardware/boards. */
export function knownBoards(): string[] {
  return readdirSync(boardsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Read and check one board map; an unknown name or a bad file is CONFIG_INVALID naming what is wrong. */
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
  const parsed = boardSchema.safeParse(raw);
  if (!parsed.ok) {
    const problems = parsed.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `board map ${name}: ${problems.join('; ')}`, {
      key: 'board',
      problems,
    });
  }
  const pins = [...Object.values(parsed.value.inputs), ...Object.values(parsed.value.outputs)].map((p) => p.pin);
  const dup = pins.find((p, i) => pins.indexOf(p) !== i);
  if (dup !== undefined) {
    throw new BodycamError(ErrorCode.CONFIG_INVALID, `board map ${name}: BCM ${dup} is used twice`, { key: 'board' });
  }
  return parsed.value;
}

/** The map's inputs as named lines (`record`, `trigger`, `dock`, `silent`), the shape the GPIO port takes. */
export function boardInputs(map: BoardMap): Array<{ name: string } & BoardMap['inputs'][BoardInputName]> {
  return Object.entries(map.inputs).map(([name, p]) => ({ name, ...p }));
}

/** The map's outputs as named lines (`ledRed`, `ledGreen`, `haptic`). */
export function boardOutputs(map: BoardMap): Array<{ name: string } & BoardMap['outputs'][BoardOutputName]> {
  return Object.entries(map.outputs).map(([name, p]) => ({ name, ...p }));
}
