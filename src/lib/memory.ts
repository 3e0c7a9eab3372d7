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
