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
  return new RunScheduler(options);
}

/** The machine above; its fields are the state, each method one transition. */
class RunScheduler<Request> implements Runner<Request> {
  private readonly options: RunnerOptions<Request>;
  private readonly now: () => number;
  private currentPhase: Phase = 'idle';
  private dirty = false;
  private request: Request | undefined;
  private lastChange = Number.NEGATIVE_INFINITY;
  private stale = false;
  private staleSince = Number.NEGATIVE_INFINITY;
  private job: Job<Request> | undefined;
  private jobDone: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly tasks: QueuedTask[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(options: RunnerOptions<Request>) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  change(next: Request): void {
    if (this.closed) return;
    this.markDirty(next);
    if (this.job === undefined) return this.decide();
    this.abortJob('change');
  }

  touch(): void {
    if (this.closed) return;
    this.markStale();
    if (this.job === undefined && this.currentPhase === 'idle') this.decide();
  }

  cancel(): boolean {
    const pending = this.dirty;
    this.dirty = false;
    this.request = undefined;
    const job = this.job;
    if (job !== undefined && job.kind === 'run' && job.cancelledBy !== 'user') {
      if (job.cancelledBy === undefined) this.abortJob('user');
      // A run already cancelled by a change is not followed by another: the user said stop.
      job.cancelledBy = 'user';
      return true;
    }
    if (job === undefined && pending) this.decide();
    return pending;
  }

  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the daemon is closed'));
      const start = async (): Promise<void> => {
        try {
          resolve(await task());
        } catch (error) {
          reject(error);
        }
      };
      this.tasks.push({ start, abandon: reject });
      if (this.job === undefined) this.decide();
    });
  }

  phase(): Phase {
    return this.currentPhase;
  }

  running(): boolean {
    return this.job?.kind === 'run';
  }

  idle(): Promise<void> {
    if (this.currentPhase === 'idle') return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    this.dirty = false;
    this.stale = false;
    for (const task of this.tasks.splice(0)) task.abandon(new Error('the daemon is closed'));
    if (this.job !== undefined && this.job.kind !== 'task') {
      this.job.cancelledBy ??= 'user';
      this.job.controller.abort();
    }
    await this.jobDone;
    this.enter('idle');
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Called whenever no job is in flight: starts the next job, waits for quiet, or goes idle. */
  private decide(): void {
    if (this.job !== undefined) return;
    this.clearTimer();
    if (this.closed) return this.enter('idle');
    const task = this.tasks.shift();
    if (task !== undefined) return this.start({ kind: 'task' }, task.start);
    if (this.dirty) return this.startRunWhenQuiet();
    if (this.stale && this.options.refresh !== undefined) return this.startRefreshWhenQuiet(this.options.refresh);
    this.enter('idle');
  }

  private startRunWhenQuiet(): void {
    const due = this.lastChange + this.options.debounceMs;
    if (this.now() < due) return this.armTimer(due);
    const next = this.request ?? this.options.plain;
    this.dirty = false;
    this.request = undefined;
    const controller = new AbortController();
    this.start({ kind: 'run', request: next, controller }, () => this.options.run(next, controller.signal));
  }

  private startRefreshWhenQuiet(refresh: (signal: AbortSignal) => Promise<void>): void {
    const due = this.staleSince + this.options.debounceMs;
    if (this.now() < due) return this.armTimer(due);
    this.stale = false;
    const controller = new AbortController();
    this.start({ kind: 'refresh', controller }, () => refresh(controller.signal));
  }

  /** Starts a job; only a run's outcome is read (a task or a refresh resolves to nothing). */
  private start(started: Job<Request>, work: () => Promise<unknown>): void {
    this.job = started;
    this.enter('running');
    let promise: Promise<unknown>;
    try {
      promise = work();
    } catch (error) {
      promise = Promise.reject(error);
    }
    // Every job catches its own errors (the daemon reports them); the machine only needs to know it ended.
    this.jobDone = promise.then(
      (outcome) => this.jobEnded(started, outcome === 'again' ? 'again' : undefined),
      () => this.jobEnded(started, undefined),
    );
  }

  private jobEnded(ended: Job<Request>, outcome: RunOutcome): void {
    this.job = undefined;
    this.jobDone = undefined;
    if (ended.kind === 'run') {
      if (ended.cancelledBy === 'change' && this.dirty) {
        // The change that cancelled it asked for a run; it also carries what this one was asked to do.
        this.request = this.options.merge(ended.request, this.request ?? this.options.plain);
      } else if (outcome === 'again' && !this.closed) {
        // A plain rerun: a forced run that saw its inputs change is not forced (and paid for) twice.
        this.dirty = true;
        this.lastChange = this.now();
      }
    }
    if (ended.kind === 'refresh' && ended.cancelledBy !== undefined) this.markStale();
    this.decide();
  }

  private markDirty(next: Request): void {
    this.request = this.options.merge(this.request, next);
    this.dirty = true;
    this.lastChange = this.now();
  }

  private markStale(): void {
    if (!this.stale) this.staleSince = this.now();
    this.stale = true;
  }

  private abortJob(by: 'change' | 'user'): void {
    const job = this.job;
    if (job === undefined || job.kind === 'task' || job.cancelledBy !== undefined) return;
    job.cancelledBy = by;
    job.controller.abort();
    this.enter('cancelling');
  }

  private enter(next: Phase): void {
    if (this.currentPhase === next) return;
    this.currentPhase = next;
    if (next === 'idle') for (const resolve of this.idleWaiters.splice(0)) resolve();
    try {
      this.options.onPhase?.(next);
    } catch {
      // A listener's failure must not wedge the machine.
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private armTimer(at: number): void {
    this.clearTimer();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.decide();
      },
      Math.max(0, at - this.now()),
    );
    this.enter('debouncing');
  }
}
