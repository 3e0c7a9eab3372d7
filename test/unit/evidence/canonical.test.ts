import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../../src/evidence/canonical.ts';
import { isBodycamError } from '../../../src/lib/errors.ts';

/** `[1, <hole>, 3]`, built without a literal hole. */
function sparse(): unknown[] {
  const array: unknown[] = new Array(3);
  array[0] = 1;
  array[2] = 3;
  return array;
}

function refusal(value: unknown): Error {
  try {
    canonicalJson(value);
  } catch (e) {
    expect(isBodycamError(e, 'EVIDENCE_FORMAT')).toBe(true);
    return e as Error;
  }
  throw new Error('accepted');
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order and writes no whitespace', () => {
    const value = { b: [3, { z: 1, a: null }, 'x'], a: { d: true, c: false }, 'a b': 0 };
    expect(canonicalJson(value)).toBe('{"a":{"c":false,"d":true},"a b":0,"b":[3,{"a":null,"z":1},"x"]}');
  });

  it('orders keys by UTF-16 code units, not by code points (RFC 8785)', () => {
    // U+10000 is the surrogate pair D800 DC00, which sorts before U+FFFF by code unit (after it by code point).
    const value = { '\uffff': 1, '\u{10000}': 2, é: 3, z: 4, Z: 5 };
    expect(canonicalJson(value)).toBe('{"Z":5,"z":4,"é":3,"\u{10000}":2,"\uffff":1}');
  });

  it('writes numbers and strings as ECMAScript JSON does (the RFC 8785 rules)', () => {
    expect(canonicalJson([1.0, -0, 1e21, 1e-7, 0.1, 333333333.3333333])).toBe('[1,0,1e+21,1e-7,0.1,333333333.3333333]');
    expect(canonicalJson('tab\t"q"\u0001\ud800')).toBe('"tab\\t\\"q\\"\\u0001\\ud800"');
  });

  it('gives the same text whatever the key order of the input', () => {
    expect(canonicalJson({ x: 1, y: { p: 1, q: 2 } })).toBe(canonicalJson({ y: { q: 2, p: 1 }, x: 1 }));
  });

  it.each([
    ['NaN', { a: Number.NaN }, /\$\.a is NaN/],
    ['Infinity', [1, Number.POSITIVE_INFINITY], /\$\[1\] is Infinity/],
    ['undefined as a property', { a: 1, b: undefined }, /\$\.b is undefined/],
    ['undefined at the top', undefined, /\$ is undefined/],
    ['a function', { f: () => 1 }, /\$\.f is function/],
    ['a BigInt', { n: 10n }, /\$\.n is a BigInt/],
    ['a symbol', [Symbol('s')], /\$\[0\] is symbol/],
    ['a Date', { at: new Date(0) }, /\$\.at is an instance of Date/],
    ['a Buffer', { b: Buffer.from('x') }, /\$\.b is an instance of Buffer/],
    ['a sparse array', sparse(), /\$\[1\] is a hole/],
  ])('refuses %s', (_name, value, message) => {
    expect(refusal(value).message).toMatch(message);
  });

  it('refuses a circular reference but accepts a shared one', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    expect(refusal(loop).message).toMatch(/circular/);
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['b'] = 2;
    bare['a'] = 1;
    expect(canonicalJson(bare)).toBe('{"a":1,"b":2}');
  });
});

describe('sha256Hex', () => {
  it('hashes strings as UTF-8 and buffers as bytes', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
    expect(sha256Hex('é')).toBe(sha256Hex(Buffer.from([0xc3, 0xa9])));
  });
});
