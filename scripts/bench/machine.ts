/**
 * What machine a bench ran on, printed beside its figures: cores, CPU model, and how fast memory is the first time
 * it is touched against the second. On a VM whose host backs guest memory only when the guest first touches it (the
 * machines this project is benchmarked on), a first touch costs ~3 ms per MB against ~0.05 ms after (measured
 * 270–360 MB/s against ~19 GB/s); work that turns over fresh memory (TLS records, message copies, new Buffers) runs
 * at the host's pace there, and a ratio between two such workloads moves from one VM to the next.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';

const PROBE_BYTES = 64 * 1024 * 1024;

/** MB/s of filling PROBE_BYTES of memory never touched before, and of filling it again. */
export function memoryTouchRates(): { fresh: number; again: number } {
  const buf = Buffer.allocUnsafeSlow(PROBE_BYTES);
  const rate = (fill: number) => {
    const t0 = performance.now();
    buf.fill(fill);
    return PROBE_BYTES / 1e6 / ((performance.now() - t0) / 1000);
  };
  const fresh = rate(1);
  return { fresh, again: rate(2) };
}

/** One line naming the machine and its memory's first-touch rate. */
export function machineLine(bench: string): string {
  const cpus = os.cpus();
  const { fresh, again } = memoryTouchRates();
  return (
    `${bench}: machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}; memory filled at ${fresh.toFixed(0)} MB/s ` +
    `on first touch, ${again.toFixed(0)} MB/s after (first touch slow: a VM whose host backs memory as it is used)\n`
  );
}
