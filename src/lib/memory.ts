/**
 * Node flags the daemon runs with (scripts/bodycam and the systemd unit pass them; the memory benchmark too):
 * a 1 MB young-generation semi-space (V8 otherwise grows it to 16 MB on a machine with this much RAM, although the
 * daemon's allocation rate is low) and one V8 worker thread instead of four. Together about 3 MB of RSS. And `gc()`
 * for `collectGarbage`, which the dock sync calls as it hands footage over and the camera after each recording.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--v8-pool-size=1', '--expose-gc'];

/**
 * Environment the daemon starts with (the launchers export it, each keeping a value already set; the soak, the memory
 * benchmark and the comparison pass it too; ffmpeg inherits it).
 * - Two glibc malloc arenas instead of up to eight per core: the daemon's few threads (main, two libuv, one V8 worker)
 *   share them, and the memory a recording frees goes back to fewer, fuller arenas. Over 4 media hours of the soak,
 *   RSS quarter medians 91.3 → 93.1 MB against 93.0 → 95.3 MB without it.
 * - A fixed mmap threshold of 260 KiB. glibc's own threshold is dynamic: once a large block that had its own mapping
 *   is freed, blocks up to that size come from the arenas instead, and a recording's large, short-lived blocks then
 *   leave holes there that are never given back. Fixed, every large block has its own mapping and goes back to the
 *   kernel when freed; the 64 KiB pipe reads and sealed chunks stay in the arenas. At 256 KiB, over 4 media hours of
 *   the soak, RSS quarter medians 84–85 MB against 91.6–92.0 MB without it (docs/benchmarks.md). It is the first page
 *   boundary above the sync's 256 KiB chunk with malloc's header (src/protocol/limits.ts CHUNK_BYTES; a test keeps it
 *   so): at exactly 256 KiB every chunk read for the dock had a mapping of its own, faulted in page by page and
 *   unmapped after, and the sync ran at 0.87–0.91× the broker's bare throughput, against 1.00–1.14× with the chunks
 *   in the arenas (`node scripts/bench/sync.ts`), for a few MB more kept after a sync. The narrowest change that does
 *   it: 320 KiB did as well for the sync, and the 12-media-hour soak could not tell the two apart.
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '266240' };

/**
 * Gives a Buffer's memory back to malloc now, not at some later garbage collection, for a caller that holds the only
 * reference to it. The next Buffer of that size then reuses the same warm pages: sealing a 30 s pre-roll of 1080p
 * (30 MB of ciphertext) into fresh memory costs ~7,000 page faults, 100-140 ms here, against ~20 ms reused
 * (docs/benchmarks.md). A Buffer that is not the whole of its ArrayBuffer (a slice of Node's pool or of an arena) is
 * left alone. Afterwards `buf` is empty.
 */
export function releaseNow(buf: Buffer): void {
  const memory = buf.buffer;
  if (memory instanceof ArrayBuffer && buf.byteOffset === 0 && buf.byteLength === memory.byteLength) memory.transfer(0);
}

/**
 * A full garbage collection now, where the process runs with `--expose-gc` (DAEMON_NODE_FLAGS); false, and nothing
 * done, elsewhere. For work that makes garbage outside V8's heap faster than V8 looks for it: sending footage over
 * TLS leaves copies of every byte in Buffers of Node's own (mqtt.js's stored copy, the TLS layer's), and V8 lets such
 * memory grow by some 64 MB before it collects, so a docked camera's RSS rose ~80 MB above its budget
 * (docs/benchmarks.md, `npm run bench:docked`; one collection per 8 MiB left the sync's throughput unchanged).
 */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}

/** The launchers' shell line for each DAEMON_ENV entry (a value set before wins). */
export function daemonEnvLines(): string[] {
  return Object.entries(DAEMON_ENV).map(([k, v]) => `export ${k}="\${${k}:-${v}}"`);
}

/**
 * Two libuv threads instead of four: the daemon's file work is one ordered chain, so more threads only cost their
 * stacks and malloc arenas (about 1 MB). Call before anything uses the thread pool; an explicit setting wins.
 */
export function limitThreadPool(size = 2): void {
  process.env['UV_THREADPOOL_SIZE'] ??= String(size);
}
