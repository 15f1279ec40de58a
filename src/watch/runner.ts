/**
 * The daemon's scheduling, as a small explicit state machine (style.md, "Long-running process"):
 *
 *     idle ──change──▶ debouncing ──quiet for debounceMs──▶ running ──ends──▶ (next job, or idle)
 *                          ▲                                   │
 *                          └──── ends, `dirty` ◀── cancelling ◀┘ change
 *
 * plus one `dirty` flag that every change sets and every run start clears. When a job ends (normally, with
 * an error, or cancelled) and `dirty` is set, the next run follows once the inputs have been quiet for
 * `debounceMs`. A run is cancelled only by a change (which sets `dirty`, so another run always follows)
 * or by the user (`cancel()`, Ctrl+C). At most one job is in flight: a run, a refresh (cheap bookkeeping
 * after `touch()`, such as noticing hand edits) or an exclusive task (a key press that applies or
 * reviews). Issue 19 came from a trailing run that a finished run started early and a late debounce
 * timer then cancelled with nothing behind it; here a timer only ever starts work, never cancels it.
 */
export type Phase = 'idle' | 'debouncing' | 'running' | 'cancelling';

/** What a run reports when it ends: `again` when its inputs changed under it (another run follows). */
export type RunOutcome = 'again' | undefined;

export interface RunnerOptions<Request> {
  /** Quiet time after the last change before a run starts. */
  debounceMs: number;
  /** Folds requests made while dirty (e.g. a forced full run) into one. */
  merge: (previous: Request | undefined, next: Request) => Request;
  /** The request of a run nobody asked anything special of (a rerun after inputs changed under a run). */
  plain: Request;
  run: (request: Request, signal: AbortSignal) => Promise<RunOutcome>;
  /** Low-priority work after `touch()`; runs only when no run is due. */
  refresh?: (signal: AbortSignal) => Promise<void>;
  /** Told every phase change (the daemon reports `idle`). */
  onPhase?: (phase: Phase) => void;
  /** The clock (default `Date.now`; fake timers replace both). */
  now?: () => number;
}

export interface Runner<Request> {
  /** An input changed: sets `dirty`, cancels a run in flight (another follows), restarts the quiet time. */
  change(request: Request): void;
  /** Something only the refresh cares about changed (a hand edit in outDir). */
  touch(): void;
  /** The user cancels the run in flight or about to start; nothing follows until the next change. */
  cancel(): boolean;
  /** Runs `task` with no job in flight; runs wait for it (a key press applying or reviewing). */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  phase(): Phase;
  /** True while a run (not a refresh or a task) is in flight. */
  running(): boolean;
  /** Resolves when nothing is in flight and nothing is due. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

type Job<Request> =
  | { kind: 'run'; request: Request; controller: AbortController; cancelledBy?: 'change' | 'user' }
  | { kind: 'refresh'; controller: AbortController; cancelledBy?: 'change' | 'user' }
  | { kind: 'task' };

interface QueuedTask {
  start: () => Promise<void>;
  abandon: (reason: Error) => void;
}

export function createRunner<Request>(options: RunnerOptions<Request>): Runner<Request> {
  const now = options.now ?? Date.now;
  let phase: Phase = 'idle';
  let dirty = false;
  let request: Request | undefined;
  let lastChange = Number.NEGATIVE_INFINITY;
  let stale = false;
  let staleSince = Number.NEGATIVE_INFINITY;
  let job: Job<Request> | undefined;
  let jobDone: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const tasks: QueuedTask[] = [];
  const idleWaiters: (() => void)[] = [];

  const enter = (next: Phase): void => {
    if (phase === next) return;
    phase = next;
    if (next === 'idle') for (const resolve of idleWaiters.splice(0)) resolve();
    try {
      options.onPhase?.(next);
    } catch {
      // A listener's failure must not wedge the machine.
    }
  };
  const clearTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const armTimer = (at: number): void => {
    clearTimer();
    timer = setTimeout(() => {
      timer = undefined;
      decide();
    }, Math.max(0, at - now()));
    enter('debouncing');
  };

  /** Called whenever no job is in flight: starts the next job, waits for quiet, or goes idle. */
  function decide(): void {
    if (job !== undefined) return;
    clearTimer();
    if (closed) return enter('idle');
    const task = tasks.shift();
    if (task !== undefined) return start({ kind: 'task' }, task.start);
    if (dirty) {
      const due = lastChange + options.debounceMs;
      if (now() < due) return armTimer(due);
      const next = request ?? options.plain;
      dirty = false;
      request = undefined;
      const controller = new AbortController();
      const running: Job<Request> = { kind: 'run', request: next, controller };
      return start(running, () => options.run(next, controller.signal));
    }
    if (stale && options.refresh !== undefined) {
      const due = staleSince + options.debounceMs;
      if (now() < due) return armTimer(due);
      stale = false;
      const controller = new AbortController();
      const refresh = options.refresh;
      return start({ kind: 'refresh', controller }, () => refresh(controller.signal));
    }
    enter('idle');
  }

