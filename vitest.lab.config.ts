import { defineConfig } from 'vitest/config';

/**
 * The device lab (`npm run test:lab`): each test boots a VM with real V4L2 and ALSA drivers (scripts/lab) and runs
 * the daemon inside it. One VM at a time: emulation needs both cores, and the capture runs in real time.
 */
export default defineConfig({
  test: {
    include: ['test/lab/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
