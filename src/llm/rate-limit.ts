import { AbortError, ProviderError } from './errors.js';
import { abortableSleep } from './transport.js';
import { worstCaseTokensAsync } from './estimate.js';
import { seconds } from './sdk-failures.js';
import type { CompleteOptions, CompletionRequest, CompletionResult, Provider, ProviderWait } from './types.js';

/** Time, injectable so tests can drive waits without sleeping. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with an AbortError as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface RateLimitOptions {
  /** Requests per minute. */
  rpm?: number | undefined;
  /** Tokens per minute, prompt + completion. */
  tpm?: number | undefined;
  /**
   * Longest total time one call spends in pauses a server asked for (429 Retry-After, 529 overloaded)
   * before it fails. Default 10 minutes. A single Retry-After longer than this fails the call at once.
   */
  maxWaitMs?: number | undefined;
  clock?: Clock | undefined;
  /** Tokens a request counts against `tpm` before the server says (default: its prompt by js-tiktoken + `maxTokens`). */
  estimate?: ((request: CompletionRequest, signal?: AbortSignal) => number | Promise<number>) | undefined;
}

const DEFAULT_MAX_WAIT_MS = 10 * 60 * 1000;
const MAX_BACKOFF_MS = 60_000;

/**
 * The one place rate limits are handled (design.md 8), shared by every call through this provider:
 *
 * - `rpm` / `tpm` are token buckets that refill continuously over a minute (full at start). A call waits
 *   until both have room; its tokens are counted as prompt (js-tiktoken) + `maxTokens`, the rule OpenAI's
 *   and Anthropic's own limiters use, then corrected to the usage the server reports.
 * - A 429 (PROVIDER_RATE_LIMIT) or an overloaded server (PROVIDER_OVERLOADED) pauses EVERY call for the
 *   time the server asked (Retry-After / retry-after-ms; else backoff from 1s doubling to 60s), then the
 *   call is retried, until it has waited `maxWaitMs` in total. Build the provider with
 *   `rateLimits: 'caller'` so the SDK hands 429s up at once instead of retrying them on its own.
 * - Everything else (quota, auth, bad requests) passes straight through.
 *
 * Calls are admitted in arrival order, so a burst of waiting calls is released one by one, not all at once.
 */
export function withRateLimit(provider: Provider, options: RateLimitOptions = {}): Provider {
  const clock = options.clock ?? systemClock;
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const estimate =
    options.estimate ??
    (async (request: CompletionRequest, signal?: AbortSignal) => {
      const { input, output } = await worstCaseTokensAsync(request, signal);
      return input + output;
    });
  const requests = options.rpm === undefined ? undefined : new Bucket(options.rpm, clock.now());
  const tokens = options.tpm === undefined ? undefined : new Bucket(options.tpm, clock.now());
  const gate = admissionGate(clock, requests, tokens);

  return {
    name: provider.name,
    async complete(request: CompletionRequest, callOptions: CompleteOptions = {}): Promise<CompletionResult> {
      const cost = tokens === undefined ? 0 : await estimate(request, callOptions.signal);
      let waited = 0;
      let retries = 0;
      for (;;) {
        await gate.admit(cost, callOptions);
        try {
          const result = await provider.complete(request, callOptions);
          tokens?.adjust(result.usage.inputTokens + result.usage.outputTokens - cost);
          return result;
        } catch (error) {
          const retryable =
            error instanceof ProviderError &&
            (error.code === 'PROVIDER_RATE_LIMIT' || error.code === 'PROVIDER_OVERLOADED');
          // A refused request used no tokens; a failed one used its prompt at most: give the rest back.
          tokens?.adjust(-(retryable ? cost : Math.min(cost, request.maxTokens ?? 0)));
          if (!retryable || callOptions.signal?.aborted === true) throw error;
          retries += 1;
          const pauseMs = error.retryAfterMs ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (retries - 1));
          if (waited + pauseMs > maxWaitMs) throw giveUp(error, waited, retries - 1, pauseMs, maxWaitMs);
          waited += pauseMs;
          gate.pause(pauseMs, error.code === 'PROVIDER_OVERLOADED' ? 'overloaded' : 'retry-after');
        }
      }
    },
  };
}

