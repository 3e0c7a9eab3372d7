/**
 * Property tests of the dock sync protocol's message checks (src/protocol/checks.ts). The checks never throw; each
 * answer is a checked message or a reason naming the field; and the test's own reading of the protocol (the field
 * table below, written from messages.ts) agrees with them on every valid message and every field-by-field mutation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Checked,
  checkAuditBatch,
  checkAuditPull,
  checkChunkHeader,
  checkHello,
  checkInventory,
  checkInventoryHead,
  checkPull,
  checkRefusal,
  checkRefusals,
  checkTime,
} from '../../src/protocol/checks.ts';
import { MAX_JSON_BYTES, MAX_OFFERS_PER_INVENTORY } from '../../src/protocol/limits.ts';
import { PROTOCOL } from '../../src/protocol/messages.ts';
import { downTopic, parseTopic, upTopic } from '../../src/protocol/topics.ts';
import { runs } from './runs.ts';

type Rule = { valid: (v: unknown) => boolean; gen: fc.Arbitrary<unknown> };

const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const matches = (re: RegExp) => (v: unknown) => typeof v === 'string' && re.test(v);
const whole = (min: number, max: number) => (v: unknown) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

const id: Rule = { valid: matches(ID), gen: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,24}$/) };
const hex64: Rule = { valid: matches(/^[0-9a-f]{64}$/), gen: fc.stringMatching(/^[0-9a-f]{64}$/) };
const seq: Rule = { valid: whole(0, 99_999), gen: fc.integer({ min: 0, max: 99_999 }) };
const offset: Rule = { valid: whole(0, Number.MAX_SAFE_INTEGER), gen: fc.maxSafeNat() };
const number: Rule = { valid: finite, gen: fc.double({ noNaN: true, noDefaultInfinity: true }) };

/** Each JSON message: its checker and, per field, what the protocol allows. */
const MESSAGES: Record<string, { check: (p: Buffer) => Checked<unknown>; fields: Record<string, Rule> }> = {
  hello: {
    check: checkHello,
    fields: {
      protocol: { valid: (v) => v === PROTOCOL, gen: fc.constant(PROTOCOL) },
      session: id,
      device: id,
      keyId: { valid: matches(/^[0-9a-f]{32}$/), gen: fc.stringMatching(/^[0-9a-f]{32}$/) },
      release: id,
      sentMono: number,
    },
  },
  time: { check: checkTime, fields: { session: id, dockWallMs: number, echoMono: number } },
  pull: {
    check: checkPull,
    fields: {
      session: id,
      incident: id,
      seq,
      offset,
      count: { valid: whole(1, 64), gen: fc.integer({ min: 1, max: 64 }) },
    },
  },
  auditPull: { check: checkAuditPull, fields: { session: id, fromSeq: offset } },
  auditBatch: {
    check: checkAuditBatch,
    fields: {
      session: id,
      fromSeq: offset,
      lines: {
        valid: (v) => Array.isArray(v) && v.every((l) => typeof l === 'string' && l.length < 64 * 1024),
        gen: fc.array(fc.string({ maxLength: 80 }), { maxLength: 5 }),
      },
    },
  },
  refusal: {
    check: checkRefusal,
    // `message` is free text, kept when it is a string: any value is accepted there.
    fields: { session: id, incident: id, seq, code: id, message: { valid: () => true, gen: fc.string() } },
  },
};

const offerFields: Record<string, Rule> = {
  incident: id,
  seq,
  file: { valid: matches(/^\d{4}\.mp4\.age$/), gen: fc.stringMatching(/^\d{4}\.mp4\.age$/) },
  bytes: { valid: whole(0, 64 * 1024 ** 3), gen: fc.integer({ min: 0, max: 64 * 1024 ** 3 }) },
  sha256: hex64,
  manifest: { valid: () => true, gen: fc.jsonValue({ maxDepth: 2 }) },
};

