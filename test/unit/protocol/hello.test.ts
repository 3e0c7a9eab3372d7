/** The hello's optional battery field: absent stays absent, a plausible one passes, anything else refuses the hello. */
import { describe, expect, it } from 'vitest';
import { checkHello } from '../../../src/protocol/checks.ts';
import { PROTOCOL } from '../../../src/protocol/messages.ts';

const hello = (extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      protocol: PROTOCOL,
      session: 's-1',
      device: 'cam-1',
      keyId: '0123456789abcdef0123456789abcdef',
      release: '0.1.0',
      sentMono: 12,
      ...extra,
    }),
  );

describe('checkHello: battery', () => {
  it('a hello without a battery has none', () => {
    const m = checkHello(hello());
    expect('ok' in m && m.ok.battery).toBe(undefined);
  });

  it('a plausible battery is kept', () => {
    const m = checkHello(hello({ battery: { percent: 14.5, volts: 3.61 } }));
    expect('ok' in m && m.ok.battery).toEqual({ percent: 14.5, volts: 3.61 });
  });

  it.each([
    { name: 'not an object', battery: 50, error: /battery must be an object/ },
    { name: 'over 100 %', battery: { percent: 101, volts: 3.7 }, error: /percent/ },
    { name: 'negative voltage', battery: { percent: 50, volts: -1 }, error: /volts/ },
    { name: 'text', battery: { percent: '50', volts: 3.7 }, error: /percent must be a number/ },
    { name: 'missing voltage', battery: { percent: 50 }, error: /volts must be a number/ },
  ])('$name → the hello is refused', ({ battery, error }) => {
    const m = checkHello(hello({ battery }));
    expect('error' in m && m.error).toMatch(error);
  });
});

describe('checkHello: fleet status facts', () => {
  it('keeps plausible storage, clock offset and faults', () => {
    const m = checkHello(hello({ storageMinutesLeft: 42, clockOffsetMs: -1500.5, faults: ['speaker: gone'] }));
    expect('ok' in m && m.ok).toMatchObject({
      storageMinutesLeft: 42,
      clockOffsetMs: -1500.5,
      faults: ['speaker: gone'],
    });
  });

  it.each([
    { name: 'negative storage', extra: { storageMinutesLeft: -1 }, error: /storageMinutesLeft/ },
    { name: 'fractional storage', extra: { storageMinutesLeft: 1.5 }, error: /storageMinutesLeft/ },
    { name: 'an offset of centuries', extra: { clockOffsetMs: 1e13 }, error: /clockOffsetMs must be within/ },
    { name: 'faults not a list', extra: { faults: 'speaker' }, error: /faults must be a list/ },
    { name: 'too many faults', extra: { faults: Array(21).fill('x') }, error: /at most 20/ },
    { name: 'an empty fault', extra: { faults: [''] }, error: /each fault must be a sentence/ },
    { name: 'a long fault', extra: { faults: ['x'.repeat(201)] }, error: /each fault must be a sentence/ },
    { name: 'a fault with a terminal escape', extra: { faults: ['speaker\u001b[2K'] }, error: /without control/ },
  ])('$name → the hello is refused', ({ extra, error }) => {
    const m = checkHello(hello(extra));
    expect('error' in m && m.error).toMatch(error);
  });
});
