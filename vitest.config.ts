import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The device lab and the system test boot VMs: `npm run test:lab` and `npm run test:system` run them.
    exclude: [...configDefaults.exclude, 'test/lab/**', 'test/system/**'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests run ffmpeg and whole daemons; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
  },
});