/** Values of every JSON type, boundary numbers and strings that nearly match, to put in place of a field. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -0,
    -1,
    1.5,
    64,
    65,
    99_999,
    100_000,
    Number.MAX_SAFE_INTEGER,
    2 ** 53,
    1e308,
    '',
    ' ',
    'a b',
    '-x',
    '.x',
    'x/y',
    '0',
    'a'.repeat(129),
    'A'.repeat(64),
    bytesOf('0'),
    bytesOf('G'),
    PROTOCOL.toUpperCase(),
    [],
    {},
  ),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);
function bytesOf(c: string): string {
  return c.repeat(64);
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null');

function expectAnswer(r: Checked<unknown>): void {
  const isOk = 'ok' in r;
  const isError = 'error' in r;
  expect(isOk !== isError).toBe(true);
  if (isError) expect(typeof r.error === 'string' && r.error.length > 0).toBe(true);
}

const record = (fields: Record<string, Rule>) =>
  fc.record(Object.fromEntries(Object.entries(fields).map(([k, r]) => [k, r.gen]))) as fc.Arbitrary<
    Record<string, unknown>
  >;

/** A field replaced by any value (or removed), and what the protocol says of the result. */
function mutation(fields: Record<string, Rule>) {
  return fc.record({
    key: fc.constantFrom(...Object.keys(fields)),
    value: fc.option(anyValue, { nil: undefined, freq: 8 }),
  });
}

