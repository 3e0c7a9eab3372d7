/**
 * Passwords of the vault's accounts, hashed with scrypt (memory-hard: each guess costs 32 MiB and ~0.1 s here, so a
 * stolen account table is slow to attack on GPUs). Stored as `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`, so the
 * cost can be raised later and old hashes still verify; verifying refuses parameters outside the bounds below, so a
 * forged row cannot make one login cost gigabytes. Compared in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';

export interface ScryptCost {
  /** log2 of N, the CPU and memory cost. */
  logN: number;
  r: number;
  p: number;
}

/** 2^15 × 8 × 128 bytes = 32 MiB per hash (OWASP's scrypt minimum is N = 2^17 with r = 8, p = 1 at 128 MiB; we
 * keep 32 MiB so a small central machine serves several logins at once, and raise it with `cost`). */
export const DEFAULT_COST: ScryptCost = { logN: 15, r: 8, p: 1 };
const BOUNDS = { logN: [14, 20], r: [8, 16], p: [1, 4] } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
export const MIN_PASSWORD_CHARS = 12;
const MAX_PASSWORD_CHARS = 1024;

function derive(password: string, salt: Buffer, c: ScryptCost): Promise<Buffer> {
  const N = 2 ** c.logN;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r: c.r, p: c.p, maxmem: 256 * N * c.r }, (e, key) =>
      e === null ? resolve(key) : reject(e),
    ),
  );
}

/** Why `password` cannot be an account's password, or undefined. */
export function passwordProblem(password: string): string | undefined {
  const chars = [...password.normalize('NFC')].length;
  if (chars < MIN_PASSWORD_CHARS) return `a password has at least ${MIN_PASSWORD_CHARS} characters (this one ${chars})`;
  if (chars > MAX_PASSWORD_CHARS) return `a password has at most ${MAX_PASSWORD_CHARS} characters`;
  if (password.trim() !== password) return 'a password does not begin or end with white space (a copy mistake?)';
  return undefined;
}

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new BodycamError(ErrorCode.ACCOUNT_INVALID, problem);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost);
  return ['scrypt', cost.logN, cost.r, cost.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** The cost and parts of a stored hash, or null when it is not one this code would have written. */
export function parseHash(stored: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | null {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d)\$([A-Za-z0-9+/]{22}==)\$([A-Za-z0-9+/]{43}=)$/.exec(stored);
  if (m === null) return null;
  const cost = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const k of ['logN', 'r', 'p'] as const) {
    const [lo, hi] = BOUNDS[k];
    if (cost[k] < lo || cost[k] > hi) return null;
  }
  return { cost, salt: Buffer.from(m[4] ?? '', 'base64'), key: Buffer.from(m[5] ?? '', 'base64') };
}

/** Does `password` match `stored`? A stored value that is not a hash this code writes never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === null || [...password].length > MAX_PASSWORD_CHARS) return false;
  const key = await derive(password, parsed.salt, parsed.cost);
  return timingSafeEqual(key, parsed.key);
}
