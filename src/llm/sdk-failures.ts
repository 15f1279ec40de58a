import { AbortError, ProviderError } from './errors.js';
import { contextFullHint, isContextFull } from './refusals.js';

/** What an error message may say about the call that failed. Never the key itself. */
export interface ErrorContext {
  /** `openai`, `azure`, `anthropic`, `ollama` or `openai-compatible`. */
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
  /** False when 429s are returned at once for a rate-limit wrapper to handle (no SDK retries of them). */
  sdkRetriesRateLimits?: boolean;
}

/**
 * A failure as both SDKs (Stainless-generated, same shapes) report it, reduced to what decides the
 * message: a cancelled call, a timeout, no connection, or an HTTP status with the server's own words.
 */
export type SdkFailure =
  | { kind: 'abort' }
  | { kind: 'timeout' }
  | { kind: 'connection' }
  | {
      kind: 'status';
      /** Undefined for an error event inside a stream (Anthropic sends those). */
      status: number | undefined;
      headers: Headers | undefined;
      message: string;
      /** `error.type` from the body (`insufficient_quota`, `overloaded_error`, ...). */
      type: string | undefined;
      /** `error.code` from the body (`insufficient_quota`, `model_not_found`, ...). */
      code: string | undefined;
    };

/**
 * Turns a classified SDK failure (or, when `failure` is undefined, whatever fetch threw) into a
 * {@link ProviderError} that says what to do next, or an {@link AbortError} for a cancelled call.
 * Errors that are not about the provider (bugs) are returned unchanged so they keep their stack.
 */
export function mapFailure(failure: SdkFailure | undefined, error: unknown, context: ErrorContext): unknown {
  if (context.signal?.aborted === true || failure?.kind === 'abort') {
    return new AbortError(undefined, { cause: context.signal?.reason ?? error });
  }
  const where = `${context.providerName} at ${context.baseURL}`;
  const cause = scrubKey(error, context.apiKey);

  if (failure?.kind === 'timeout') {
    return new ProviderError('PROVIDER_TIMEOUT', `${where} did not answer within ${seconds(context.timeoutMs)}.`, {
      cause,
      hint: 'Check the server is not overloaded, or allow more time with a larger timeout.',
    });
  }
  if (failure?.kind === 'connection') return unreachable(context, `Could not connect to ${where}.`, cause);
  if (failure?.kind === 'status') return statusError(failure, cause, context, where);
  if (isConnectionLost(error)) {
    return unreachable(context, `The connection to ${where} closed before the answer was complete.`, cause);
  }
  if (error instanceof SyntaxError) {
    return new ProviderError('PROVIDER_BAD_RESPONSE', `${where} sent a response that is not valid JSON.`, {
      cause,
      hint: 'Check `baseURL` points to a server of the right kind (OpenAI-compatible, or Anthropic for `provider: anthropic`).',
    });
  }
  return error;
}

function statusError(
  failure: Extract<SdkFailure, { kind: 'status' }>,
  cause: unknown,
  context: ErrorContext,
  where: string,
): ProviderError {
  const call: StatusCall = {
    failure,
    serverMessage: redactKey(failure.message, context.apiKey),
    options: { cause, status: failure.status },
    context,
    where,
  };
  return (
    accountError(call) ??
    busyError(call) ??
    (failure.status === 404
      ? notFoundError(failure, call.serverMessage, call.options, context, where)
      : requestError(call))
  );
}

/** A failed call with an HTTP status (or an error event in a stream), as the messages below need it. */
interface StatusCall {
  failure: Extract<SdkFailure, { kind: 'status' }>;
  /** The server's own words, the key scrubbed. */
  serverMessage: string;
  options: { cause: unknown; status: number | undefined };
  context: ErrorContext;
  where: string;
}

/** The key or the account: no call can succeed until the user acts. */
function accountError({ failure, serverMessage, options, context, where }: StatusCall): ProviderError | undefined {
  const { status } = failure;
  const is = (value: string) => failure.type === value || failure.code === value;
  if (status === 401 || status === 403) {
    return new ProviderError('PROVIDER_AUTH', `${where} refused the request (${status}: ${serverMessage}).`, {
      ...options,
      exitCode: 2,
      runWide: 'stop-calls',
      hint: `Set ${context.apiKeyVariable} to a valid API key for ${context.providerName}${status === 403 ? ' with access to this model' : ''}.`,
    });
  }
  // OpenAI says 429 insufficient_quota; Anthropic says 400 "credit balance is too low", or 402.
  if (
    is('insufficient_quota') ||
    is('billing_error') ||
    status === 402 ||
    (status === 400 && /credit balance/i.test(serverMessage))
  ) {
    return new ProviderError(
      'PROVIDER_QUOTA',
      `${where} says the account is out of credit or quota: ${serverMessage}`,
      {
        ...options,
        retryAfterMs: retryAfter(failure.headers),
        runWide: 'stop-calls',
        hint:
          context.providerName === 'anthropic'
            ? 'Add credits or raise the spend limit in the Anthropic Console (Plans & Billing); retrying will not help.'
            : 'Add credit or raise the spending limit of the account; retrying will not help.',
      },
    );
  }
  return undefined;
}

