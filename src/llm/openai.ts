import OpenAI, { AzureOpenAI } from 'openai';
import { SmolError } from '../errors.js';
import { deadlineError, DEFAULT_CALL_TIMEOUT_MS, type CallLimits } from './call-limits.js';
import { OPENAI_BASE_URL } from './endpoints.js';
import { ProviderError } from './errors.js';
import type { ErrorContext } from './sdk-failures.js';
import { streamChatCompletion, type ToolChoiceForm } from './openai-stream.js';
import { guardedFetch, withCallSignal } from './transport.js';
import { refusedFeature, unsupportedError, type UnsupportedFeature } from './refusals.js';
import type { CompleteOptions, CompletionRequest, CompletionResult, Provider } from './types.js';
import { redactURL, splitURL } from './url.js';

export interface OpenAIProviderOptions {
  /** Required for `openai` and `azure`; local servers need none. */
  apiKey?: string | undefined;
  /** Defaults to `https://api.openai.com/v1`. User info and query values in it are sent, never shown. */
  baseURL?: string | undefined;
  /** `openai` (the default; `azure` with `azure`), `ollama` or `openai-compatible`; named in messages. */
  name?: string | undefined;
  /** Retries of 408/409/5xx (and 429 in `sdk` mode) and connection errors, by the SDK honouring Retry-After. Default 3. */
  maxRetries?: number | undefined;
  /** Time allowed for the response to start, and then between two streamed chunks. Default 10 minutes. */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  defaultHeaders?: Record<string, string> | undefined;
  /** Sent as `OpenAI-Organization` / `OpenAI-Project`. */
  organization?: string | undefined;
  project?: string | undefined;
  /** The environment variable the key comes from, named in hints. Default `OPENAI_API_KEY`. */
  apiKeyVariable?: string | undefined;
  /**
   * Who retries a 429. `sdk` (default): the SDK, honouring Retry-After (never `insufficient_quota`, which
   * waiting cannot fix). `caller`: nobody here; the call fails at once with `PROVIDER_RATE_LIMIT` and the
   * server's Retry-After, for {@link withRateLimit} to pause every call and retry.
   */
  rateLimits?: 'sdk' | 'caller' | undefined;
  /**
   * Azure OpenAI: requests go to `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`
   * with an `api-key` header. Without `deployment` the request's model names the deployment.
   */
  azure?: { endpoint: string; deployment?: string | undefined; apiVersion: string } | undefined;
  /** An overall deadline per call (default 20 minutes) and the answer-size limit for code calls. */
  limits?: Partial<CallLimits> | undefined;
}

export { OPENAI_BASE_URL };
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
/** Retries of 408/409/5xx and connection errors (and 429 in `sdk` mode), with the SDK's backoff (0.5s, 1s, 2s ... 8s). */
export const DEFAULT_MAX_RETRIES = 3;

/**
 * A {@link Provider} on the official `openai` SDK, for OpenAI and every OpenAI-compatible server
 * (Ollama, llama.cpp, vLLM, LM Studio, gateways). Every call streams, within an overall deadline and an
 * answer-size limit.
 *
 * Retries are the SDK's own (408/409/5xx and connection errors, honouring `retry-after-ms` and
 * `Retry-After`; 429s too unless `rateLimits: 'caller'`). A 429 `insufficient_quota` is never retried:
 * a wrapped `fetch` marks it `x-should-retry: false` before the SDK decides.
 *
 * Servers differ in what they take, and the provider learns it once and remembers it for its lifetime:
 * a server refusing tools or a response schema (llama.cpp without `--jinja` answers 500) fails the call
 * at once with PROVIDER_TOOLS_UNSUPPORTED / PROVIDER_SCHEMA_UNSUPPORTED, and every later such call
 * without asking; a forced tool call goes as `tool_choice: "required"` to local servers (llama.cpp
 * takes only a string there and silently ignores the object) and as OpenAI's object to OpenAI and Azure,
 * switching to the other form once when a server refuses one.
 */
export function createOpenAIProvider(options: OpenAIProviderOptions = {}): Provider {
  const { client, context } = createOpenAIClient(options);
  const where = `${context.providerName} at ${context.baseURL}`;
  const deadlineMs = options.limits?.deadlineMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const native = context.providerName === 'openai' || context.providerName === 'azure';
  const learnt: LearntServer = { toolChoice: native ? 'object' : 'string', refused: new Map() };

  const attempt = (request: CompletionRequest, callOptions: CompleteOptions, signal: AbortSignal | undefined) =>
    streamChatCompletion(
      client,
      request,
      { ...callOptions, signal },
      {
        ...context,
        model: request.model,
        signal,
        toolChoice: learnt.toolChoice,
        strictSchemas: native,
        maxFileBytes: options.limits?.maxFileBytes,
      },
    );

  return {
    name: context.providerName,
    complete(request, callOptions = {}) {
      const refused = featuresOf(request).find((feature) => learnt.refused.has(feature));
      if (refused !== undefined)
        return Promise.reject(unsupportedError(refused, where, learnt.refused.get(refused) ?? ''));
      return withCallSignal(
        callOptions.signal,
        (signal) => attemptLearning(learnt, where, request, () => attempt(request, callOptions, signal)),
        { ms: deadlineMs, error: () => deadlineError(where, deadlineMs) },
      );
    },
  };
}

/** What the provider has learnt of its server, for its lifetime. */
interface LearntServer {
  toolChoice: ToolChoiceForm;
  /** Features the server refused, with its own words. */
  refused: Map<UnsupportedFeature, string>;
}

