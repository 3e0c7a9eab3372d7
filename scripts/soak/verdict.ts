/**
 * The soak's judgement, as a pure function of its samples: does anything grow that the evidence does not explain?
 *
 * Samples are taken while the camera buffers (between activations), so every sample sees the same state. For each
 * measure we compare the first and the last quarter of the run (medians, after a warm-up sample) and fit a line
 * against media time; growth beyond the tolerance fails the soak. The index grows with every segment and event by
 * design, so it is judged per segment: the bytes each new segment costs in the second half against the first.
 */

export interface Sample {
  /** Wall seconds since the soak started. */
  wallS: number;
  /** Media seconds the capture has produced. */
  mediaS: number;
  /** Daemon resident set, bytes. */
  rss: number;
  /** Of it, file-backed pages (the Node binary's code and data, reclaimable), bytes; the rest is anonymous memory. */
  rssFile: number;
  /** The daemon's V8 heap in use and its external memory (Buffers), bytes: where RSS growth would come from. */
  heapUsed: number;
  external: number;
  /** ffmpeg's resident set, bytes (another process; reported, judged like the daemon's). */
  ffmpegRss: number;
  /** Open file descriptors of the daemon (/proc/PID/fd). */
  fds: number;
  /** index.sqlite + its WAL on disk, bytes. */
  indexFileBytes: number;
  /** Pages in use × page size (the index's logical size, WAL included). */
  indexBytes: number;
  segments: number;
  incidents: number;
  events: number;
  /** Evidence on disk (sum of segment bytes in the index). */
  evidenceBytes: number;
}

export interface Tolerances {
  /** RSS may grow by this fraction of the first quarter's median… */
  rssFraction: number;
  /** …or by this many bytes, whichever is larger. */
  rssBytes: number;
  /** Open descriptors may exceed the first quarter's maximum by this many. */
  fds: number;
  /** Index bytes per new segment in the second half may exceed the first half's by this fraction. */
  indexPerSegmentFraction: number;
  /** The WAL may hold at most this many bytes (SQLite checkpoints it at ~4 MB). */
  walBytes: number;
  /** Without activations the index may grow this much (start-up and clock entries). */
  idleIndexBytes: number;
}

export const DEFAULT_TOLERANCES: Tolerances = {
  rssFraction: 0.1,
  rssBytes: 6 * 1024 * 1024,
  fds: 2,
  indexPerSegmentFraction: 0.25,
  walBytes: 16 * 1024 * 1024,
  idleIndexBytes: 64 * 1024,
};

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Verdict {
  ok: boolean;
  checks: Check[];
  /** Slopes per media hour, for the report. */
  slopes: { rssPerHour: number; ffmpegRssPerHour: number; fdsPerHour: number };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return 0;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] ?? 0) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
}

/** Least-squares slope of y against x (0 with fewer than two distinct x). */
export function slope(xs: number[], ys: number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    num += dx * ((ys[i] ?? 0) - my);
    den += dx * dx;
  }
  return den === 0 ? 0 : num / den;
}

const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function quarters(samples: Sample[]): { first: Sample[]; last: Sample[] } {
  // The first sample is taken before the first activation ever ran: code paths load lazily, so skip it.
  const body = samples.length > 5 ? samples.slice(1) : samples;
  const q = Math.max(1, Math.floor(body.length / 4));
  return { first: body.slice(0, q), last: body.slice(-q) };
}

function growthCheck(name: string, first: number[], last: number[], tol: Tolerances): Check {
  const a = median(first);
  const b = median(last);
  const allowed = Math.max(a * tol.rssFraction, tol.rssBytes);
  return {
    name,
    ok: b - a <= allowed,
    detail: `first quarter ${MB(a)}, last quarter ${MB(b)}, growth ${MB(b - a)} (allowed ${MB(allowed)})`,
  };
}

/** Index bytes per segment over [from, to] of the samples. */
function perSegment(from: Sample, to: Sample): number | undefined {
  const segs = to.segments - from.segments;
  return segs > 0 ? (to.indexBytes - from.indexBytes) / segs : undefined;
}

export function judge(samples: Sample[], tol: Tolerances = DEFAULT_TOLERANCES): Verdict {
  const checks: Check[] = [];
  const hours = samples.map((s) => s.mediaS / 3600);
  const slopes = {
    rssPerHour: slope(
      hours,
      samples.map((s) => s.rss),
    ),
    ffmpegRssPerHour: slope(
      hours,
      samples.map((s) => s.ffmpegRss),
    ),
    fdsPerHour: slope(
      hours,
      samples.map((s) => s.fds),
    ),
  };
  if (samples.length < 8) {
    checks.push({ name: 'samples', ok: false, detail: `${samples.length} samples; at least 8 are needed to judge` });
    return { ok: false, checks, slopes };
  }
  const { first, last } = quarters(samples);
  const measures: Array<[string, (s: Sample) => number]> = [
    ['daemon RSS', (s) => s.rss],
    ['daemon anonymous memory (RSS less its file-backed pages)', (s) => s.rss - s.rssFile],
    ['daemon JS heap + external', (s) => s.heapUsed + s.external],
    ['ffmpeg RSS', (s) => s.ffmpegRss],
  ];
  for (const [name, of] of measures) checks.push(growthCheck(name, first.map(of), last.map(of), tol));

  const fdFirst = Math.max(...first.map((s) => s.fds));
  const fdLast = Math.max(...last.map((s) => s.fds));
  checks.push({
    name: 'open descriptors',
    ok: fdLast <= fdFirst + tol.fds,
    detail: `first quarter max ${fdFirst}, last quarter max ${fdLast} (allowed +${tol.fds})`,
  });

  const start = samples[1] ?? samples[0];
  const mid = samples[Math.floor(samples.length / 2)];
  const end = samples[samples.length - 1];
  if (start !== undefined && mid !== undefined && end !== undefined) {
    const a = perSegment(start, mid);
    const b = perSegment(mid, end);
    if (end.segments === start.segments) {
      // Buffering only (no activations): the index must not grow at all beyond a few pages.
      const growth = end.indexBytes - start.indexBytes;
      checks.push({
        name: 'index without segments',
        ok: growth <= tol.idleIndexBytes,
        detail: `no segments written; the index grew ${(growth / 1024).toFixed(1)} KiB (allowed ${(tol.idleIndexBytes / 1024).toFixed(0)})`,
      });
    } else if (a === undefined || b === undefined) {
      checks.push({ name: 'index per segment', ok: false, detail: 'no segments written in one half of the run' });
    } else {
      const allowed = a * (1 + tol.indexPerSegmentFraction) + 4096;
      checks.push({
        name: 'index per segment',
        ok: b <= allowed,
        detail: `first half ${(a / 1024).toFixed(1)} KiB/segment, second half ${(b / 1024).toFixed(1)} KiB/segment (allowed ${(allowed / 1024).toFixed(1)})`,
      });
    }
    const wal = Math.max(...samples.map((s) => s.indexFileBytes - s.indexBytes));
    checks.push({
      name: 'index WAL',
      ok: wal <= tol.walBytes,
      detail: `largest file size beyond the pages in use ${MB(Math.max(0, wal))} (allowed ${MB(tol.walBytes)})`,
    });
  }
  return { ok: checks.every((c) => c.ok), checks, slopes };
}
