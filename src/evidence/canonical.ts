/**
 * Canonical JSON: the one byte string that signatures and hashes of the evidence format are computed over, so a
 * manifest can be pretty-printed, re-indented or have its keys reordered on disk and still verify.
 *
 * The rules are those of RFC 8785 (JSON Canonicalization Scheme) for the values the format uses, so any JCS
 * library reproduces them: object keys sorted by UTF-16 code units, no whitespace, arrays in order, strings and
 * numbers written as ECMAScript `JSON.stringify` writes them (`1`, not `1.0`; `-0` as `0`; lone surrogates as
 * `\udXXX`). Only `null`, booleans, finite numbers, strings, arrays and plain objects are allowed.
 */
import { createHash } from 'node:crypto';
import { BodycamError, ErrorCode } from '../lib/errors.ts';

function refuse(path: string, what: string): BodycamError {
  return new BodycamError(
    ErrorCode.EVIDENCE_FORMAT,
    `${path} is ${what}, which canonical JSON cannot represent (allowed: null, booleans, finite numbers, strings, ` +
      'arrays and plain objects)',
    { path },
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function write(value: unknown, path: string, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw refuse(path, String(value));
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      if (seen.has(value)) throw refuse(path, 'a circular reference');
      seen.add(value);
      try {
        return Array.isArray(value) ? writeArray(value, path, seen) : writeObject(value, path, seen);
      } finally {
        seen.delete(value);
      }
    default:
      // undefined, function, bigint, symbol
      throw refuse(path, typeof value === 'bigint' ? 'a BigInt' : `${typeof value}`);
  }
}

function writeArray(value: unknown[], path: string, seen: Set<object>): string {
  const parts: string[] = [];
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) throw refuse(`${path}[${i}]`, 'a hole in a sparse array');
    parts.push(write(value[i], `${path}[${i}]`, seen));
  }
  return `[${parts.join(',')}]`;
}

function writeObject(value: object, path: string, seen: Set<object>): string {
  if (!isPlainObject(value)) throw refuse(path, `an instance of ${value.constructor?.name ?? 'a class'}`);
  const record = value as Record<string, unknown>;
  // Array.prototype.sort without a comparator orders strings by UTF-16 code units, as RFC 8785 asks.
  const keys = Object.keys(record).sort();
  const parts = keys.map((key) => `${JSON.stringify(key)}:${write(record[key], `${path}.${key}`, seen)}`);
  return `{${parts.join(',')}}`;
}

/**
 * The canonical JSON text of `value` (see the module comment). Throws EVIDENCE_FORMAT, naming the offending path
 * (`$.segment.bytes`), for a non-finite number, `undefined` (also as an object property), a function, a BigInt, a
 * symbol, a sparse array, a circular reference or an object that is not a plain object (Date, Buffer, Map, …).
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

/** Lower-case hex SHA-256 of `data`; a string is hashed as its UTF-8 bytes. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
