import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRunner, type Phase, type RunOutcome, type Runner } from '../../src/watch/runner.js';

/**
 * The daemon's scheduling machine, driven with fake timers through random interleavings of watcher
 * events (saves, `f`, hand edits), key presses (Ctrl+C, exclusive tasks), run ends, errors and slow
 * cancellations. A small model records what each job saw; the properties are issue 19's promises.
 */

const DEBOUNCE = 100;

interface Request {
  force?: true;
}

type Action =
  | { kind: 'save' }
  | { kind: 'force' }
  | { kind: 'touch' }
  | { kind: 'cancel' }
  | { kind: 'task' }
  | { kind: 'tick'; ms: number }
  | { kind: 'finish'; how: 'ok' | 'error' | 'again' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'save' } as const), weight: 6 },
  { arbitrary: fc.constant({ kind: 'force' } as const), weight: 1 },
  { arbitrary: fc.constant({ kind: 'touch' } as const), weight: 2 },
  { arbitrary: fc.constant({ kind: 'cancel' } as const), weight: 1 },
  { arbitrary: fc.constant({ kind: 'task' } as const), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 250 }).map((ms) => ({ kind: 'tick', ms }) as const), weight: 6 },
  { arbitrary: fc.constantFrom('ok', 'error', 'again').map((how) => ({ kind: 'finish', how }) as const), weight: 5 },
);

interface JobRecord {
  kind: 'run' | 'refresh' | 'task';
  step: number;
  /** The spec version a run read when it started. */
  version: number;
  force: boolean;
  abortedAt?: number;
  outcome?: 'ok' | 'error' | 'again' | 'rejected';
  settle: (how: 'ok' | 'error' | 'again') => void;
}

/** The machine under test with a model of the world around it. */
function harness() {
  const jobs: JobRecord[] = [];
  const phases: Phase[] = [];
  let version = 0;
  let step = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const track = <T>(
    record: Omit<JobRecord, 'settle'>,
    signal: AbortSignal | undefined,
    value: (how: 'ok' | 'again') => T,
  ): Promise<T> => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    return new Promise<T>((resolve, reject) => {
      const full = record as JobRecord;
      full.settle = (how) => {
        if (full.outcome !== undefined) return;
        inFlight -= 1;
        full.outcome = how;
        if (how === 'error') reject(new Error('the run failed'));
        else resolve(value(how));
      };
      signal?.addEventListener('abort', () => (full.abortedAt = step));
      jobs.push(full);
    });
  };
  const runner: Runner<Request> = createRunner<Request>({
    debounceMs: DEBOUNCE,
    merge: (previous, next) => ({ ...previous, ...next }),
    plain: {},
    run: (request, signal) =>
      track<RunOutcome>({ kind: 'run', step, version, force: request.force === true }, signal, (how) =>
        how === 'again' ? 'again' : undefined,
      ),
    refresh: (signal) => track<void>({ kind: 'refresh', step, version, force: false }, signal, () => undefined),
    onPhase: (phase) => phases.push(phase),
  });
  const current = (): JobRecord | undefined => jobs.find((job) => job.outcome === undefined);
  const flush = () => vi.advanceTimersByTimeAsync(0);

  return {
    runner,
    jobs,
    phases,
    version: () => version,
    maxInFlight: () => maxInFlight,
    inFlight: () => inFlight,
    current,
    async perform(next: Action, log: Action[]): Promise<void> {
      step += 1;
      log.push(next);
      switch (next.kind) {
        case 'save':
          version += 1;
          runner.change({});
          break;
        case 'force':
          runner.change({ force: true });
          break;
        case 'touch':
          runner.touch();
          break;
        case 'cancel':
          runner.cancel();
          break;
        case 'task':
          runner
            .exclusive(() => track<void>({ kind: 'task', step, version, force: false }, undefined, () => undefined))
            .catch(() => {});
          break;
        case 'tick':
          await vi.advanceTimersByTimeAsync(next.ms);
          break;
        case 'finish': {
          const job = current();
          // An aborted job ends soon, with an error (the SDK throws on abort), unless it had already finished.
          if (job !== undefined) job.settle(job.abortedAt !== undefined && next.how === 'again' ? 'error' : next.how);
          break;
        }
      }
      await flush();
    },
    /** Closes the machine, ending the job in flight as an aborted job would. */
    async close(): Promise<void> {
      const closing = runner.close();
      current()?.settle('error');
      await closing;
    },
    /** Lets everything finish: every job ends normally, every timer fires. */
    async quiesce(log: Action[]): Promise<void> {
      for (let guard = 0; guard < 500; guard += 1) {
        if (current() !== undefined) await this.perform({ kind: 'finish', how: 'ok' }, log);
        else if (runner.phase() === 'debouncing') await this.perform({ kind: 'tick', ms: DEBOUNCE }, log);
        else return;
      }
      throw new Error('the machine never settled');
    },
  };
}

