/**
 * Property tests of config validation (src/config/load.ts validateConfig) and board profiles (src/config/boards.ts
 * parseBoard): random documents and mutations of valid ones (the config `bodycam init` writes for every shipped
 * board, the shipped profiles). Validation never throws; every problem names a key, and a broken key is among the
 * problems reported; what is valid stays valid.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/age/keys.ts';
import { buildInitialConfig } from '../../src/cli/init.ts';
import { knownBoards, parseBoard } from '../../src/config/boards.ts';
import { validateConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { ErrorCode, isBodycamError } from '../../src/lib/errors.ts';
import { runs } from './runs.ts';

type Doc = Record<string, unknown>;
type Path = Array<string | number>;

const RECIPIENT = generateIdentity().recipient;
const BOARDS = knownBoards();
const CONFIGS = new Map(
  BOARDS.map((board) => [
    board,
    buildInitialConfig({ dir: '/tmp/cam', recipient: [RECIPIENT], board, deviceId: 'cam-1', force: false }),
  ]),
);
const PROFILES = new Map(
  BOARDS.map((b) => [
    b,
    JSON.parse(readFileSync(new URL(`../../hardware/boards/${b}.json`, import.meta.url), 'utf8')) as Doc,
  ]),
);
const TOP_KEYS = new Set(Object.keys(configSchema.shape));
/** The keys of a board profile, as the shipped sim profile has them all. */
const BOARD_KEYS = Object.keys(
  JSON.parse(readFileSync(new URL('../../hardware/boards/sim.json', import.meta.url), 'utf8')),
);

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Every path into a JSON value (objects and arrays descended), the root excluded. */
function paths(v: unknown, prefix: Path = []): Path[] {
  if (typeof v !== 'object' || v === null) return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(v)
    ? v.map((x, i) => [i, x])
    : Object.entries(v as Doc);
  return entries.flatMap(([k, x]) => [[...prefix, k], ...paths(x, [...prefix, k])]);
}

function getAt(doc: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], doc);
}

/** Sets (or with `undefined` deletes) the value at `path`. */
function setAt(doc: unknown, path: Path, value: unknown): void {
  const parent = getAt(doc, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1] as string | number;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else parent[key] = value;
}

/** Renumbers the paths that lie after `removed` in its array, as removing that element moves them down by one. */
function shiftAfterRemoval(touched: Path[], removed: Path): void {
  const depth = removed.length - 1;
  const index = removed[depth] as number;
  for (const t of touched) {
    const at = t[depth];
    if (t.length > depth && typeof at === 'number' && at > index && removed.slice(0, depth).every((k, i) => t[i] === k))
      t[depth] = at - 1;
  }
}

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const dotted = (p: Path) => p.map(String).join('.');
/** One key is the other or lies inside it. */
const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);

/** Any JSON value, with boundary numbers and the names every JavaScript object already has. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 0.5, 1e9, -1e9, '', ' ', 'constructor', '__proto__', 'toString', [], {}),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 12 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** A value of another JSON type than `v`. */
const otherType = (v: unknown) => anyValue.filter((x) => jsonType(x) !== jsonType(v));

function validate(doc: unknown) {
  let result: ReturnType<typeof validateConfig> | undefined;
  expect(() => {
    result = validateConfig(doc, '/etc/bodycam');
  }).not.toThrow();
  if (result === undefined) throw new Error('no result');
  if (!result.ok) {
    expect(result.problems.length).toBeGreaterThan(0);
    for (const p of result.problems) {
      expect(p.message.trim()).not.toBe('');
      // A key of the schema, or the unknown key the document carries, or the document itself.
      const docKeys = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? Object.keys(doc) : [];
      const names = [...TOP_KEYS, ...docKeys];
      expect(p.key === '(root)' || names.some((k) => p.key === k || p.key.startsWith(`${k}.`))).toBe(true);
    }
  }
  return result;
}

