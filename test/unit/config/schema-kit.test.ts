import { describe, expect, it } from 'vitest';
import { s } from '../../../src/config/schema-kit.ts';

const schema = s.object({
  n: s.int(0, 10, 5, 'a number'),
  flag: s.boolean().default(false),
  name: s.string().regex(/^[a-z]+$/, 'lower-case letters only'),
  mode: s.enum(['a', 'b']).default('a'),
  opt: s.string().optional(),
  list: s.array(s.number().min(0)).min(1, 'need one').default([1]),
  map: s.record(/^[a-z]+$/, s.object({ pin: s.number().int() })).default({}),
  nested: s.object({ x: s.int(1, 3, 2, 'x') }).default({}),
  src: s.tagged('kind', {
    one: s.object({ kind: s.literal('one'), a: s.number().default(1) }),
    two: s.object({ kind: s.literal('two'), b: s.string() }),
  }),
});

describe('schema kit', () => {
  it('fills defaults, nested ones included, and leaves absent optionals out', () => {
    const r = schema.safeParse({ name: 'cam', src: { kind: 'one' } });
    expect(r).toEqual({
      ok: true,
      value: {
        n: 5,
        flag: false,
        name: 'cam',
        mode: 'a',
        list: [1],
        map: {},
        nested: { x: 2 },
        src: { kind: 'one', a: 1 },
      },
    });
  });

  it('does not share default objects between parses', () => {
    const a = schema.safeParse({ name: 'a', src: { kind: 'one' } });
    const b = schema.safeParse({ name: 'b', src: { kind: 'one' } });
    if (!a.ok || !b.ok) throw new Error('unexpected');
    a.value.list.push(7);
    expect(b.value.list).toEqual([1]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['missing required', { src: { kind: 'one' } }, 'name', 'required'],
    ['too big', { name: 'a', n: 11, src: { kind: 'one' } }, 'n', 'must be at most 10'],
    ['too small', { name: 'a', n: -1, src: { kind: 'one' } }, 'n', 'must be at least 0'],
    ['not whole', { name: 'a', n: 1.5, src: { kind: 'one' } }, 'n', 'whole number'],
    ['NaN is not a number', { name: 'a', n: Number.NaN, src: { kind: 'one' } }, 'n', 'expected number'],
    ['wrong type', { name: 'a', flag: 'yes', src: { kind: 'one' } }, 'flag', 'expected boolean'],
    ['regex', { name: 'A', src: { kind: 'one' } }, 'name', 'lower-case letters only'],
    ['enum', { name: 'a', mode: 'c', src: { kind: 'one' } }, 'mode', 'one of "a", "b"'],
    ['array item', { name: 'a', list: [1, -1], src: { kind: 'one' } }, 'list.1', 'at least 0'],
    ['array min', { name: 'a', list: [], src: { kind: 'one' } }, 'list', 'need one'],
    ['record key', { name: 'a', map: { Bad: { pin: 1 } }, src: { kind: 'one' } }, 'map.Bad', 'must match'],
    ['record value', { name: 'a', map: { ok: { pin: 'x' } }, src: { kind: 'one' } }, 'map.ok.pin', 'expected number'],
    ['unknown key', { name: 'a', extra: 1, src: { kind: 'one' } }, 'extra', 'unknown key'],
    ['unknown nested key', { name: 'a', nested: { y: 1 }, src: { kind: 'one' } }, 'nested.y', 'unknown key'],
    ['unknown tag', { name: 'a', src: { kind: 'three' } }, 'src.kind', 'one of "one", "two"'],
    ['tagged member field', { name: 'a', src: { kind: 'two' } }, 'src.b', 'required'],
    ['not an object', { name: 'a', nested: [], src: { kind: 'one' } }, 'nested', 'expected object, got array'],
  ])('%s', (_name, doc, key, message) => {
    const r = schema.safeParse(doc);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const issue = r.issues.find((i) => i.path.join('.') === key);
    expect(issue, JSON.stringify(r.issues)).toBeDefined();
    expect(issue?.message).toContain(message);
  });

  it('reports every problem at once', () => {
    const r = schema.safeParse({ n: 99, flag: 1, extra: true, src: { kind: 'two', b: 3 } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path.join('.')).sort()).toEqual(['extra', 'flag', 'n', 'name', 'src.b']);
  });
});