describe('dock protocol checks', () => {
  it('answer random bytes with a reason, never a throw', () => {
    const all = [...Object.values(MESSAGES).map((m) => m.check), checkInventory, checkRefusals];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        for (const check of all) {
          const r = check(Buffer.from(bytes));
          expectAnswer(r);
        }
      }),
      runs(300),
    );
  });

  it('answer random JSON with a reason or a message the protocol allows', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (doc) => {
        for (const { check, fields } of Object.values(MESSAGES)) {
          const r = check(json(doc));
          expectAnswer(r);
          if ('ok' in r) {
            const d = doc as Record<string, unknown>;
            for (const [k, rule] of Object.entries(fields)) expect(rule.valid(d[k])).toBe(true);
          }
        }
        expectAnswer(checkInventory(json(doc)));
        expectAnswer(checkRefusals(json(doc)));
      }),
      runs(300),
    );
  });

  it('refuse a payload over the limit before parsing it', () => {
    const big = Buffer.alloc(MAX_JSON_BYTES + 1, 0x20);
    for (const { check } of Object.values(MESSAGES))
      expect(check(big)).toEqual({ error: expect.stringMatching(/over/) });
  });

  for (const [name, { check, fields }] of Object.entries(MESSAGES)) {
    it(`${name}: accepts every valid message as it is, and agrees with the protocol on every mutated field`, () => {
      fc.assert(
        fc.property(record(fields), fc.array(mutation(fields), { maxLength: 3 }), (msg, edits) => {
          const valid = check(json(msg));
          expect(valid).toEqual({ ok: expect.objectContaining(JSON.parse(JSON.stringify(msg))) });
          const doc: Record<string, unknown> = { ...msg };
          for (const e of edits) {
            if (e.value === undefined) delete doc[e.key];
            else doc[e.key] = e.value;
          }
          const sent = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
          const bad = Object.keys(fields).filter((k) => !(fields[k]?.valid(sent[k]) ?? false));
          const r = check(json(doc));
          expectAnswer(r);
          if (bad.length === 0) expect(r).toHaveProperty('ok');
          else {
            expect(r).toHaveProperty('error');
            // The reason names one of the fields that are wrong.
            expect(bad.some((k) => (r as { error: string }).error.includes(k))).toBe(true);
          }
        }),
        runs(150),
      );
    });
  }

  it('inventory: accepts valid offers, and agrees with the protocol on a mutated offer', () => {
    const offer = record(offerFields);
    fc.assert(
      fc.property(
        id.gen,
        fc.array(offer, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: -1, max: 1000 }),
        mutation(offerFields),
        fc.nat(3),
        (session, segments, auditHead, edit, which) => {
          const incidents = segments.map((s) => ({ incident: s['incident'], manifest: { closing: true } }));
          const msg = { session, segments, incidents, auditHead };
          expect(checkInventory(json(msg))).toHaveProperty('ok');
          const i = which % segments.length;
          const mutated = segments.map((s, n) => {
            if (n !== i) return s;
            const copy = { ...s };
            if (edit.value === undefined) delete copy[edit.key];
            else copy[edit.key] = edit.value;
            return copy;
          });
          const sent = JSON.parse(JSON.stringify(mutated[i])) as Record<string, unknown>;
          const bad = Object.keys(offerFields).filter((k) => !(offerFields[k]?.valid(sent[k]) ?? false));
          const r = checkInventory(json({ ...msg, segments: mutated }));
          expectAnswer(r);
          if (bad.length === 0) expect(r).toHaveProperty('ok');
          else expect(bad.some((k) => 'error' in r && r.error.includes(k))).toBe(true);
        },
      ),
      runs(150),
    );
  });

  it('inventory head: the first n offers checked and kept, the rest only counted (broken ones included)', () => {
    fc.assert(
      fc.property(
        fc.array(record(offerFields), { maxLength: 6 }),
        fc.array(anyValue, { maxLength: 4 }),
        fc.nat(8),
        (good, junk, n) => {
          const msg = { session: 's', segments: [...good, ...junk], incidents: [], auditHead: -1 };
          const r = checkInventoryHead(json(msg), n);
          expectAnswer(r);
          if (n > good.length && junk.length > 0) return; // junk was looked at: refused or not, it is answered
          expect(r).toEqual({
            ok: {
              inventory: expect.objectContaining({ segments: JSON.parse(JSON.stringify(good.slice(0, n))) }),
              notConsidered: good.length + junk.length - Math.min(n, good.length + junk.length),
            },
          });
        },
      ),
      runs(150),
    );
  });

  it('refusals: a list of refused offers within the per-inventory bound, and a count', () => {
    const refused = fc.record({ incident: id.gen, seq: seq.gen, code: id.gen, message: fc.string({ maxLength: 40 }) });
    fc.assert(
      fc.property(id.gen, fc.array(refused, { maxLength: 5 }), fc.nat(), (session, segments, notConsidered) => {
        expect(checkRefusals(json({ session, segments, notConsidered }))).toEqual({
          ok: JSON.parse(JSON.stringify({ session, segments, notConsidered })),
        });
        const over = Array.from({ length: MAX_OFFERS_PER_INVENTORY + 1 }, () => segments[0] ?? {});
        expect(checkRefusals(json({ session, segments: over, notConsidered }))).toHaveProperty('error');
        expect(checkRefusals(json({ session, segments, notConsidered: -1 }))).toEqual({
          error: expect.stringContaining('notConsidered'),
        });
      }),
      runs(100),
    );
  });

  it('chunk header: decimal numbers only, every field checked', () => {
    const decimal = fc.oneof(fc.nat({ max: 99_999 }).map(String), fc.maxSafeNat().map(String));
    const props = fc.record({
      session: id.gen as fc.Arbitrary<string>,
      incident: id.gen as fc.Arbitrary<string>,
      seq: fc.nat({ max: 99_999 }).map(String),
      offset: decimal,
      sha256: hex64.gen as fc.Arbitrary<string>,
    });
    const oddNumbers = fc.constantFrom('', ' ', ' 7', '7 ', '0x10', '1e3', '1.0', '+5', '-0', '0b1', '\t3', '١٢');
    const wrong = fc.oneof(
      oddNumbers,
      fc.string({ maxLength: 12 }),
      anyValue.map((v) => JSON.stringify(v) ?? ''),
    );
    fc.assert(
      fc.property(
        props,
        fc.constantFrom('session', 'incident', 'seq', 'offset', 'sha256'),
        fc.option(wrong, { nil: undefined, freq: 8 }),
        fc.boolean(),
        (p, key, value, asList) => {
          expect(checkChunkHeader(p)).toEqual({
            ok: { ...p, seq: Number(p.seq), offset: Number(p.offset) },
          });
          const mutated: Record<string, string | string[]> = { ...p };
          if (value === undefined) delete mutated[key];
          else mutated[key] = asList ? [value] : value;
          const v = value;
          const valid =
            v !== undefined &&
            (key === 'seq'
              ? /^\d{1,5}$/.test(v)
              : key === 'offset'
                ? /^\d{1,16}$/.test(v) && Number(v) <= Number.MAX_SAFE_INTEGER
                : key === 'sha256'
                  ? /^[0-9a-f]{64}$/.test(v)
                  : ID.test(v));
          const r = checkChunkHeader(mutated);
          expectAnswer(r);
          if (valid) expect(r).toHaveProperty('ok');
          else expect(r).toEqual({ error: expect.stringContaining(key) });
        },
      ),
      runs(300),
    );
    expect(checkChunkHeader(undefined)).toEqual({ error: expect.any(String) });
  });

  it('topics: ours parse back, anything else is null', () => {
    const device = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
    fc.assert(
      fc.property(device, fc.constantFrom('hello', 'inventory', 'chunk', 'audit'), fc.string(), (d, t, junk) => {
        expect(parseTopic(upTopic(d, t))).toEqual({ device: d, dir: 'up', type: t });
        expect(parseTopic(downTopic(d, 'pull'))).toEqual({ device: d, dir: 'down', type: 'pull' });
        const r = parseTopic(junk);
        if (r !== null)
          expect(upTopic(r.device, r.type as 'hello') === junk || downTopic(r.device, r.type as 'pull') === junk).toBe(
            true,
          );
      }),
      runs(300),
    );
  });
});
