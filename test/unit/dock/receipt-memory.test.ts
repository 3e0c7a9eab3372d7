import { describe, expect, it } from 'vitest';
import { ReceiptMemory } from '../../../src/dock/sync/receipt-memory.ts';

describe('a stored segment offered again', () => {
  it('is receipted again at once when this session never receipted it (missed in an earlier docking)', () => {
    const m = new ReceiptMemory();
    expect(m.again('i#0', m.came())).toBe(true);
  });

  it('is not, for an inventory that came before our receipt went out', () => {
    const m = new ReceiptMemory();
    const came = m.came();
    m.sent('i#0');
    expect(m.again('i#0', came)).toBe(false);
  });

  it('is not for the first inventory after the receipt (they may have crossed), and is for the second', () => {
    const m = new ReceiptMemory();
    m.sent('i#0');
    expect(m.again('i#0', m.came())).toBe(false);
    expect(m.again('i#0', m.came())).toBe(true);
  });

  it('starts counting again from a receipt sent again, and keeps each segment apart', () => {
    const m = new ReceiptMemory();
    m.sent('i#0');
    m.sent('i#1');
    m.again('i#0', m.came());
    m.sent('i#0'); // sent again
    expect(m.again('i#0', m.came())).toBe(false);
    expect(m.again('i#1', m.came())).toBe(false);
    expect(m.again('i#1', m.came())).toBe(true);
  });
});
