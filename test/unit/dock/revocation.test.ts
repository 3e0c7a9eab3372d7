import { describe, expect, it } from 'vitest';
import {
  asn1Time,
  crlIndexText,
  parseWithdrawals,
  reasonProblem,
  serialHex,
  type Withdrawal,
} from '../../../src/dock/revocation.ts';
import { ErrorCode, isBodycamError } from '../../../src/lib/errors.ts';

const W: Withdrawal = {
  device: 'cam-7',
  serial: '4A01FF',
  notAfter: '2031-12-05T10:00:00.000Z',
  at: '2026-12-05T13:20:05.123Z',
  reason: 'reported stolen',
};

describe('the revocation list database', () => {
  it.each([
    ['before 2050: two-digit year (UTCTime)', '2031-12-05T10:00:00.000Z', '311205100000Z'],
    ['from 2050: four-digit year (GeneralizedTime)', '2050-01-01T00:00:00.000Z', '20500101000000Z'],
    ['milliseconds dropped', '2026-12-05T13:20:05.999Z', '261205132005Z'],
  ])('writes times as openssl does: %s', (_name, iso, asn1) => {
    expect(asn1Time(iso)).toBe(asn1);
  });

  it.each([
    ['upper case', '4a01ff', '4A01FF'],
    ['an odd number of digits padded', 'A01FF', '0A01FF'],
    ['colons dropped', '4A:01:FF', '4A01FF'],
  ])('writes serials as openssl does: %s', (_name, given, written) => {
    expect(serialHex(given)).toBe(written);
  });

  it('lists each withdrawn certificate once, revoked, with its subject', () => {
    expect(crlIndexText([W, { ...W, at: '2026-12-06T00:00:00.000Z', reason: 'again' }])).toBe(
      'R\t311205100000Z\t261205132005Z\t4A01FF\tunknown\t/CN=cam-7\n',
    );
    expect(crlIndexText([])).toBe('');
  });
});

describe('withdrawals.jsonl', () => {
  it('reads what was written, skipping empty lines', () => {
    expect(parseWithdrawals(`${JSON.stringify(W)}\n\n${JSON.stringify({ ...W, device: 'cam-8' })}\n`, 'f')).toEqual([
      W,
      { ...W, device: 'cam-8' },
    ]);
  });

  it.each([
    ['not JSON', '{', /f line 1: not JSON/],
    ['no device', JSON.stringify({ ...W, device: '../x' }), /line 1: no valid device id/],
    ['a lower-case serial', JSON.stringify({ ...W, serial: '4a01ff' }), /line 1: no serial number/],
    ['a bad date', JSON.stringify({ ...W, at: 'yesterday' }), /line 1: at is not a date/],
    ['no reason', JSON.stringify({ ...W, reason: 3 }), /line 1: no reason/],
    ['a bad second line', `${JSON.stringify(W)}\nnull`, /line 2: not an object/],
  ])('names the line that is not a withdrawal: %s', (_name, text, says) => {
    let error: unknown;
    try {
      parseWithdrawals(text, 'f');
    } catch (e) {
      error = e;
    }
    expect(isBodycamError(error, ErrorCode.CONFIG_INVALID)).toBe(true);
    expect((error as Error).message).toMatch(says);
  });
});

describe('the reason', () => {
  it.each([
    ['one line', 'reported stolen, PV 123/2026', undefined],
    ['empty', '  ', /give the reason/],
    ['two lines', 'a\nb', /one line/],
    ['a control character', 'a\u001bb', /one line/],
    ['too long', 'x'.repeat(1001), /longer than 1000/],
  ])('%s', (_name, reason, says) => {
    const problem = reasonProblem(reason);
    if (says === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(says);
  });
});
