import { describe, expect, it } from 'vitest';
import { judge, type Sample, slope } from '../../../scripts/soak/verdict.ts';

const MB = 1024 * 1024;

/** 20 samples, one per media quarter hour; `at(i)` overrides fields of sample i. */
function run(at: (i: number) => Partial<Sample> = () => ({})): Sample[] {
  return Array.from({ length: 20 }, (_, i) => ({
    wallS: i * 30,
    mediaS: i * 900,
    rss: 90 * MB,
    rssFile: 45 * MB,
    heapUsed: 20 * MB,
    external: 8 * MB,
    ffmpegRss: 60 * MB,
    fds: 31,
    indexFileBytes: 100_000 + i * 4096 + 1_000_000,
    indexBytes: 100_000 + i * 4096,
    segments: i * 2,
    incidents: i,
    events: i * 10,
    evidenceBytes: i * 5e6,
    ...at(i),
  }));
}

const failed = (samples: Sample[]) =>
  judge(samples)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);

describe('soak verdict', () => {
  it.each<[string, (i: number) => Partial<Sample>, string[]]>([
    ['flat run', () => ({}), []],
    ['noise within tolerance', (i) => ({ rss: (90 + (i % 3)) * MB, fds: 31 + (i % 2) }), []],
    ['a warm-up first sample is ignored', (i) => (i === 0 ? { rss: 40 * MB } : {}), []],
    [
      'daemon RSS creeping 1 MiB per sample',
      (i) => ({ rss: (90 + i) * MB }),
      ['daemon RSS', 'daemon anonymous memory (RSS less its file-backed pages)'],
    ],
    [
      'daemon RSS growing by file-backed pages only (code loaded)',
      (i) => ({ rss: (90 + i) * MB, rssFile: (45 + i) * MB }),
      ['daemon RSS'],
    ],
    ['ffmpeg RSS creeping', (i) => ({ ffmpegRss: (60 + i) * MB }), ['ffmpeg RSS']],
    [
      'Buffers kept',
      (i) => ({ external: (8 + i) * MB, rss: (90 + i) * MB }),
      ['daemon RSS', 'daemon anonymous memory (RSS less its file-backed pages)', 'daemon JS heap + external'],
    ],
    ['a descriptor leaked per activation', (i) => ({ fds: 31 + i }), ['open descriptors']],
    [
      'index growing faster per segment in the second half',
      (i) => ({ indexBytes: 100_000 + i * 4096 + (i > 10 ? (i - 10) * 40_000 : 0) }),
      ['index per segment'],
    ],
    ['a WAL that is never checkpointed', (i) => ({ indexFileBytes: 100_000 + i * 4096 + i * 2 * MB }), ['index WAL']],
  ])('%s', (_name, at, expected) => {
    expect(failed(run(at))).toEqual(expected);
  });

  it('needs enough samples and segments in both halves', () => {
    expect(failed(run().slice(0, 5))).toEqual(['samples']);
    expect(failed(run((i) => ({ segments: i > 10 ? i : 0 })))).toEqual(['index per segment']);
  });

  it('judges a buffering-only run by the index not growing', () => {
    expect(failed(run(() => ({ segments: 0, indexBytes: 100_000 })))).toEqual([]);
    expect(failed(run((i) => ({ segments: 0, indexBytes: 100_000 + i * 8192 })))).toEqual(['index without segments']);
  });

  it('fits slopes by least squares', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 12);
    expect(slope([1], [5])).toBe(0);
    expect(slope([2, 2], [1, 9])).toBe(0);
  });
});
