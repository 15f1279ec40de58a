import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { mapFailure, type ErrorContext, type SdkFailure } from './sdk-failures.js';

/**
 * Turns whatever the `openai` SDK (or fetch underneath it) threw into a ProviderError that says what to
 * do next, or an AbortError for a cancelled call. Bugs are returned unchanged so they keep their stack.
 */
export function toProviderError(error: unknown, context: ErrorContext): unknown {
  return mapFailure(classifyOpenAIError(error), error, context);
}

function classifyOpenAIError(error: unknown): SdkFailure | undefined {
  if (error instanceof APIUserAbortError) return { kind: 'abort' };
  if (error instanceof APIConnectionTimeoutError) return { kind: 'timeout' };
  if (error instanceof APIConnectionError) return { kind: 'connection' };
  if (!(error instanceof APIError)) return undefined;
  const body = error.error as { message?: unknown } | undefined;
  const message =
    typeof body?.message === 'string' && body.message !== '' ? body.message : error.message.replace(/^\d{3}\s+/, '');
  return {
    kind: 'status',
    status: typeof error.status === 'number' ? error.status : undefined,
    headers: error.headers,
    message,
    type: typeof error.type === 'string' ? error.type : undefined,
    code: typeof error.code === 'string' ? error.code : undefined,
  };
}