/** One call; a refused feature is learnt (a refused tool-choice form is tried once in the other form). */
async function attemptLearning(
  learnt: LearntServer,
  where: string,
  request: CompletionRequest,
  attempt: () => Promise<CompletionResult>,
): Promise<CompletionResult> {
  try {
    return await attempt();
  } catch (error) {
    let failure = error;
    let feature = refusalOf(request, failure);
    if (feature === 'tool-choice') {
      // Refused in one form: try the other once, and keep whichever works.
      learnt.toolChoice = learnt.toolChoice === 'object' ? 'string' : 'object';
      try {
        return await attempt();
      } catch (second) {
        failure = second;
        feature = refusalOf(request, second);
        // Neither form: the server cannot force a tool call, which is all smol uses tools for.
        if (feature === 'tool-choice') feature = 'tools';
      }
    }
    if (feature === undefined) throw failure;
    const words = serverWords(failure);
    learnt.refused.set(feature, words);
    throw unsupportedError(feature, where, words, failure);
  }
}

/**
 * The feature of `request` a failed call says the server refused: only from a 4xx other than auth,
 * not-found and rate limits, or a 5xx (how servers refuse what a request asks for).
 */
function refusalOf(request: CompletionRequest, error: unknown): 'tools' | 'tool-choice' | 'json-schema' | undefined {
  if (!(error instanceof ProviderError) || error.status === undefined) return undefined;
  const refusal =
    error.status >= 500 || (error.status >= 400 && ![401, 402, 403, 404, 408, 409, 429].includes(error.status));
  return refusal ? refusedFeature(request, error.message) : undefined;
}

function featuresOf(request: CompletionRequest): UnsupportedFeature[] {
  const features: UnsupportedFeature[] = [];
  if (request.tools !== undefined && request.tools.length > 0) features.push('tools');
  if (request.responseFormat !== undefined) features.push('json-schema');
  return features;
}

/** The server's own words in a mapped error (after the colon smol puts before them). */
function serverWords(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const colon = message.indexOf(': ');
  return colon === -1 ? message : message.slice(colon + 2);
}

/**
 * The SDK client behind {@link createOpenAIProvider} (also used by `smol doctor` to list models), and
 * what error messages may say about it (the base URL with credentials redacted).
 */
export function createOpenAIClient(options: OpenAIProviderOptions = {}): {
  client: OpenAI;
  context: Omit<ErrorContext, 'model' | 'signal'>;
} {
  const name = options.name ?? (options.azure === undefined ? 'openai' : 'azure');
  const apiKeyVariable = options.apiKeyVariable ?? (name === 'azure' ? 'AZURE_OPENAI_API_KEY' : 'OPENAI_API_KEY');
  const apiKey = options.apiKey === undefined || options.apiKey === '' ? undefined : options.apiKey;
  if ((name === 'openai' || name === 'azure') && apiKey === undefined) {
    throw new SmolError('PROVIDER_NO_KEY', `No ${name === 'azure' ? 'Azure OpenAI' : 'OpenAI'} API key was given.`, {
      exitCode: 2,
      runWide: 'stop-calls',
      hint: `Set ${apiKeyVariable}, or for a local server set \`provider: openai-compatible\` and \`baseURL\`.`,
    });
  }
  const timeoutMs = Math.max(1, Math.ceil(options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const rateLimits = options.rateLimits ?? 'sdk';
  const transport: ClientTransport = {
    apiKey,
    maxRetries,
    timeout: timeoutMs,
    fetch: guardedFetch(options.fetch, rateLimits),
  };
  const { client, shownURL } =
    options.azure === undefined ? openAIClient(options, transport) : azureClient(options, options.azure, transport);
  return {
    client,
    context: {
      providerName: name,
      baseURL: shownURL,
      apiKeyVariable,
      maxRetries,
      timeoutMs,
      apiKey,
      sdkRetriesRateLimits: rateLimits === 'sdk',
    },
  };
}

/** What both clients are built with. */
interface ClientTransport {
  apiKey: string | undefined;
  maxRetries: number;
  timeout: number;
  fetch: typeof fetch;
}

// Everything is passed explicitly (null = none) because the SDK otherwise falls back to
// process.env (OPENAI_BASE_URL, OPENAI_ORG_ID, ...), and the library only reads the env it is given.

function azureClient(
  options: OpenAIProviderOptions,
  azure: NonNullable<OpenAIProviderOptions['azure']>,
  transport: ClientTransport,
): { client: OpenAI; shownURL: string } {
  // `baseURL` rather than `endpoint`: given no baseURL, the Azure client reads OPENAI_BASE_URL itself.
  const baseURL = `${azure.endpoint.replace(/\/+$/, '')}/openai`;
  const client = new AzureOpenAI({
    ...transport,
    apiKey: transport.apiKey ?? '',
    baseURL,
    apiVersion: azure.apiVersion,
    deployment: azure.deployment,
    organization: null,
    project: null,
    defaultHeaders: options.defaultHeaders,
  });
  return { client, shownURL: redactURL(baseURL) };
}

function openAIClient(
  options: OpenAIProviderOptions,
  transport: ClientTransport,
): { client: OpenAI; shownURL: string } {
  const given = (options.baseURL ?? OPENAI_BASE_URL).replace(/\/+$/, '');
  const { baseURL, query, authorization } = splitURL(given);
  const client = new OpenAI({
    ...transport,
    // Local servers ignore the key, but the SDK refuses to start without one.
    apiKey: transport.apiKey ?? 'not-needed',
    baseURL,
    organization: options.organization ?? null,
    project: options.project ?? null,
    ...(query === undefined ? {} : { defaultQuery: query }),
    defaultHeaders: {
      ...(authorization === undefined ? {} : { Authorization: authorization }),
      ...options.defaultHeaders,
    },
  });
  return { client, shownURL: redactURL(given) };
}