describe('config validation', () => {
  it('accepts the config init writes for every board, and accepts its own output again unchanged', () => {
    for (const config of CONFIGS.values()) {
      const r = validate(clone(config));
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      const again = validate(clone(r.config));
      expect(again).toEqual({ ok: true, config: r.config });
    }
  });

  it('never throws on random documents, and names a key in every problem', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }),
          fc.dictionary(fc.constantFrom(...TOP_KEYS), fc.jsonValue({ maxDepth: 3 })),
        ),
        (doc) => {
          const r = validate(doc);
          expect(r.ok).toBe(false);
        },
      ),
      runs(300),
    );
  });

  it('reports a key whose value changed type, at that key', () => {
    const cases = [...CONFIGS.values()].flatMap((c) => paths(c).map((p) => ({ config: c, path: p })));
    fc.assert(
      fc.property(
        fc.constantFrom(...cases).chain(({ config, path }) =>
          fc.record({
            config: fc.constant(config),
            path: fc.constant(path),
            value: otherType(getAt(config, path)),
          }),
        ),
        ({ config, path, value }) => {
          const doc = clone(config);
          setAt(doc, path, value);
          const r = validate(doc);
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.problems.map((p) => p.key)).toContain(dotted(path));
        },
      ),
      runs(300),
    );
  });

  it('never throws on any mutation (values replaced, keys removed or added); problems relate to the change', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('set' as const), value: anyValue }),
      fc.record({ op: fc.constant('delete' as const) }),
      fc.record({
        op: fc.constant('add' as const),
        key: fc.oneof(
          fc.string({ minLength: 1, maxLength: 8 }),
          fc.constantFrom('constructor', '__proto__', 'toString'),
        ),
        value: anyValue,
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...CONFIGS.keys()),
        fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 }),
        (board, edits) => {
          const doc = clone(CONFIGS.get(board));
          const touched: Path[] = [];
          for (const [n, edit] of edits) {
            const all = paths(doc);
            const path = all[n % Math.max(1, all.length)] ?? [];
            if (edit.op === 'set') setAt(doc, path, edit.value);
            if (edit.op === 'delete') {
              // Removing an array element moves the ones after it down: an earlier edit there now sits one lower.
              if (Array.isArray(getAt(doc, path.slice(0, -1)))) shiftAfterRemoval(touched, path);
              setAt(doc, path, undefined);
            }
            if (edit.op === 'add') {
              const target = getAt(doc, path);
              if (typeof target !== 'object' || target === null || Array.isArray(target)) continue;
              Object.defineProperty(target, edit.key, {
                value: edit.value,
                enumerable: true,
                writable: true,
                configurable: true,
              });
              path.push(edit.key);
            }
            touched.push(path);
          }
          const sent = JSON.parse(JSON.stringify(doc)) as unknown;
          const r = validate(sent);
          if (!r.ok) {
            // Cross-key rules report at the key that names an input; the change may have been to gpio.inputs.
            const cause = r.problems.some(
              (p) =>
                touched.some((t) => related(p.key, dotted(t))) ||
                (p.key.startsWith('controls.') && touched.some((t) => t[0] === 'gpio')),
            );
            expect(cause).toBe(true);
          }
        },
      ),
      runs(300),
    );
  });

  it('refuses a record or trigger input that gpio.inputs does not define, whatever its name', () => {
    const name = fc.oneof(
      fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__', 'isPrototypeOf', 'nope'),
      fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/),
    );
    fc.assert(
      fc.property(fc.constantFrom(...CONFIGS.keys()), name, fc.boolean(), (board, input, asTrigger) => {
        const doc = clone(CONFIGS.get(board)) as { controls?: Doc; gpio: { inputs: Doc } };
        const defined = Object.hasOwn(doc.gpio.inputs, input);
        doc.controls = asTrigger ? { triggerInputs: [input] } : { recordInput: input };
        const r = validate(doc);
        expect(r.ok).toBe(defined);
        if (!r.ok) {
          expect(r.problems.map((p) => p.key)).toContain(
            asTrigger ? 'controls.triggerInputs.0' : 'controls.recordInput',
          );
        }
      }),
      runs(200),
    );
  });
});

describe('board profiles', () => {
  /** parseBoard's answer: the map, or the CONFIG_INVALID problems (anything else fails the test). */
  function parse(doc: unknown): { ok: true } | { ok: false; problems: string[] } {
    try {
      parseBoard(doc, 'fuzz');
      return { ok: true };
    } catch (e) {
      expect(isBodycamError(e, ErrorCode.CONFIG_INVALID)).toBe(true);
      const problems = (e as { details: { problems: string[] } }).details.problems;
      expect(problems.length).toBeGreaterThan(0);
      // Each problem starts with the key it is about ("camera.width: …", "(root): …"): a key of the profile format
      // or one the document carries.
      const docKeys = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? Object.keys(doc) : [];
      const names = [...BOARD_KEYS, ...docKeys];
      for (const p of problems) {
        expect(p).toMatch(/^[^\n]*?: \S/);
        expect(p.startsWith('(root): ') || names.some((k) => p.startsWith(`${k}: `) || p.startsWith(`${k}.`))).toBe(
          true,
        );
      }
      return { ok: false, problems };
    }
  }

  it('accepts every shipped profile', () => {
    for (const doc of PROFILES.values()) expect(parse(clone(doc))).toEqual({ ok: true });
  });

  it('never throws anything but CONFIG_INVALID naming keys, on random documents and on mutated profiles', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...PROFILES.keys()), fc.array(fc.tuple(fc.nat(), fc.option(anyValue)), { maxLength: 3 }))
      .map(([board, edits]) => {
        const doc = clone(PROFILES.get(board));
        for (const [n, value] of edits) {
          const all = paths(doc);
          const path = all[n % all.length];
          if (path !== undefined) setAt(doc, path, value ?? undefined);
        }
        return doc as unknown;
      });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 3 }), mutated), (doc) => {
        parse(doc);
      }),
      runs(300),
    );
  });

  it('names both lines when two share a pin', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILES.keys()),
        fc.constantFrom('record', 'trigger', 'dock', 'silent'),
        fc.constantFrom('ledRed', 'ledGreen', 'haptic'),
        (board, input, output) => {
          const doc = clone(PROFILES.get(board)) as { inputs: Record<string, Doc>; outputs: Record<string, Doc> };
          const pin = doc.inputs[input]?.['pin'];
          const out = doc.outputs[output];
          if (out === undefined) throw new Error(`profile ${board} lacks ${output}`);
          out['pin'] = pin;
          const r = parse(doc);
          expect(r.ok).toBe(false);
          if (!r.ok)
            expect(r.problems.join('\n')).toMatch(new RegExp(`outputs\\.${output}\\.pin: .*inputs\\.${input}`));
        },
      ),
      runs(50),
    );
  });
});
