import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { AbortError, ProviderError } from './errors.js';

/** What an error message may say about the call that failed. Never the key itself. */
export interface ErrorContext {
  /** `openai`, `ollama` or `openai-compatible`. */
  providerName: string;
  baseURL: string;
  model: string;
  /** The variable the user sets the key in, named in hints. */
  apiKeyVariable: string;
  maxRetries: number;
  timeoutMs: number;
  /** Scrubbed from every message, in case a server echoes it back. */
  apiKey: string | undefined;
  signal: AbortSignal | undefined;
}

/**
 * Turns whatever the SDK (or fetch underneath it) threw into a {@link ProviderError} that says what
 * to do next, or an {@link AbortError} for a cancelled call. Errors that are not about the provider
 * (bugs) are returned unchanged so they keep their stack.
 */
export function toProviderError(error: unknown, context: ErrorContext): unknown {
  if (context.signal?.aborted === true || error instanceof APIUserAbortError) {
    return new AbortError(undefined, { cause: context.signal?.reason ?? error });
  }
  const where = `${context.providerName} at ${context.baseURL}`;
  const redact = (text: string) => redactKey(text, context.apiKey);
  const cause = scrubKey(error, context.apiKey);

  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError('PROVIDER_TIMEOUT', `${where} did not answer within ${seconds(context.timeoutMs)}.`, {
      cause,
      hint: 'Check the server is not overloaded, or allow more time with a larger timeout.',
    });
  }
  if (error instanceof APIConnectionError) {
    return unreachable(context, `Could not connect to ${where}.`, cause);
  }
  if (error instanceof APIError) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    const serverMessage = redact(serverText(error));
    const options = { cause, ...(status === undefined ? {} : { status }) };
    if (status === 401 || status === 403) {
      return new ProviderError(
        'PROVIDER_AUTH',
        `${where} refused the request (${status}: ${serverMessage}).`,
        { ...options, exitCode: 2, hint: `Set ${context.apiKeyVariable} to a valid API key for ${context.providerName}.` },
      );
    }
    if (status === 429) {
      const retryAfterMs = retryAfter(error.headers);
      const extra = { ...options, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
      if (error.code === 'insufficient_quota' || error.type === 'insufficient_quota') {
        return new ProviderError('PROVIDER_QUOTA', `${where} says the account is out of quota: ${serverMessage}`, {
          ...extra,
          hint: 'Add credit or raise the spending limit of the account; retrying will not help.',
        });
      }
      return new ProviderError(
        'PROVIDER_RATE_LIMIT',
        `${where} is still rate limiting after ${retries(context.maxRetries)}: ${serverMessage}`,
        { ...extra, hint: 'Lower `rateLimit` or `concurrency` in the spec frontmatter, or wait and run again.' },
      );
    }
    if (status === 404) {
      if (error.code === 'model_not_found' || /model/i.test(serverMessage)) {
        return new ProviderError('PROVIDER_MODEL_NOT_FOUND', `Model "${context.model}" was not found at ${where}.`, {
          ...options,
          exitCode: 2,
          hint:
            context.providerName === 'ollama' ?
              `Pull it with \`ollama pull ${context.model}\`, or set another \`model\` in the spec frontmatter.`
            : 'Check `model` in the spec frontmatter against the models the server offers.',
        });
      }
      return new ProviderError('PROVIDER_ENDPOINT_NOT_FOUND', `${where} has no chat completions endpoint (404).`, {
        ...options,
        exitCode: 2,
        hint: 'Check `baseURL`: OpenAI-compatible servers usually expect it to end in `/v1`.',
      });
    }
    if (status === undefined || status >= 500) {
      const after = status === undefined ? '' : ` with ${status} after ${retries(context.maxRetries)}`;
      return new ProviderError('PROVIDER_SERVER_ERROR', `${where} failed${after}: ${serverMessage}`, {
        ...options,
        hint: 'The server had a problem; run again later, or check its logs if you run it yourself.',
      });
    }
    return new ProviderError('PROVIDER_BAD_REQUEST', `${where} rejected the request (${status}): ${serverMessage}`, {
      ...options,
      hint: 'The server did not accept the request; the message above says why (e.g. a prompt too long for the model).',
    });
  }
  if (isConnectionLost(error)) {
    return unreachable(context, `The connection to ${where} closed before the answer was complete.`, cause);
  }
  if (error instanceof SyntaxError) {
    return new ProviderError('PROVIDER_BAD_RESPONSE', `${where} sent a response that is not valid JSON.`, {
      cause,
      hint: 'Check `baseURL` points to an OpenAI-compatible server.',
    });
  }
  return error;
}

function unreachable(context: ErrorContext, message: string, cause: unknown): ProviderError {
  return new ProviderError('PROVIDER_UNREACHABLE', message, {
    cause,
    hint:
      context.providerName === 'ollama' ?
        `Check Ollama is running (\`ollama serve\`) and listening at ${context.baseURL}.`
      : `Check the server is running and \`baseURL\` (${context.baseURL}) is right.`,
  });
}

/** The server's own words: `error.message` from the JSON body, else the SDK's summary. */
function serverText(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  if (typeof body?.message === 'string' && body.message !== '') return body.message;
  return error.message.replace(/^\d{3}\s+/, '');
}

/** Milliseconds the server asked us to wait, from `retry-after-ms` or `retry-after` (seconds or a date). */
export function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (value === null || value === undefined) return undefined;
  const secondsValue = Number.parseFloat(value);
  if (Number.isFinite(secondsValue) && secondsValue >= 0) return secondsValue * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** undici reports a socket closed mid-body as `TypeError: terminated` with a socket error as cause. */
function isConnectionLost(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause = error.cause as { code?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? cause.code : (error as { code?: unknown }).code;
  return (
    (error instanceof TypeError && error.message === 'terminated') ||
    (typeof code === 'string' && /^(UND_ERR_SOCKET|ECONNRESET|EPIPE|UND_ERR_CLOSED)$/.test(code))
  );
}

export function redactKey(text: string, apiKey: string | undefined): string {
  return apiKey === undefined || apiKey.length < 4 ? text : text.split(apiKey).join('***');
}

/** The original error kept as `cause`, with the key scrubbed from its message and stack if a server echoed it. */
function scrubKey(error: unknown, apiKey: string | undefined): unknown {
  if (!(error instanceof Error) || apiKey === undefined || apiKey.length < 4) return error;
  for (const property of ['message', 'stack'] as const) {
    const value = error[property];
    if (typeof value === 'string' && value.includes(apiKey)) {
      Object.defineProperty(error, property, { value: redactKey(value, apiKey), configurable: true, writable: true });
    }
  }
  return error;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

function retries(count: number): string {
  return count === 1 ? '1 retry' : `${count} retries`;
}
