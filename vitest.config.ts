import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The device lab boots VMs: `npm run test:lab` (vitest.lab.config.ts) runs it.
    exclude: [...configDefaults.exclude, 'test/lab/**'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests run ffmpeg and whole daemons; two cores are shared, so keep parallelism modest.
    maxWorkers: 2,
  },
});