/**
 * Where calls wait their turn: in arrival order, until the buckets have room and any pause a server
 * asked for is over.
 */
function admissionGate(
  clock: Clock,
  requests: Bucket | undefined,
  tokens: Bucket | undefined,
): {
  admit: (cost: number, callOptions: CompleteOptions) => Promise<void>;
  pause: (ms: number, reason: ProviderWait['reason']) => void;
} {
  let pausedUntil = 0;
  let pauseReason: ProviderWait['reason'] = 'retry-after';
  let turn: Promise<void> = Promise.resolve();
  return {
    async admit(cost, callOptions) {
      const previous = turn;
      let release: () => void = () => {};
      turn = new Promise<void>((resolve) => (release = resolve));
      try {
        await untilSettled(previous, callOptions.signal);
        for (;;) {
          const now = clock.now();
          const waits: ProviderWait[] = [
            { reason: pauseReason, ms: pausedUntil - now },
            { reason: 'rpm', ms: requests?.waitFor(1, now) ?? 0 },
            { reason: 'tpm', ms: tokens?.waitFor(cost, now) ?? 0 },
          ];
          const longest = waits.reduce((a, b) => (b.ms > a.ms ? b : a));
          if (longest.ms <= 0) break;
          const ms = Math.ceil(longest.ms);
          callOptions.onWait?.({ reason: longest.reason, ms });
          await clock.sleep(ms, callOptions.signal);
        }
        requests?.take(1, clock.now());
        tokens?.take(cost, clock.now());
      } finally {
        // The next caller goes after this one, and never before the one this one waited for.
        void previous.then(release);
      }
    },
    pause(ms, reason) {
      const until = clock.now() + ms;
      if (until > pausedUntil) {
        pausedUntil = until;
        pauseReason = reason;
      }
    },
  };
}

function giveUp(
  error: ProviderError,
  waited: number,
  retries: number,
  nextMs: number,
  maxWaitMs: number,
): ProviderError {
  const message =
    waited === 0
      ? `${error.message} (it asks to wait ${seconds(nextMs)}, longer than smol waits: ${seconds(maxWaitMs)})`
      : `${error.message} (still, after ${retries === 1 ? '1 retry' : `${retries} retries`} and ${seconds(waited)} of pauses)`;
  return new ProviderError(error.code, message, {
    cause: error,
    hint: error.hint,
    status: error.status,
    retryAfterMs: error.retryAfterMs,
  });
}

/** A token bucket of `perMinute` capacity that refills continuously; `level` may go negative (a debt). */
class Bucket {
  private level: number;
  private updated: number;
  private readonly rate: number;

  constructor(
    private readonly capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.updated = now;
    this.rate = capacity / 60_000;
  }

  /** Milliseconds until `amount` fits (an amount over capacity fits once the bucket is full). */
  waitFor(amount: number, now: number): number {
    this.refill(now);
    const need = Math.min(amount, this.capacity);
    return this.level >= need ? 0 : (need - this.level) / this.rate;
  }

  take(amount: number, now: number): void {
    this.refill(now);
    this.level -= amount;
  }

  /** Corrects an earlier `take` by `delta` (negative gives back). */
  adjust(delta: number): void {
    this.level = Math.min(this.capacity, this.level - delta);
  }

  private refill(now: number): void {
    this.level = Math.min(this.capacity, this.level + Math.max(0, now - this.updated) * this.rate);
    this.updated = now;
  }
}

/** Waits for `promise` (which never rejects) or rejects when `signal` aborts. */
function untilSettled(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new AbortError(undefined, { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => abortableSleep(ms, signal),
};
