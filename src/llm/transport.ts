import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError } from './errors.js';
import { isFeatureRefusal } from './refusals.js';

// How a call travels: headers, a fetch that keeps the SDKs from retrying what retrying cannot fix, its own
// abort signal and deadline, and a watchdog for streams that go quiet. What a failure means is
// sdk-failures.ts.

/** Waits `ms`, or rejects with an {@link AbortError} as soon as `signal` aborts. */
export async function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal === undefined ? undefined : { signal });
  } catch (error) {
    if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });
    throw error;
  }
}

/**
 * Rejects as soon as `signal` aborts. The SDKs only check the signal between attempts, so without this
 * a cancelled call would sit out a whole Retry-After wait first.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(undefined, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * A signal of its own for one call, following `parent`. The SDKs add an abort listener to the signal of
 * every request and never remove it, so a run-wide signal shared by hundreds of calls would pile them up
 * (Node warns past 10); this way the run's signal only ever holds one listener per call in flight.
 * Not `AbortSignal.any`: with a long-lived parent (the daemon's) its dependants pile up in the parent
 * (nodejs/node#55351). Not `AbortSignal.timeout` for the deadline: its timer cannot be cleared when the call ends.
 *
 * With a `deadline`, the call is aborted when it passes `deadline.ms` (a server sending one token a
 * second never trips the idle watchdog) and fails with `deadline.error()` instead of an abort.
 */
export async function withCallSignal<T>(
  parent: AbortSignal | undefined,
  work: (signal: AbortSignal | undefined) => Promise<T>,
  deadline?: { ms: number; error: () => Error },
): Promise<T> {
  if (parent === undefined && deadline === undefined) return work(undefined);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted === true) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onAbort, { once: true });
  let expired = false;
  // setTimeout takes at most 2^31-1 ms; a longer deadline is no deadline in practice.
  const timer =
    deadline === undefined || deadline.ms >= 2 ** 31
      ? undefined
      : setTimeout(
          () => {
            expired = true;
            controller.abort(new Error('deadline'));
          },
          Math.max(1, deadline.ms),
        );
  try {
    const result = await work(controller.signal);
    if (expired && deadline !== undefined) throw deadline.error();
    return result;
  } catch (error) {
    if (expired && deadline !== undefined && parent?.aborted !== true) throw deadline.error();
    throw error;
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onAbort);
  }
}

/** Header values must be ASCII: percent-encode anything else (a path like `src/ü.ts`). */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/gu, (char) => encodeURIComponent(char));
}

/** The `X-Smol-Stage` / `X-Smol-File` headers every request carries (design.md 3). */
export function smolHeaders(request: { stage: string; file?: string }): Record<string, string> {
  const headers: Record<string, string> = { 'X-Smol-Stage': request.stage };
  if (request.file !== undefined) headers['X-Smol-File'] = headerSafe(request.file);
  return headers;
}

/**
 * Wraps `fetch` so the SDK's own retry loop never retries what it cannot fix. A 429 whose body says
 * `insufficient_quota` is marked `x-should-retry: false` (the SDK otherwise retries every 429, reading the
 * body only afterwards); with `rateLimits: 'caller'` every 429 is, so a rate-limit wrapper above the
 * provider sees it at once and pauses every call instead of each call waiting on its own. So is a 5xx
 * refusing a feature (llama.cpp's `500 tools param requires --jinja flag`): the same request would get
 * the same answer four times over.
 */
export function guardedFetch(base: typeof fetch | undefined, rateLimits: 'sdk' | 'caller'): typeof fetch {
  const inner = base ?? fetch;
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.status >= 500) {
      const body = await response.text().catch(() => '');
      const headers = new Headers(response.headers);
      if (isFeatureRefusal(body)) headers.set('x-should-retry', 'false');
      return new Response(body, { status: response.status, statusText: response.statusText, headers });
    }
    if (response.status !== 429) return response;
    let stop = rateLimits === 'caller';
    let body: string | undefined;
    if (!stop) {
      body = await response.text().catch(() => '');
      stop = /insufficient_quota/.test(body);
    }
    if (!stop && body === undefined) return response;
    const headers = new Headers(response.headers);
    if (stop) headers.set('x-should-retry', 'false');
    return new Response(body ?? response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/**
 * The SDKs' timeouts only cover the wait for the response headers; a server that stalls mid-stream would
 * hang a call forever. `kick()` on every chunk; after `timeoutMs` of silence `onStall` runs (it aborts the
 * stream) and `stalled` turns true.
 */
export function idleWatchdog(
  timeoutMs: number,
  onStall: () => void,
): { kick: () => void; stop: () => void; readonly stalled: boolean } {
  let timer: NodeJS.Timeout | undefined;
  let stalled = false;
  return {
    kick() {
      // One timer per stream, moved on by each chunk (`refresh`), not a new timer per chunk: a server
      // streams a chunk per token, and at 50 calls at once that was thousands of timers a second.
      if (timer !== undefined) {
        timer.refresh();
        return;
      }
      timer = setTimeout(() => {
        stalled = true;
        onStall();
      }, timeoutMs);
    },
    stop: () => {
      clearTimeout(timer);
      timer = undefined;
    },
    get stalled() {
      return stalled;
    },
  };
}
