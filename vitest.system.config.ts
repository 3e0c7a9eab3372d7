import { defineConfig } from 'vitest/config';

/**
 * The system test (`npm run test:system`, with BODYCAM_SYSTEM=1; .ci/run sets it): builds the Debian packages, checks
 * them with lintian, installs the amd64 one with apt into a fresh Debian 12 root and boots it with systemd under qemu
 * (scripts/system). One VM at a time: emulation needs both cores.
 */
export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 1_800_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
