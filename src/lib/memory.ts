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
