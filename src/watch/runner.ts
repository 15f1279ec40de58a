/**
 * A debounced, single-flight runner (the vitest `scheduleRerun` shape): `schedule()` collects requests
 * for `debounceMs`; one job runs at a time; a request that arrives mid-run aborts the run in flight and
 * starts one trailing run when it settles.
 */
export interface Runner<Request> {
  schedule(request: Request): void;
  /** Aborts the run in flight; true when there was one. Does not start another. */
  cancel(): boolean;
  running(): boolean;
  /** Resolves when nothing is running or scheduled. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function createRunner<Request>(options: {
  debounceMs: number;
  merge: (previous: Request | undefined, next: Request) => Request;
  run: (request: Request, signal: AbortSignal) => Promise<void>;
}): Runner<Request> {
  let pending: Request | undefined;
  let timer: NodeJS.Timeout | undefined;
  let current: { controller: AbortController; done: Promise<void> } | undefined;
  let closed = false;
  let idleWaiters: (() => void)[] = [];

  const settleIdle = (): void => {
    if (current === undefined && pending === undefined && timer === undefined) {
      for (const resolve of idleWaiters.splice(0)) resolve();
    }
  };
  const start = (): void => {
    if (closed || pending === undefined) return settleIdle();
    const request = pending;
    pending = undefined;
    const controller = new AbortController();
    // Each job catches its own errors: one failure is reported by `run`, and the runner keeps going.
    const done = options.run(request, controller.signal).catch(() => {}).finally(() => {
      current = undefined;
      start();
    });
    current = { controller, done };
  };
  const fire = (): void => {
    timer = undefined;
    if (current !== undefined) {
      current.controller.abort();
      return; // the trailing run starts when the aborted one settles
    }
    start();
  };
  return {
    schedule(request) {
      if (closed) return;
      pending = options.merge(pending, request);
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(fire, options.debounceMs);
    },
    cancel() {
      if (current === undefined) return false;
      current.controller.abort();
      return true;
    },
    running: () => current !== undefined,
    idle() {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },
    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
      current?.controller.abort();
      await current?.done;
      idleWaiters.splice(0).forEach((resolve) => resolve());
      idleWaiters = [];
    },
  };
}
