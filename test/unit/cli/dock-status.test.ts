import { describe, expect, it } from 'vitest';
import { refusalLines } from '../../../src/cli/dock-station.ts';

const refusal = (i: number, reason: string) => ({ incident: `inc-${i}`, seq: 0, reason });

describe('refusals in the text status', () => {
  it('are nothing when there are none', () => {
    expect(refusalLines([])).toBe('');
  });

  it('are counted per code, the first ten listed and the rest counted', () => {
    const refusals = [
      ...Array.from({ length: 11 }, (_, i) => refusal(i, 'malformed-manifest: $.payload must be present')),
      refusal(11, 'over-quota: the camera would have 12.0 MiB here, over its 10 MiB quota'),
      refusal(12, 'odd'),
    ];
    const lines = refusalLines(refusals).split('\n');
    expect(lines[0]).toBe('  refused: 11 malformed-manifest, 1 over-quota, 1 other');
    expect(lines.slice(1, 11)).toHaveLength(10);
    expect(lines[1]).toBe('  refused inc-0#0: malformed-manifest: $.payload must be present');
    expect(lines[11]).toBe('  … 3 more (--json lists them all)');
    expect(lines[12]).toBe('');
  });
});
