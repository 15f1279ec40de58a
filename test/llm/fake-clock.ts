import { AbortError } from '../../src/llm/errors.js';
import type { Clock } from '../../src/llm/rate-limit.js';

/** A clock that only moves when the test says: sleeps resolve on `advance`, so no test waits for real time. */
export interface FakeClock extends Clock {
  /** Moves time forward, waking every sleeper whose time has come (in order). */
  advance(ms: number): Promise<void>;
  /** Sleeps not yet woken, as their wake-up times. */
  readonly sleepers: number[];
  /** Resolves once at least `count` sleeps are pending. */
  waitForSleepers(count: number): Promise<void>;
}

export function createFakeClock(start = 1_000_000): FakeClock {
  let now = start;
  const pending: { at: number; resolve: () => void }[] = [];
  const watchers: { count: number; resolve: () => void }[] = [];
  const notify = () => {
    for (const watcher of [...watchers]) {
      if (pending.length >= watcher.count) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    }
  };
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(new AbortError(undefined, { cause: signal.reason }));
          return;
        }
        const entry = {
          at: now + ms,
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          pending.splice(pending.indexOf(entry), 1);
          reject(new AbortError(undefined, { cause: signal?.reason }));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        pending.push(entry);
        notify();
      });
    },
    async advance(ms) {
      now += ms;
      const due = pending.filter((entry) => entry.at <= now).sort((a, b) => a.at - b.at);
      for (const entry of due) {
        pending.splice(pending.indexOf(entry), 1);
        entry.resolve();
      }
      // Let woken callers run until they block again.
      for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
    },
    get sleepers() {
      return pending.map((entry) => entry.at);
    },
    waitForSleepers(count) {
      return new Promise<void>((resolve) => {
        watchers.push({ count, resolve });
        notify();
      });
    },
  };
}
