/**
 * Property tests of the verifier on hostile input: manifests with any field replaced by huge numbers, deep nesting or
 * long strings, audit logs and docking records of arbitrary lines, incident directories of many arbitrary names.
 * Whatever the input, no exception escapes, every line and every file is accounted for exactly once (work bounded by
 * the input, never by a number read from it), and the process's peak memory grows by a bounded amount over all runs.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKINGS_LOG } from '../../src/evidence/paths.ts';
import { verifyDirectory } from '../../src/evidence/verify.ts';
import {
  type DeviceBuilder,
  INC_A,
  INC_B,
  keysOf,
  removeTempDirs,
  seg,
  standardDevice,
  tempDir,
} from '../unit/evidence/builder.ts';
import { LONG, runs } from './runs.ts';

/** Each property's time limit: the long run multiplies its runs by 25. */
const LIMIT = LONG ? 3_600_000 : 120_000;

const MB = 1024 * 1024;
/** Peak RSS (the process's high-water mark) may grow this much over every run of this file. */
const PEAK_GROWTH_BOUND = 256 * MB;
const peak = () => process.resourceUsage().maxRSS * 1024;

let pristine: string;
let device: DeviceBuilder;
let peakBefore: number;
beforeAll(async () => {
  pristine = await tempDir('fuzz-evidence-');
  device = await standardDevice(pristine);
  peakBefore = peak();
});
afterAll(async () => {
  expect(peak() - peakBefore).toBeLessThan(PEAK_GROWTH_BOUND);
  await removeTempDirs();
});

async function copy(): Promise<string> {
  const dir = await tempDir('fuzz-copy-');
  await cp(pristine, dir, { recursive: true });
  return dir;
}

/**
 * Values that broke or bloated verifiers: huge and odd numbers, deep nesting, long strings, any JSON. Deep and long
 * ones are described (`{ deep }`, `{ long }`) and built in the property, so a counterexample prints.
 */
type Hostile = { value: unknown } | { deep: number } | { long: number };
const hostileValue: fc.Arbitrary<Hostile> = fc.oneof(
  fc.constantFrom(2 ** 32, 2 ** 32 - 1, 2 ** 53 - 1, 2 ** 53 + 2, 1e300, -1, 0.5, -0).map((value) => ({ value })),
  fc.integer({ min: 1, max: 200_000 }).map((deep) => ({ deep })),
  fc.integer({ min: 1, max: 2_000_000 }).map((long) => ({ long })),
  fc.jsonValue().map((value) => ({ value })),
);
/** The JSON text of a hostile value. */
const textOf = (h: Hostile) =>
  'deep' in h
    ? `${'['.repeat(h.deep)}${']'.repeat(h.deep)}`
    : 'long' in h
      ? `"${'a'.repeat(h.long)}"`
      : JSON.stringify(h.value);

/** Text that breaks parsers: nesting far past any limit, long lines, huge numbers, bytes that are not UTF-8. */
const hostileLine: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 1, max: 300_000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`),
  fc.integer({ min: 1, max: 100_000 }).map((d) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`),
  fc.integer({ min: 60_000, max: 400_000 }).map((n) => `"${'x'.repeat(n)}"`),
  fc.constantFrom('{"payload":{"seq":4294967296}}', '1e300', '-0', '{"__proto__":{"x":1}}', '\u0000\uffff'),
  fc.json(),
  fc.string({ maxLength: 200 }),
);

/** Paths of manifest fields, in a segment manifest and a closing manifest. */
const FIELDS = [
  ['payload', 'chainSeq'],
  ['payload', 'segment', 'seq'],
  ['payload', 'segment', 'bytes'],
  ['payload', 'segment', 'file'],
  ['payload', 'incident'],
  ['payload', 'media', 'frames'],
  ['payload', 'prev'],
  ['payload', 'segments'],
  ['keyId'],
  ['signature'],
  ['payload'],
] as const;

/** `doc` as JSON text with the field at `keys` replaced by `text` (spliced in as text: it may nest 200,000 deep). */
function replaced(doc: Record<string, any>, keys: readonly string[], text: string): string {
  const marker = '"\u0000HOSTILE\u0000"';
  let at = doc;
  for (const k of keys.slice(0, -1)) {
    if (typeof at[k] !== 'object' || at[k] === null) at[k] = {};
    at = at[k];
  }
  at[keys.at(-1) ?? ''] = '\u0000HOSTILE\u0000';
  return JSON.stringify(doc).replace(marker, text);
}

