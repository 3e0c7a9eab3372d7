import { describe, expect, it } from 'vitest';
import { LoginLimits } from '../../../src/vault/serve/login-limit.ts';

const rule = { free: 2, firstWaitMs: 1000, maxWaitMs: 5000, forgetAfterMs: 60_000 };

describe('login limits', () => {
  it.each([
    // failures of one name from one address → the wait after the last one
    [1, 0],
    [2, 1000],
    [3, 2000],
    [4, 4000],
    [5, 5000],
    [9, 5000],
  ])('after %i failure(s) the name waits %i ms', (failures, wait) => {
    const l = new LoginLimits(rule, { ...rule, free: 100 });
    for (let i = 0; i < failures; i++) l.failed('a', '10.0.0.1', 0);
    expect(l.waitMs('a', '10.0.0.1', 0)).toBe(wait);
    expect(l.waitMs('a', '10.0.0.2', 0)).toBe(wait); // the name, from anywhere
    expect(l.waitMs('b', '10.0.0.1', 0)).toBe(0); // another name from that address: its own count
  });

  it('counts an address over all the names it tries, and a success clears the name but not the address', () => {
    const l = new LoginLimits({ ...rule, free: 100 }, rule);
    l.failed('a', '10.0.0.9', 0);
    l.failed('b', '10.0.0.9', 0);
    expect(l.waitMs('c', '10.0.0.9', 0)).toBe(1000);
    l.succeeded('c');
    expect(l.waitMs('c', '10.0.0.9', 0)).toBe(1000);
    expect(l.waitMs('c', '10.0.0.8', 0)).toBe(0);
  });

  it('counts down, and forgets a count left alone long enough', () => {
    const l = new LoginLimits(rule, rule);
    l.failed('a', 'x', 0);
    l.failed('a', 'x', 0);
    expect(l.waitMs('a', 'x', 400)).toBe(600);
    expect(l.waitMs('a', 'x', 1000)).toBe(0);
    l.failed('a', 'x', 1000);
    expect(l.waitMs('a', 'x', 1000)).toBe(2000); // the third failure: doubled
    expect(l.waitMs('a', 'x', 1000 + 60_001)).toBe(0);
    l.failed('a', 'x', 1000 + 60_001);
    expect(l.waitMs('a', 'x', 1000 + 60_001)).toBe(0); // forgotten: this is the first again
  });
});