/** Rate limited or overloaded: waiting helps (the server may say how long). */
function busyError({ failure, serverMessage, options, context, where }: StatusCall): ProviderError | undefined {
  const withWait = { ...options, retryAfterMs: retryAfter(failure.headers) };
  if (failure.status === 429) {
    const after = context.sdkRetriesRateLimits === false ? '' : ` after ${retries(context.maxRetries)}`;
    return new ProviderError('PROVIDER_RATE_LIMIT', `${where} is rate limiting${after}: ${serverMessage}`, {
      ...withWait,
      hint: 'Lower `rateLimit` or `concurrency` in the spec frontmatter, or wait and run again.',
    });
  }
  if (failure.status === 529 || failure.type === 'overloaded_error' || failure.code === 'overloaded_error') {
    return new ProviderError('PROVIDER_OVERLOADED', `${where} is overloaded: ${serverMessage}`, {
      ...withWait,
      hint: 'The provider is busy; run again in a few minutes (finished files are cached).',
    });
  }
  return undefined;
}

/** What is left: a request too long for the model, a server failure, or a request the server rejected. */
function requestError({ failure, serverMessage, options, context, where }: StatusCall): ProviderError {
  const { status } = failure;
  if (isContextFull(serverMessage)) {
    return new ProviderError(
      'PROVIDER_CONTEXT_FULL',
      `${where} says the request does not fit the model's context window: ${serverMessage}`,
      {
        ...options,
        hint: contextFullHint(context.providerName),
      },
    );
  }
  if (status === undefined || status >= 500) {
    const after = status === undefined ? '' : ` with ${status} after ${retries(context.maxRetries)}`;
    return new ProviderError('PROVIDER_SERVER_ERROR', `${where} failed${after}: ${serverMessage}`, {
      ...options,
      hint: 'The server had a problem; run again later (finished files are cached), or check its logs if you run it yourself.',
    });
  }
  return new ProviderError('PROVIDER_BAD_REQUEST', `${where} rejected the request (${status}): ${serverMessage}`, {
    ...options,
    hint: 'The server did not accept the request; the message above says why (e.g. a prompt too long for the model).',
  });
}

/** A 404: the model is not there (its own words say so), or the endpoint is not (a wrong `baseURL`). */
function notFoundError(
  failure: Extract<SdkFailure, { kind: 'status' }>,
  serverMessage: string,
  options: { cause: unknown; status: number | undefined },
  context: ErrorContext,
  where: string,
): ProviderError {
  if (failure.code === 'model_not_found' || /model/i.test(serverMessage)) {
    return new ProviderError('PROVIDER_MODEL_NOT_FOUND', `Model "${context.model}" was not found at ${where}.`, {
      ...options,
      exitCode: 2,
      runWide: 'stop-calls',
      hint:
        context.providerName === 'ollama'
          ? `Pull it with \`ollama pull ${context.model}\`, or set another \`model\` in the spec frontmatter.`
          : context.providerName === 'azure'
            ? 'Check the deployment name (`azure.deployment`, or `model` when it is not set) in the Azure portal.'
            : 'Check `model` in the spec frontmatter; `smol doctor` lists the models the server offers.',
    });
  }
  return new ProviderError('PROVIDER_ENDPOINT_NOT_FOUND', `${where} has no endpoint for this request (404).`, {
    ...options,
    exitCode: 2,
    runWide: 'stop-calls',
    hint:
      context.providerName === 'anthropic'
        ? 'Check `baseURL`: for Anthropic it is the server root, without `/v1`.'
        : 'Check `baseURL`: OpenAI-compatible servers usually expect it to end in `/v1`.',
  });
}

function unreachable(context: ErrorContext, message: string, cause: unknown): ProviderError {
  return new ProviderError('PROVIDER_UNREACHABLE', message, {
    cause,
    hint:
      context.providerName === 'ollama'
        ? `Check Ollama is running (\`ollama serve\`) and listening at ${context.baseURL}.`
        : `Check the server is running and \`baseURL\` (${context.baseURL}) is right.`,
  });
}

/** Milliseconds the server asked us to wait, from `retry-after-ms` or `retry-after` (seconds or a date). */
function retryAfter(headers: Headers | undefined): number | undefined {
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

function redactKey(text: string, apiKey: string | undefined): string {
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

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

function retries(count: number): string {
  return count === 1 ? '1 retry' : `${count} retries`;
}