describe('the verifier on hostile input', () => {
  it(
    'a manifest with any field replaced is a finding, never an exception, and untouched incidents still verify',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(`${seg(INC_A, 1)}.manifest.json`, `footage/${INC_B}/incident.manifest.json`),
          fc.constantFrom(...FIELDS),
          hostileValue,
          async (file, keys, value) => {
            const dir = await copy();
            const doc = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
            await writeFile(path.join(dir, file), replaced(doc, keys, textOf(value)));
            const report = await verifyDirectory(dir, keysOf(device));
            // The manifest was read once, and the segments of the other incident still verify.
            expect(report.files.filter((f) => f.file === file)).toHaveLength(1);
            const other = file.includes(INC_A) ? INC_B : INC_A;
            const segments = report.devices[0]?.incidents.find((i) => i.id === other)?.segments ?? [];
            expect(segments.length).toBeGreaterThan(0);
            expect(segments.every((s) => s.verified)).toBe(true);
            await rm(dir, { recursive: true, force: true });
          },
        ),
        runs(40),
      );
    },
    LIMIT,
  );

  it(
    'an open incident whose one manifest claims a huge segment number costs nothing sized by that number',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 2 ** 20, max: Number.MAX_SAFE_INTEGER }), async (seq) => {
          const dir = await copy();
          const doc = JSON.parse(await readFile(path.join(dir, `${seg(INC_A, 1)}.manifest.json`), 'utf8'));
          const open = 'cam-0042-20260302T100000Z-0bad';
          Object.assign(doc.payload, { incident: open, chainSeq: seq, preroll: null });
          doc.payload.segment.seq = seq;
          await mkdir(path.join(dir, 'footage', open));
          await writeFile(path.join(dir, 'footage', open, '0000.mp4.age.manifest.json'), JSON.stringify(doc));
          const report = await verifyDirectory(dir, keysOf(device));
          expect(report.ok).toBe(false);
          expect(report.findings.find((f) => f.code === 'incident-incomplete')?.message).toBe(
            `segment(s) 0–${seq - 1} missing`,
          );
          await rm(dir, { recursive: true, force: true });
        }),
        runs(20),
      );
    },
    LIMIT,
  );

  it(
    'an audit log or docking records of arbitrary lines: every line accounted for once',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(hostileLine, { minLength: 1, maxLength: 8 }),
          fc.boolean(),
          async (lines, dockings) => {
            const dir = await copy();
            const file = path.join(dir, dockings ? DOCKINGS_LOG : 'audit.jsonl');
            const before = dockings ? '' : await readFile(file, 'utf8');
            await writeFile(file, before + lines.map((l) => `${l}\n`).join(''));
            const report = await verifyDirectory(dir, { ...keysOf(device), docks: [device.publicKey] });
            const rel = path.basename(file);
            const lineFindings = report.findings.filter((f) => f.segment === rel && f.line !== undefined);
            const start = before.split('\n').length - 1;
            // Each hostile line is reported once, by its number; none is taken as an entry or a record.
            expect(new Set(lineFindings.filter((f) => (f.line ?? 0) > start).map((f) => f.line)).size).toBe(
              lines.length,
            );
            expect(report.devices[0]?.auditEntries).toBe(13);
            await rm(dir, { recursive: true, force: true });
          },
        ),
        runs(30),
      );
    },
    LIMIT,
  );

  it(
    'an incident directory of many arbitrary names: each reported once, none read',
    async () => {
      const name = fc
        .string({ minLength: 1, maxLength: 40 })
        .filter((s) => !/[/\0]/.test(s) && s !== '.' && s !== '..' && Buffer.byteLength(s) < 200);
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(name, { minLength: 1, maxLength: 300 }), async (names) => {
          const dir = await copy();
          const incident = path.join(dir, 'footage', INC_A);
          const extra: string[] = [];
          for (const n of names) {
            const target = path.join(incident, n);
            try {
              await mkdir(path.dirname(target), { recursive: true });
              await writeFile(target, 'x', { flag: 'wx' });
              extra.push(n);
            } catch {
              // a name the camera itself wrote, or not creatable here
            }
          }
          const report = await verifyDirectory(dir, keysOf(device));
          const read = new Set(report.files.map((f) => f.file));
          expect(read.size).toBe(report.files.length);
          expect(report.files.length).toBeLessThanOrEqual(14);
          for (const n of extra) {
            const rel = `footage/${INC_A}/${n}`;
            expect(read.has(rel)).toBe(false);
            const named = report.findings.filter((f) => f.segment === rel);
            expect(named.length, rel).toBeLessThanOrEqual(2);
          }
          await rm(dir, { recursive: true, force: true });
        }),
        runs(15),
      );
    },
    LIMIT,
  );
});
