import { describe, expect, it } from 'vitest';
import { RESEND_AFTER_MS, ReceiptMemory } from '../../../src/dock/sync/receipt-memory.ts';

function memory() {
  const clock = { now: 0 };
  return { m: new ReceiptMemory(() => clock.now), clock };
}

describe('a stored segment offered again', () => {
  it('is receipted again at once when this session never receipted it (missed in an earlier docking)', () => {
    const { m } = memory();
    expect(m.again('i#0', m.came())).toBe(true);
  });

  it('is not, for an inventory that came before our receipt went out, however late it is taken up', () => {
    const { m, clock } = memory();
    const came = m.came();
    m.sent('i#0');
    clock.now += 10 * RESEND_AFTER_MS;
    expect(m.again('i#0', came)).toBe(false);
  });

  it('is not for inventories after the receipt while the camera may still be storing it, however many', () => {
    const { m, clock } = memory();
    m.sent('i#0');
    for (let i = 0; i < 10; i++) {
      clock.now += 1000;
      expect(m.again('i#0', m.came())).toBe(false);
    }
  });

  it('is, for the first inventory after the receipt once RESEND_AFTER_MS passed: the receipt was lost', () => {
    const { m, clock } = memory();
    m.sent('i#0');
    clock.now += RESEND_AFTER_MS - 1;
    expect(m.again('i#0', m.came())).toBe(false);
    clock.now += 1;
    expect(m.again('i#0', m.came())).toBe(true);
  });

  it('starts again from a receipt sent again, and keeps each segment apart', () => {
    const { m, clock } = memory();
    m.sent('i#0');
    clock.now += 5000;
    m.sent('i#1');
    clock.now += RESEND_AFTER_MS - 5000;
    expect(m.again('i#0', m.came())).toBe(true);
    m.sent('i#0'); // sent again
    expect(m.again('i#1', m.came())).toBe(false);
    clock.now += 5000;
    expect(m.again('i#0', m.came())).toBe(false);
    expect(m.again('i#1', m.came())).toBe(true);
  });
});
