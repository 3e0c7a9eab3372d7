import { describe, expect, it } from 'vitest';
import { expireDecision } from '../../../src/vault/expire-decision.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1);
const dates = (minimumUntil: number, deleteDue: number) => ({
  'minimum-until': new Date(minimumUntil).toISOString(),
  'delete-due': new Date(deleteDue).toISOString(),
});

describe('expireDecision', () => {
  const rows: [string, Parameters<typeof expireDecision>[0], ReturnType<typeof expireDecision>][] = [
    [
      'due, past minimum, unlocked, not held',
      { metadata: dates(T0, T0 + DAY), retainUntilMs: T0, held: false, nowMs: T0 + 2 * DAY },
      { delete: true },
    ],
    [
      'due but held',
      { metadata: dates(T0, T0 + DAY), retainUntilMs: T0, held: true, nowMs: T0 + 2 * DAY },
      { delete: false, why: 'held' },
    ],
    [
      'past minimum, not due',
      { metadata: dates(T0, T0 + 3 * DAY), retainUntilMs: T0, held: false, nowMs: T0 + 2 * DAY },
      { delete: false, why: 'not-due' },
    ],
    [
      'before minimum (dates disagree: due before minimum)',
      { metadata: dates(T0 + 5 * DAY, T0), retainUntilMs: null, held: false, nowMs: T0 + DAY },
      { delete: false, why: 'before-minimum' },
    ],
    [
      'due by metadata but the lock runs longer',
      { metadata: dates(T0, T0 + DAY), retainUntilMs: T0 + 9 * DAY, held: false, nowMs: T0 + 2 * DAY },
      { delete: false, why: 'locked' },
    ],
    [
      'exactly at delete-due',
      { metadata: dates(T0, T0 + DAY), retainUntilMs: null, held: false, nowMs: T0 + DAY },
      { delete: true },
    ],
    ['no dates', { metadata: {}, retainUntilMs: null, held: false, nowMs: T0 }, { delete: false, why: 'no-dates' }],
    [
      'unreadable delete-due',
      {
        metadata: { 'minimum-until': new Date(T0).toISOString(), 'delete-due': 'soon' },
        retainUntilMs: null,
        held: false,
        nowMs: T0 + DAY,
      },
      { delete: false, why: 'no-dates' },
    ],
  ];
  it.each(rows)('%s', (_name, facts, want) => {
    expect(expireDecision(facts)).toEqual(want);
  });
});
