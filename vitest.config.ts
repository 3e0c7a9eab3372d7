import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests run ffmpeg and whole daemons; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
  },
});
