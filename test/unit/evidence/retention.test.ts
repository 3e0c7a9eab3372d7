import { describe, expect, it } from 'vitest';
import {
  ARRIVAL_HOLD_MS,
  addMonthsUtc,
  DEFAULT_RETENTION,
  retentionDates,
  retentionMetadata,
} from '../../../src/evidence/retention.ts';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const ARRIVED = '2026-06-10T12:00:00.000Z';

describe('addMonthsUtc', () => {
  it.each([
    ['2026-01-15T10:00:00.000Z', 12, '2027-01-15T10:00:00.000Z'],
    ['2026-01-31T10:00:00.000Z', 1, '2026-02-28T10:00:00.000Z'],
    ['2028-01-31T00:00:00.000Z', 1, '2028-02-29T00:00:00.000Z'],
    ['2026-03-31T23:59:59.999Z', 1, '2026-04-30T23:59:59.999Z'],
    ['2026-12-31T00:00:00.000Z', 2, '2027-02-28T00:00:00.000Z'],
    ['2026-05-10T00:00:00.000Z', 0, '2026-05-10T00:00:00.000Z'],
  ])('%s + %i months = %s', (from, months, expected) => {
    expect(iso(addMonthsUtc(t(from), months))).toBe(expected);
  });
});

describe('retentionDates', () => {
  it.each([
    {
      why: 'a recording docked an hour later: 30 days and 12 months from the recording',
      claimed: '2026-06-10T11:00:00.000Z',
      clockSet: true,
      policy: DEFAULT_RETENTION,
      recorded: '2026-06-10T11:00:00.000Z',
      by: 'device',
      minimum: '2026-07-10T11:00:00.000Z',
      due: '2027-06-10T11:00:00.000Z',
    },
    {
      why: "the organisation's longer minimum and shorter keeping",
      claimed: '2026-06-01T00:00:00.000Z',
      clockSet: true,
      policy: { minimumDays: 90, deleteAfterMonths: 6 },
      recorded: '2026-06-01T00:00:00.000Z',
      by: 'device',
      minimum: '2026-08-30T00:00:00.000Z',
      due: '2026-12-01T00:00:00.000Z',
    },
    {
      why: 'a minimum beyond the deletion date: deletion waits for the minimum',
      claimed: '2026-06-01T00:00:00.000Z',
      clockSet: true,
      policy: { minimumDays: 60, deleteAfterMonths: 1 },
      recorded: '2026-06-01T00:00:00.000Z',
      by: 'device',
      minimum: '2026-07-31T00:00:00.000Z',
      due: '2026-07-31T00:00:00.000Z',
    },
    {
      why: 'docked 40 days after the recording: still locked a day after arrival',
      claimed: '2026-05-01T12:00:00.000Z',
      clockSet: true,
      policy: DEFAULT_RETENTION,
      recorded: '2026-05-01T12:00:00.000Z',
      by: 'device',
      minimum: '2026-06-11T12:00:00.000Z',
      due: '2027-05-01T12:00:00.000Z',
    },
    {
      why: 'a clock that was not set: the arrival stands in',
      claimed: '2026-06-10T11:00:00.000Z',
      clockSet: false,
      policy: DEFAULT_RETENTION,
      recorded: ARRIVED,
      by: 'arrival',
      minimum: '2026-07-10T12:00:00.000Z',
      due: '2027-06-10T12:00:00.000Z',
    },
    {
      why: 'a reset clock (1970) claiming to be set: the arrival stands in',
      claimed: '1970-01-01T00:10:00.000Z',
      clockSet: true,
      policy: DEFAULT_RETENTION,
      recorded: ARRIVED,
      by: 'arrival',
      minimum: '2026-07-10T12:00:00.000Z',
      due: '2027-06-10T12:00:00.000Z',
    },
    {
      why: 'a claim in the future (a wrong clock or a lying camera): the arrival stands in',
      claimed: '2099-01-01T00:00:00.000Z',
      clockSet: true,
      policy: DEFAULT_RETENTION,
      recorded: ARRIVED,
      by: 'arrival',
      minimum: '2026-07-10T12:00:00.000Z',
      due: '2027-06-10T12:00:00.000Z',
    },
    {
      why: 'two minutes ahead of the dock: clock skew, clamped to the arrival',
      claimed: '2026-06-10T12:02:00.000Z',
      clockSet: true,
      policy: DEFAULT_RETENTION,
      recorded: ARRIVED,
      by: 'device',
      minimum: '2026-07-10T12:00:00.000Z',
      due: '2027-06-10T12:00:00.000Z',
    },
    {
      why: 'no claim at all (a device key)',
      claimed: null,
      clockSet: false,
      policy: DEFAULT_RETENTION,
      recorded: ARRIVED,
      by: 'arrival',
      minimum: '2026-07-10T12:00:00.000Z',
      due: '2027-06-10T12:00:00.000Z',
    },
    {
      why: 'an unparsable claim (NaN)',
      claimed: 'not a date',
      clockSet: true,
      policy: DEFAULT_RETENTION,
      recorded: ARRIVED,
      by: 'arrival',
      minimum: '2026-07-10T12:00:00.000Z',
      due: '2027-06-10T12:00:00.000Z',
    },
  ])('$why', (c) => {
    const d = retentionDates(
      { claimedMs: c.claimed === null ? null : Date.parse(c.claimed), clockSet: c.clockSet, arrivedMs: t(ARRIVED) },
      c.policy,
    );
    expect({
      recorded: iso(d.recordedMs),
      by: d.recordedBy,
      minimum: iso(d.minimumUntilMs),
      due: iso(d.deleteDueMs),
    }).toEqual({
      recorded: c.recorded,
      by: c.by,
      minimum: c.minimum,
      due: c.due,
    });
  });

  it('never lets an object go unlocked sooner than a day after it arrives, nor delete before the minimum', () => {
    for (let days = -400; days <= 1; days += 7) {
      const arrived = t(ARRIVED);
      const d = retentionDates(
        { claimedMs: arrived + days * 86_400_000, clockSet: true, arrivedMs: arrived },
        DEFAULT_RETENTION,
      );
      expect(d.minimumUntilMs).toBeGreaterThanOrEqual(arrived + ARRIVAL_HOLD_MS);
      expect(d.deleteDueMs).toBeGreaterThanOrEqual(d.minimumUntilMs);
      expect(d.recordedMs).toBeLessThanOrEqual(arrived);
    }
  });

  it('writes the dates as metadata', () => {
    const d = retentionDates(
      { claimedMs: t('2026-06-10T11:00:00.000Z'), clockSet: true, arrivedMs: t(ARRIVED) },
      DEFAULT_RETENTION,
    );
    expect(retentionMetadata(d)).toEqual({
      recorded: '2026-06-10T11:00:00.000Z',
      'recorded-by': 'device',
      'minimum-until': '2026-07-10T11:00:00.000Z',
      'delete-due': '2027-06-10T11:00:00.000Z',
    });
  });
});
