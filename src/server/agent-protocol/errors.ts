import { isSmolError } from '../../errors.js';
import { isAbortError, ProviderError } from '../../llm/errors.js';
import { ProtocolError } from './types.js';

/** An error as the HTTP answer gives it; `log` is set when the operator should see the whole story. */
export interface HttpFailure {
  status: number;
  message: string;
  headers: Record<string, string>;
  /** For the operator's log: the full message (it may name the provider's address, which clients never see). */
  log?: string;
}

// The provider cannot answer now: a client may try again later (503). Not `SmolError.runWide`, which says
// whether one failure stops a whole run: a rate limit or a timeout does not, a wrong key or model does (502).
const UNAVAILABLE = new Set([
  'PROVIDER_RATE_LIMIT',
  'PROVIDER_OVERLOADED',
  'PROVIDER_UNREACHABLE',
  'PROVIDER_TIMEOUT',
  'PROVIDER_QUOTA',
  'PROVIDER_NO_KEY',
  'PROVIDER_NOT_CONFIGURED',
]);
// The model answered with something no stage could use (502, like any bad upstream answer).
const BAD_ANSWER = new Set(['PLAN_TRUNCATED', 'PLAN_EMPTY', 'FILE_LIST_INVALID', 'FILE_FAILED']);

/**
 * Maps what a handler threw to a status: protocol errors as they are; provider failures 503 (try later)
 * or 502 (the provider failed), with Retry-After when the provider said; bad spec or settings 422;
 * cancellation by shutdown 503; anything else (a bug) undefined, for a 500 and the operator's log.
 */
export function httpFailure(error: unknown): HttpFailure | undefined {
  if (error instanceof ProtocolError)
    return { status: error.status, message: error.message, headers: { ...error.headers } };
  if (isAbortError(error))
    return { status: 503, message: 'The server is shutting down; try again later.', headers: { 'retry-after': '5' } };
  if (!isSmolError(error)) return undefined;
  if (error instanceof ProviderError || error.code.startsWith('PROVIDER_')) {
    const unavailable = UNAVAILABLE.has(error.code);
    const retryAfterMs = error instanceof ProviderError ? error.retryAfterMs : undefined;
    const headers: Record<string, string> =
      retryAfterMs === undefined ? {} : { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) };
    const what = unavailable ? 'is not available right now; try again later' : 'failed';
    return {
      status: unavailable ? 503 : 502,
      message: `The model provider ${what} (${error.code}).`,
      headers,
      log: error.message,
    };
  }
  if (BAD_ANSWER.has(error.code)) return { status: 502, message: error.message, headers: {} };
  if (error.exitCode === 2) return { status: 422, message: error.message, headers: {} };
  return { status: 500, message: error.message, headers: {}, log: error.message };
}
