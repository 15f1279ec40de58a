import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    hookTimeout: 30_000,
    // Integration tests spawn the built CLI; build once before the suite.
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
