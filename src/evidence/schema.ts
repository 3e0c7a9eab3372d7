/**
 * A small shape checker for the evidence format. Every manifest and audit entry is checked field by field, before
 * signing (so the camera cannot write what a verifier would refuse) and after parsing (so a verifier never trusts a
 * shape it has not seen). Objects must have exactly the listed keys: a new field means a new format version.
 */
import { BodycamError, ErrorCode } from '../lib/errors.ts';
import { parseBoundedJson } from './json.ts';

/** Throws EVIDENCE_FORMAT naming the path (`$.segment.bytes`) unless the value fits. */
export type Check = (value: unknown, path: string) => void;

/** Throws EVIDENCE_FORMAT: "`path` must be `expected`". */
export function fail(path: string, expected: string): never {
  throw new BodycamError(ErrorCode.EVIDENCE_FORMAT, `${path} must be ${expected}`, { path });
}

/** Any string. */
export const string: Check = (v, path) => {
  if (typeof v !== 'string') fail(path, 'a string');
};

/** A string of at least one character. */
export const nonEmptyString: Check = (v, path) => {
  if (typeof v !== 'string' || v === '') fail(path, 'a non-empty string');
};

/** A finite number. */
export const number: Check = (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'a finite number');
};

/** A finite number ≥ 0. */
export const nonNegative: Check = (v, path) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(path, 'a finite number ≥ 0');
};

/** An integer ≥ 0 (and ≤ 2^53 − 1, so every JSON reader holds it exactly). */
export const count: Check = (v, path) => {
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(path, 'an integer ≥ 0');
};

/** Lower-case hex of exactly `length` characters. */
export function hex(length: number): Check {
  const re = new RegExp(`^[0-9a-f]{${length}}$`);
  return (v, path) => {
    if (typeof v !== 'string' || !re.test(v)) fail(path, `${length} lower-case hex characters`);
  };
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** A UTC ISO 8601 time as `Date.prototype.toISOString` writes it (`2025-01-31T08:00:00.000Z`). */
export const isoTime: Check = (v, path) => {
  if (typeof v !== 'string' || !ISO_UTC.test(v) || !Number.isFinite(Date.parse(v))) {
    fail(path, 'a UTC ISO 8601 time such as 2025-01-31T08:00:00.000Z');
  }
};

/** One path component usable as a file or directory name: no `/`, `\`, NUL, not `.` or `..`. */
export const fileName: Check = (v, path) => {
  if (typeof v !== 'string' || v === '' || v === '.' || v === '..' || /[/\\\0]/.test(v)) {
    fail(path, 'a plain file name (no "/", "\\", NUL, not "." or "..")');
  }
};

/** One of the given values. */
export function literal(...values: readonly (string | number | boolean)[]): Check {
  return (v, path) => {
    if (!values.includes(v as string)) fail(path, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
  };
}

/** null, or a value passing `check`. */
export function nullable(check: Check): Check {
  return (v, path) => {
    if (v !== null) check(v, path);
  };
}

/** An array whose every item passes `check`. */
export function arrayOf(check: Check): Check {
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, 'an array');
    v.forEach((item, i) => {
      check(item, `${path}[${i}]`);
    });
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Any JSON object (its values are checked by canonical JSON when signed or hashed). */
export const record: Check = (v, path) => {
  if (!isRecord(v)) fail(path, 'an object');
};

/** An object with exactly these keys, each checked. */
export function object(shape: Readonly<Record<string, Check>>): Check {
  const keys = Object.keys(shape);
  return (v, path) => {
    if (!isRecord(v)) fail(path, 'an object');
    for (const key of keys) {
      if (!Object.hasOwn(v, key)) fail(`${path}.${key}`, 'present');
      shape[key]?.(v[key], `${path}.${key}`);
    }
    const extra = Object.keys(v).find((key) => !Object.hasOwn(shape, key));
    if (extra !== undefined) fail(`${path}.${extra}`, 'absent (not a field of this format version)');
  };
}

/** A signed envelope `{ payload, keyId, signature }` whose payload passes `payload`. */
export function envelopeOf(payload: Check): Check {
  return object({
    payload,
    keyId: hex(32),
    signature: (v, path) => {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(v)) fail(path, 'a base64 Ed25519 signature');
    },
  });
}

/** Manifests, receipts and docking records are a few kilobytes; far larger text is not one of them. */
export const MAX_RECORD_CHARS = 1 << 20;

/** `JSON.parse` of one record's text, bounded (size and depth, see json.ts); a failure is EVIDENCE_FORMAT. */
export function parseJson(text: string, what: string): unknown {
  return parseBoundedJson(text, what, MAX_RECORD_CHARS);
}
