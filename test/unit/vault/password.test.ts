import { describe, expect, it } from 'vitest';
import { DUMMY_HASH } from '../../../src/vault/accounts/accounts.ts';
import {
  DEFAULT_COST,
  hashPassword,
  parseHash,
  passwordProblem,
  verifyPassword,
} from '../../../src/vault/accounts/password.ts';

const LOW = { logN: 14, r: 8, p: 1 };

describe('account passwords', () => {
  it('hash with scrypt at the default cost, salted: the same password twice gives two hashes, both verify', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(parseHash(a)?.cost).toEqual(DEFAULT_COST);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse battery', b)).toBe(true);
    expect(await verifyPassword('correct horse batterz', a)).toBe(false);
  });

  it('take the same text in any Unicode normal form (NFC and NFD of "é" are one password)', async () => {
    const h = await hashPassword('caf\u00e9 au lait 2026', LOW);
    expect(await verifyPassword('cafe\u0301 au lait 2026', h)).toBe(true);
  });

  it.each([
    ['short', 'a'.repeat(11), /at least 12/],
    ['huge', 'a'.repeat(1025), /at most 1024/],
    ['padded', ' correct horse battery', /white space/],
  ])('refuse a %s password, naming why', async (_name, pw, why) => {
    expect(passwordProblem(pw)).toMatch(why);
    await expect(hashPassword(pw, LOW)).rejects.toMatchObject({ code: 'ACCOUNT_INVALID' });
  });

  it.each([
    ['not a hash', 'plaintext password'],
    ['another scheme', '$2b$12$abcdefghijklmnopqrstuuqwertyuiopasdfghjklzxcvbnmasdfgh'],
    [
      'a cost that would take gigabytes',
      'scrypt$24$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    ],
    ['a cost below the floor', 'scrypt$10$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['a truncated key', 'scrypt$15$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA'],
  ])('never match a stored value that is %s', async (_name, stored) => {
    expect(parseHash(stored)).toBeNull();
    expect(await verifyPassword('anything at all 123', stored)).toBe(false);
  });

  it('the dummy that unknown names are checked against is a real hash to compute (same cost), which nothing matches', async () => {
    expect(parseHash(DUMMY_HASH)?.cost).toEqual(DEFAULT_COST);
    expect(await verifyPassword('anything at all 123', DUMMY_HASH)).toBe(false);
  });
});