  /** `work` is a run (its outcome matters), a refresh or a task (theirs does not). */
  function start(started: Job<Request>, work: () => Promise<unknown>): void {
    job = started;
    enter('running');
    let promise: Promise<unknown>;
    try {
      promise = work();
    } catch (error) {
      promise = Promise.reject(error);
    }
    // Every job catches its own errors (the daemon reports them); the machine only needs to know it ended.
    jobDone = promise.then(
      (outcome) => finish(started, outcome === 'again' ? 'again' : undefined),
      () => finish(started, undefined),
    );
  }

  function finish(ended: Job<Request>, outcome: RunOutcome): void {
    job = undefined;
    jobDone = undefined;
    if (ended.kind === 'run') {
      if (ended.cancelledBy === 'change' && dirty) {
        // The change that cancelled it asked for a run; it also carries what this one was asked to do.
        request = options.merge(ended.request, request ?? options.plain);
      } else if (outcome === 'again' && !closed) {
        // A plain rerun: a forced run that saw its inputs change is not forced (and paid for) twice.
        dirty = true;
        lastChange = now();
      }
    }
    if (ended.kind === 'refresh' && ended.cancelledBy !== undefined) markStale();
    decide();
  }

  function markDirty(next: Request): void {
    request = options.merge(request, next);
    dirty = true;
    lastChange = now();
  }
  function markStale(): void {
    if (!stale) staleSince = now();
    stale = true;
  }
  const abortJob = (by: 'change' | 'user'): void => {
    if (job === undefined || job.kind === 'task' || job.cancelledBy !== undefined) return;
    job.cancelledBy = by;
    job.controller.abort();
    enter('cancelling');
  };

  return {
    change(next) {
      if (closed) return;
      markDirty(next);
      if (job === undefined) return decide();
      abortJob('change');
    },
    touch() {
      if (closed) return;
      markStale();
      if (job === undefined && phase === 'idle') decide();
    },
    cancel() {
      const pending = dirty;
      dirty = false;
      request = undefined;
      if (job !== undefined && job.kind === 'run' && job.cancelledBy !== 'user') {
        if (job.cancelledBy === undefined) abortJob('user');
        // A run already cancelled by a change is not followed by another: the user said stop.
        job.cancelledBy = 'user';
        return true;
      }
      if (job === undefined && pending) decide();
      return pending;
    },
    exclusive(task) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new Error('the daemon is closed'));
        const start = async (): Promise<void> => {
          try {
            resolve(await task());
          } catch (error) {
            reject(error);
          }
        };
        tasks.push({ start, abandon: reject });
        if (job === undefined) decide();
      });
    },
    phase: () => phase,
    running: () => job?.kind === 'run',
    idle() {
      return phase === 'idle' ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve));
    },
    async close() {
      closed = true;
      clearTimer();
      dirty = false;
      stale = false;
      for (const task of tasks.splice(0)) task.abandon(new Error('the daemon is closed'));
      if (job !== undefined && job.kind !== 'task') {
        job.cancelledBy ??= 'user';
        job.controller.abort();
      }
      await jobDone;
      enter('idle');
      for (const resolve of idleWaiters.splice(0)) resolve();
    },
  };
}
