/**
 * The accelerated soak, short: one media hour through the real daemon at 32× (under two minutes of wall time here),
 * an activation every 4 media minutes recording 40 s, sampled every 5 media minutes. RSS, ffmpeg's RSS, open
 * descriptors and the index per segment must stay flat (scripts/soak/verdict.ts), and the camera must report no
 * gap, write failure or listener error. The full soak is `npm run soak` (8 media hours by default).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../scripts/soak/soak.ts';
import { judge } from '../../scripts/soak/verdict.ts';

const LONG = process.env['BODYCAM_LONG'] === '1';

describe.skipIf(!LONG)('accelerated soak (runs with BODYCAM_LONG=1)', () => {
  it('one media hour at 32x with an activation every 4 minutes stays flat', async () => {
    const lines: string[] = [];
    const run = await runSoak({
      hours: 1,
      speed: 32,
      everyMin: 4,
      recordS: 40,
      sampleMin: 5,
      log: (line) => lines.push(line),
    });
    const verdict = judge(run.samples);
    const report = [...lines, ...verdict.checks.map((c) => `${c.ok ? 'ok' : 'FAIL'} ${c.name}: ${c.detail}`)];
    console.log(report.join('\n'));
    expect(run.faults).toEqual([]);
    expect(run.activations).toBeGreaterThanOrEqual(12);
    expect(run.samples.at(-1)?.segments).toBeGreaterThanOrEqual(run.activations);
    expect(verdict.checks.filter((c) => !c.ok)).toEqual([]);
    // The sim camera's temp directory (about 70 MB of footage).
    rmSync(path.dirname(path.dirname(run.configFile)), { recursive: true, force: true });
  }, 300_000);
});
