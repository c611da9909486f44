import { defineConfig } from 'vitest/config';

// Tests run against real PostgreSQL, Kafka and browsers on a 2-core machine: keep file
// parallelism low and timeouts generous; tests poll for conditions rather than sleeping.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'e2e/**/*.test.ts'],
    globalSetup: ['packages/server/src/test-support/global-setup.ts'],
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
