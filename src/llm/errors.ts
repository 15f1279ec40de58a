import { SmolError, type RunWide } from '../errors.js';

/** A provider failure the user can act on. `cause` keeps the SDK's original error. */
export class ProviderError extends SmolError {
  override readonly name: string = 'ProviderError';
  /** The HTTP status, when the server answered with one. */
  readonly status: number | undefined;
  /** How long the server asked us to wait (Retry-After / retry-after-ms), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    options: {
      exitCode?: 1 | 2;
      hint?: string | undefined;
      cause?: unknown;
      status?: number | undefined;
      retryAfterMs?: number | undefined;
      runWide?: RunWide | undefined;
    } = {},
  ) {
    super(code, message, options);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Thrown when a call is cancelled through its `AbortSignal`. Callers tell cancellation apart from
 * failure with {@link isAbortError}; the signal's reason is kept as `cause`.
 */
export class AbortError extends Error {
  override readonly name = 'AbortError';

  constructor(message = 'The request was aborted.', options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** True for our {@link AbortError} and for the platform's (`DOMException` named `AbortError`). */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}
