import os from 'node:os';
import { defineConfig } from 'vitest/config';

/** Test files that replace modules with `vi.mock`: they get a fresh module graph of their own. */
const MOCKING = ['test/reliability/disk-faults.test.ts'];

export default defineConfig({
  test: {
    // Failure detectors, not waits: a test that hangs fails after this long.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // The subprocess tests run the built CLI; dist/ is built first when a source is newer.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Vitest's default is one worker per core but one, which on a 2-core CI machine is a single worker:
    // most tests wait on files, sockets and child processes, so two keep both cores busy.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: 'shared',
          include: ['test/**/*.test.ts'],
          exclude: MOCKING,
          // The files of a worker share one module graph: src/ is loaded (and its tokenizer tables built)
          // once per worker instead of once per file. No test keeps module state across files: hooks they
          // set (setDurableWrites, setJournalStepHook, fake timers, stubbed env) are undone in their own
          // afterEach/afterAll.
          isolate: false,
        },
      },
      { extends: true, test: { name: 'isolated', include: MOCKING } },
    ],
  },
});
