import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Keeps the daemon's memory near its working set. The ring holds ~30 s of fragments as Buffers, and capture
 * churns through pipe chunks; V8 sees those only as "external" memory and, by default, lets up to ~64 MB of dead
 * ones pile up before a full collection. On a camera with 512 MB–1 GB that slack is not free, so a full GC runs
 * on a fixed cadence instead (a few ms for our ~20 MB heap).
 */
export function startPeriodicGc(intervalMs: number): () => void {
  const gc = exposeGc();
  const timer = setInterval(gc, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  // Same effect as `node --expose-gc`, without depending on how the process was launched.
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * Node flags the daemon runs with (scripts/bodycam and the systemd unit pass them; the memory benchmark too):
 * a 1 MB young-generation semi-space (V8 otherwise grows it to 16 MB on a machine with this much RAM, although the
 * daemon's allocation rate is low) and one V8 worker thread instead of four. Together about 3 MB of RSS.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--v8-pool-size=1'];

/**
 * Two libuv threads instead of four: the daemon's file work is one ordered chain, so more threads only cost their
 * stacks and malloc arenas (about 1 MB). Call before anything uses the thread pool; an explicit setting wins.
 */
export function limitThreadPool(size = 2): void {
  process.env['UV_THREADPOOL_SIZE'] ??= String(size);
}
