/**
 * The unit suite under the arm64 Node (qemu-aarch64 user emulation), run by scripts/arm64/test.sh from a work
 * tree whose node_modules were installed for linux/arm64. What it leaves out, and why:
 */
import { defineConfig } from 'vitest/config';

/** Whole files. */
const EXCLUDED_FILES: readonly string[] = [
  // Dependency rules over the source tree: nothing in it depends on the CPU, and `npm test` runs it natively.
  'test/unit/architecture.test.ts',
];

/** Single tests, by name. */
const EXCLUDED_TESTS: readonly string[] = [
  // Loads onoff's real epoll addon inside a vitest worker thread: the whole process then segfaults when that
  // thread ends (every time here; the addon is not made to be unloaded with a worker). The daemon loads it on the
  // main thread, as the native-modules check in scripts/arm64/test.sh does.
  'onoff on this host (no usable addon or no sysfs GPIO)',
  // Asserts the x86 case, where npm leaves out the arm-only @iiot2k/gpiox; on arm64 it is installed and loads.
  'gpiox not installed (x64)',
  // Re-parses a real stream split at every byte offset: pure JavaScript, so the same on every CPU, but ~150 s
  // under emulation (seconds natively); the parser's other tests on the real stream still run.
  'gives the same result for a split at every byte offset',
  // Reads the browser player as `npm run build` bundles it into dist/, which the arm64 work tree leaves out (the
  // bundle is JavaScript for the browser, the same whatever CPU built it); `npm test` runs it natively.
  'serves the built player and its style sheet',
];

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: [...EXCLUDED_FILES, '**/node_modules/**'],
    testNamePattern: new RegExp(`^(?!.*(?:${EXCLUDED_TESTS.map(escapeRegExp).join('|')}))`),
    // Worker threads, not forked processes: a fork would exec the arm64 node binary, which the kernel cannot run
    // without a binfmt_misc registration (only qemu-aarch64-static itself knows how).
    pool: 'threads',
    maxWorkers: 2,
    // One worker per thread for the whole run, not a fresh one per file: under emulation each new worker costs ~2 s
    // of start-up (V8 and the module graph again), ~140 s over the suite. The unit tests leave no global state behind
    // (the one that changes PATH puts it back), and `npm test` runs them isolated natively.
    isolate: false,
    // Emulation runs ~5-10x slower than native.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
