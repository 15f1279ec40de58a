export interface JsonEvent {
  type: string;
  [key: string]: unknown;
}

/** What a `--json` command printed so far, with ways to wait for what a test expects (never a fixed sleep). */
export interface EventLog {
  events: JsonEvent[];
  /** The raw NDJSON lines, as printed. */
  lines: string[];
  stderr: () => string;
  /** Resolves with the first event (at or after `from`) that matches. */
  waitFor(
    predicate: (event: JsonEvent) => boolean,
    options?: { from?: number; timeoutMs?: number },
  ): Promise<JsonEvent>;
  /** Resolves when stderr (from offset `from`) matches; returns the offset after the match. */
  waitForText(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<number>;
  /**
   * Waits until the daemon is idle and `caughtUp()` holds: after each `watch-idle` from `from` on, asks
   * again; a daemon that stops short (issue 19) never says idle again and the wait times out.
   */
  waitForConvergence(caughtUp: () => Promise<boolean>, options?: { from?: number; timeoutMs?: number }): Promise<void>;
}

/** An event log fed by `stdout` and `stderr` chunks as they arrive. The time-outs only detect a hang. */
export function createEventLog(): EventLog & { stdout(chunk: string): void; stderrChunk(chunk: string): void } {
  const events: JsonEvent[] = [];
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of listeners) listener();
  };
  let buffer = '';
  let stderr = '';

  const wait = <T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> =>
    new Promise((resolve, reject) => {
      const listener = (): void => {
        const found = check();
        if (found === undefined) return;
        listeners.delete(listener);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(
          new Error(
            `${describe()}\nevents: ${events.map((event) => event.type).join(', ')}\nstderr: ${stderr.slice(-3000)}`,
          ),
        );
      }, timeoutMs);
      listeners.add(listener);
      listener();
    });

  const log = {
    events,
    lines,
    stderr: () => stderr,
    stdout(chunk: string): void {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line !== '') {
          lines.push(line);
          events.push(JSON.parse(line) as JsonEvent);
        }
        newline = buffer.indexOf('\n');
      }
      notify();
    },
    stderrChunk(chunk: string): void {
      stderr += chunk;
      notify();
    },
    waitFor(
      predicate: (event: JsonEvent) => boolean,
      options: { from?: number; timeoutMs?: number } = {},
    ): Promise<JsonEvent> {
      const from = options.from ?? 0;
      return wait(
        () => events.slice(from).find(predicate),
        options.timeoutMs ?? 15_000,
        () => 'timed out waiting for an event',
      );
    },
    waitForText(pattern: RegExp, options: { from?: number; timeoutMs?: number } = {}): Promise<number> {
      const from = options.from ?? 0;
      return wait(
        () => {
          const match = pattern.exec(stderr.slice(from));
          return match === null ? undefined : from + match.index + match[0].length;
        },
        options.timeoutMs ?? 15_000,
        () => `timed out waiting for ${pattern} on stderr`,
      );
    },
    async waitForConvergence(
      caughtUp: () => Promise<boolean>,
      options: { from?: number; timeoutMs?: number } = {},
    ): Promise<void> {
      let from = options.from ?? 0;
      const deadline = Date.now() + (options.timeoutMs ?? 30_000);
      for (;;) {
        const index = events.slice(from).findIndex((event) => event.type === 'watch-idle');
        if (index === -1) {
          await log.waitFor((event) => event.type === 'watch-idle', {
            from,
            timeoutMs: Math.max(1, deadline - Date.now()),
          });
          continue;
        }
        from += index + 1;
        if (await caughtUp()) return;
      }
    },
  };
  return log;
}