type Harness = ReturnType<typeof harness>;

/** Phase agrees with what is in flight, after every step. */
function checkStep(h: Harness): void {
  expect(h.maxInFlight()).toBeLessThanOrEqual(1);
  const job = h.current();
  const phase = h.runner.phase();
  if (job === undefined) expect(['idle', 'debouncing']).toContain(phase);
  else if (job.abortedAt !== undefined) expect(phase).toBe('cancelling');
  else expect(phase).toBe('running');
  if (phase === 'idle') expect(vi.getTimerCount()).toBe(0);
  expect(h.runner.running()).toBe(job?.kind === 'run');
}

/** Issue 19's promises, checked once everything has settled. */
function checkSettled(h: Harness, log: Action[]): void {
  expect(h.runner.phase()).toBe('idle');
  expect(vi.getTimerCount()).toBe(0);
  const lastIndex = (kinds: Action['kind'][]): number => log.findLastIndex((entry) => kinds.includes(entry.kind)) + 1; // steps are 1-based
  const lastCancel = lastIndex(['cancel']);
  const lastChange = lastIndex(['save', 'force']);
  const runs = h.jobs.filter((job) => job.kind === 'run');
  const lastRun = runs.at(-1);

  // Convergence: unless the user cancelled after the last change, the last run started after it, read the
  // last version and was not cancelled.
  if (lastChange > 0 && lastCancel < lastChange) {
    expect(lastRun, 'a run after the last change').toBeDefined();
    expect(lastRun!.step).toBeGreaterThanOrEqual(lastChange);
    expect(lastRun!.version).toBe(h.version());
    expect(lastRun!.abortedAt).toBeUndefined();
  }
  // A run is cancelled only by a change that starts another run (or by the user).
  for (const run of runs) {
    if (run.abortedAt === undefined && run.outcome !== 'again') continue;
    const from = run.abortedAt ?? run.step;
    const userCancelledAfter = log.slice(from - 1).some((entry) => entry.kind === 'cancel');
    if (!userCancelledAfter)
      expect(
        runs.some((later) => later.step > run.step),
        `a run after the run of step ${run.step}`,
      ).toBe(true);
  }
  // A forced run (`f`) is never lost: a run started after it regenerated everything, unless the user cancelled.
  const lastForce = lastIndex(['force']);
  if (lastForce > 0 && lastCancel < lastForce) {
    expect(runs.some((run) => run.step >= lastForce && run.force && run.abortedAt === undefined)).toBe(true);
  }
  // A hand edit is always looked at: a refresh that was not cut short started after the last one.
  const lastTouch = lastIndex(['touch']);
  if (lastTouch > 0) {
    expect(h.jobs.some((job) => job.kind === 'refresh' && job.step >= lastTouch && job.abortedAt === undefined)).toBe(
      true,
    );
  }
  // Every exclusive task ran.
  expect(h.jobs.filter((job) => job.kind === 'task')).toHaveLength(log.filter((entry) => entry.kind === 'task').length);
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the watch scheduling machine', () => {
  it('converges with at most one job in flight after any interleaving (fast-check)', async () => {
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 60 }), async (actions) => {
        vi.clearAllTimers();
        const h = harness();
        const log: Action[] = [];
        try {
          for (const next of actions) {
            await h.perform(next, log);
            checkStep(h);
          }
          await h.quiesce(log);
          checkStep(h);
          checkSettled(h, log);
          cases += 1;
        } finally {
          await h.close();
        }
      }),
      { numRuns: 400, seed: 19 },
    );
    expect(cases).toBe(400);
  });

  it('issue 19: a run that finishes although a save cancelled it is followed by a run on the last save', async () => {
    const h = harness();
    const log: Action[] = [];
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    expect(h.current()?.kind).toBe('run');
    await h.perform({ kind: 'save' }, log); // the last save, mid-run: the run is cancelled at once
    expect(h.runner.phase()).toBe('cancelling');
    await h.perform({ kind: 'finish', how: 'ok' }, log); // ... but it had already finished
    expect(h.runner.phase()).toBe('debouncing');
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    expect(h.jobs.filter((job) => job.kind === 'run').map((job) => job.version)).toEqual([1, 2]);
    await h.perform({ kind: 'finish', how: 'ok' }, log);
    checkSettled(h, log);
    await h.close();
  });

  it('coalesces a burst of saves into one run that starts a debounce after the last one', async () => {
    const h = harness();
    const log: Action[] = [];
    for (let index = 0; index < 5; index += 1) {
      await h.perform({ kind: 'save' }, log);
      await h.perform({ kind: 'tick', ms: DEBOUNCE - 1 }, log);
    }
    expect(h.jobs).toHaveLength(0);
    await h.perform({ kind: 'tick', ms: 1 }, log);
    expect(h.jobs.map((job) => [job.kind, job.version])).toEqual([['run', 5]]);
    await h.close();
  });

  it('waits for the quiet time again after a cancelled run, then runs once', async () => {
    const h = harness();
    const log: Action[] = [];
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'finish', how: 'error' }, log); // the aborted run rejects
    await h.perform({ kind: 'tick', ms: DEBOUNCE / 2 }, log);
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE - 1 }, log);
    expect(h.jobs.filter((job) => job.kind === 'run')).toHaveLength(1);
    await h.perform({ kind: 'tick', ms: 1 }, log);
    expect(h.jobs.filter((job) => job.kind === 'run').map((job) => job.version)).toEqual([1, 3]);
    await h.close();
  });

  it('Ctrl+C cancels the run in flight and nothing follows until the next change', async () => {
    const h = harness();
    const log: Action[] = [];
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    expect(h.runner.cancel()).toBe(true);
    await h.perform({ kind: 'finish', how: 'error' }, log);
    expect(h.runner.phase()).toBe('idle');
    expect(h.runner.cancel()).toBe(false);
    await h.close();
  });

  it('a forced run cancelled by a save is carried into the next run', async () => {
    const h = harness();
    const log: Action[] = [];
    await h.perform({ kind: 'force' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'finish', how: 'error' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    expect(h.jobs.map((job) => job.force)).toEqual([true, true]);
    await h.close();
  });

  it('an exclusive task waits for the run in flight, and runs wait for the task', async () => {
    const h = harness();
    const log: Action[] = [];
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    await h.perform({ kind: 'task' }, log);
    expect(h.jobs.map((job) => job.kind)).toEqual(['run']);
    await h.perform({ kind: 'finish', how: 'ok' }, log);
    expect(h.jobs.map((job) => job.kind)).toEqual(['run', 'task']);
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE * 3 }, log);
    expect(h.runner.phase()).toBe('running');
    expect(h.current()?.kind).toBe('task');
    await h.perform({ kind: 'finish', how: 'ok' }, log);
    expect(h.jobs.map((job) => job.kind)).toEqual(['run', 'task', 'run']);
    await h.close();
  });

  it('a hand edit during a run is looked at after the run, never during it', async () => {
    const h = harness();
    const log: Action[] = [];
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    await h.perform({ kind: 'touch' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE * 2 }, log);
    expect(h.jobs.map((job) => job.kind)).toEqual(['run']);
    await h.perform({ kind: 'finish', how: 'ok' }, log);
    expect(h.jobs.map((job) => job.kind)).toEqual(['run', 'refresh']);
    await h.close();
  });

  it('reports idle once nothing is in flight or due, and close() settles everything', async () => {
    const h = harness();
    const log: Action[] = [];
    await h.perform({ kind: 'save' }, log);
    let idle = false;
    void h.runner.idle().then(() => (idle = true));
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    await h.perform({ kind: 'finish', how: 'again' }, log); // inputs changed under the run: another follows
    expect(idle).toBe(false);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    await h.perform({ kind: 'finish', how: 'ok' }, log);
    expect(idle).toBe(true);
    expect(h.phases.at(-1)).toBe('idle');
    await h.perform({ kind: 'save' }, log);
    await h.perform({ kind: 'tick', ms: DEBOUNCE }, log);
    await h.close();
    expect(h.runner.phase()).toBe('idle');
    await expect(h.runner.exclusive(async () => 1)).rejects.toThrow(/closed/);
  });
});
