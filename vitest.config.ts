import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['controller/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts', 'test/global-build.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // sshd fleets and agent shells are real processes: keep parallelism modest on 2 cores.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/vitest-report.json' }]] : ['default'],
  },
});
