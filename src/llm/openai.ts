import OpenAI, { AzureOpenAI } from 'openai';
import type { Stream } from 'openai/streaming';
import { SmolError } from '../errors.js';
import { AbortError, ProviderError } from './errors.js';
import { estimateUsage } from './estimate.js';
import { toProviderError, type ErrorContext } from './openai-errors.js';
import { abortable, guardedFetch, smolHeaders, withCallSignal, idleWatchdog } from './provider-errors.js';
import type {
  CompleteOptions,
  CompletionRequest,
  CompletionResult,
  FinishReason,
  Provider,
  ToolCall,
  Usage,
} from './types.js';

export interface OpenAIProviderOptions {
  /** Required for `openai` and `azure`; local servers need none. */
  apiKey?: string;
  /** Defaults to `https://api.openai.com/v1`. */
  baseURL?: string;
  /** `openai` (the default; `azure` with `azure`), `ollama` or `openai-compatible`; named in messages. */
  name?: string;
  /** Retries of 408/409/5xx (and 429 in `sdk` mode) and connection errors, by the SDK honouring Retry-After. Default 3. */
  maxRetries?: number;
  /** Time allowed for the response to start, and then between two streamed chunks. Default 10 minutes. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  defaultHeaders?: Record<string, string>;
  /** Sent as `OpenAI-Organization` / `OpenAI-Project`. */
  organization?: string;
  project?: string;
  /** The environment variable the key comes from, named in hints. Default `OPENAI_API_KEY`. */
  apiKeyVariable?: string;
  /**
   * Who retries a 429. `sdk` (default): the SDK, honouring Retry-After (never `insufficient_quota`, which
   * waiting cannot fix). `caller`: nobody here; the call fails at once with `PROVIDER_RATE_LIMIT` and the
   * server's Retry-After, for {@link withRateLimit} to pause every call and retry.
   */
  rateLimits?: 'sdk' | 'caller';
  /**
   * Azure OpenAI: requests go to `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`
   * with an `api-key` header. Without `deployment` the request's model names the deployment.
   */
  azure?: { endpoint: string; deployment?: string; apiVersion: string };
}

import { OPENAI_BASE_URL } from './endpoints.js';

export { OPENAI_BASE_URL };
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
/** Retries of 408/409/5xx and connection errors (and 429 in `sdk` mode), with the SDK's backoff (0.5s, 1s, 2s ... 8s). */
export const DEFAULT_MAX_RETRIES = 3;

/**
 * A {@link Provider} on the official `openai` SDK, for OpenAI and every OpenAI-compatible server
 * (Ollama, llama.cpp, vLLM, LM Studio, gateways). Every call streams.
 *
 * Retries are the SDK's own (408/409/5xx and connection errors, honouring `retry-after-ms` and
 * `Retry-After`; 429s too unless `rateLimits: 'caller'`). A 429 `insufficient_quota` is never retried:
 * a wrapped `fetch` marks it `x-should-retry: false` before the SDK decides.
 */
export function createOpenAIProvider(options: OpenAIProviderOptions = {}): Provider {
  const { client, context } = createOpenAIClient(options);
  return {
    name: context.providerName,
    complete(request, callOptions = {}) {
      return withCallSignal(callOptions.signal, (signal) =>
        streamCompletion(client, request, { ...callOptions, ...(signal === undefined ? {} : { signal }) }, { ...context, model: request.model, signal }),
      );
    },
  };
}

/**
 * The SDK client behind {@link createOpenAIProvider} (also used by `smol doctor` to list models), and
 * what error messages may say about it.
 */
export function createOpenAIClient(options: OpenAIProviderOptions = {}): { client: OpenAI; context: Omit<ErrorContext, 'model' | 'signal'> } {
  const name = options.name ?? (options.azure === undefined ? 'openai' : 'azure');
  const apiKeyVariable = options.apiKeyVariable ?? (name === 'azure' ? 'AZURE_OPENAI_API_KEY' : 'OPENAI_API_KEY');
  const apiKey = options.apiKey === undefined || options.apiKey === '' ? undefined : options.apiKey;
  if ((name === 'openai' || name === 'azure') && apiKey === undefined) {
    throw new SmolError('PROVIDER_NO_KEY', `No ${name === 'azure' ? 'Azure OpenAI' : 'OpenAI'} API key was given.`, {
      exitCode: 2,
      hint: `Set ${apiKeyVariable}, or for a local server set \`provider: openai-compatible\` and \`baseURL\`.`,
    });
  }
  const timeoutMs = Math.max(1, Math.ceil(options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const rateLimits = options.rateLimits ?? 'sdk';
  const fetch = guardedFetch(options.fetch, rateLimits);

  // Everything is passed explicitly (null = none) because the SDK otherwise falls back to
  // process.env (OPENAI_BASE_URL, OPENAI_ORG_ID, ...), and the library only reads the env it is given.
  let client: OpenAI;
  let baseURL: string;
  if (options.azure !== undefined) {
    // `baseURL` rather than `endpoint`: given no baseURL, the Azure client reads OPENAI_BASE_URL itself.
    baseURL = `${options.azure.endpoint.replace(/\/+$/, '')}/openai`;
    client = new AzureOpenAI({
      apiKey: apiKey ?? '',
      baseURL,
      apiVersion: options.azure.apiVersion,
      ...(options.azure.deployment === undefined ? {} : { deployment: options.azure.deployment }),
      organization: null,
      project: null,
      maxRetries,
      timeout: timeoutMs,
      fetch,
      defaultHeaders: options.defaultHeaders,
    });
  } else {
    baseURL = (options.baseURL ?? OPENAI_BASE_URL).replace(/\/+$/, '');
    client = new OpenAI({
      // Local servers ignore the key, but the SDK refuses to start without one.
      apiKey: apiKey ?? 'not-needed',
      baseURL,
      organization: options.organization ?? null,
      project: options.project ?? null,
      maxRetries,
      timeout: timeoutMs,
      fetch,
      defaultHeaders: options.defaultHeaders,
    });
  }
  return {
    client,
    context: { providerName: name, baseURL, apiKeyVariable, maxRetries, timeoutMs, apiKey, sdkRetriesRateLimits: rateLimits === 'sdk' },
  };
}

async function streamCompletion(
  client: OpenAI,
  request: CompletionRequest,
  { signal, onToken }: CompleteOptions,
  context: ErrorContext,
): Promise<CompletionResult> {
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });

  const headers = smolHeaders(request);

  let stream: Stream<OpenAI.ChatCompletionChunk>;
  try {
    stream = await abortable(client.chat.completions.create(toParams(request), { signal, headers }), signal);
  } catch (error) {
    throw toProviderError(error, context);
  }

  let text = '';
  const toolCalls: { id: string | undefined; name: string; arguments: string }[] = [];
  let usage: Usage | undefined;
  let finishReason: FinishReason | undefined;

  const idle = idleWatchdog(context.timeoutMs, () => stream.controller.abort());
  let callbackFailed = false;

  try {
    idle.kick();
    for await (const chunk of stream) {
      idle.kick();
      if (chunk.usage !== undefined && chunk.usage !== null) {
        usage = {
          inputTokens: chunk.usage.prompt_tokens,
          outputTokens: chunk.usage.completion_tokens,
          estimated: false,
        };
      }
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      const content = choice.delta?.content;
      if (typeof content === 'string' && content !== '') {
        text += content;
        try {
          onToken?.(content);
        } catch (error) {
          callbackFailed = true;
          throw error;
        }
      }
      for (const fragment of choice.delta?.tool_calls ?? []) {
        collectToolCall(toolCalls, fragment);
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
        finishReason = toFinishReason(choice.finish_reason);
      }
    }
  } catch (error) {
    if (callbackFailed) throw error;
    throw idle.stalled ? stallError(context, error) : toProviderError(error, context);
  } finally {
    idle.stop();
  }
  // On abort the SDK ends the stream quietly instead of throwing, so the loop above just stops.
  if (aborted(signal)) throw new AbortError(undefined, { cause: signal?.reason });
  if (idle.stalled) throw stallError(context, undefined);

  const calls: ToolCall[] = toolCalls.map((call) => ({ name: call.name, arguments: call.arguments }));
  return {
    text,
    toolCalls: calls,
    usage: usage ?? estimateUsage(request, { text, toolCalls: calls }),
    // A stream that ended without a finish reason was cut short somewhere; callers must not trust it.
    finishReason: finishReason ?? 'other',
  };
}

// A function so TypeScript does not keep the narrowing from the check before the stream started.
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function toParams(request: CompletionRequest): OpenAI.ChatCompletionCreateParamsStreaming {
  return {
    model: request.model,
    messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
    stream: true,
    stream_options: { include_usage: true },
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    // `max_tokens` rather than `max_completion_tokens`: every compatible server understands it.
    ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    ...(request.tools === undefined || request.tools.length === 0 ?
      {}
    : {
        tools: request.tools.map((tool) => ({
          type: 'function' as const,
          function: { name: tool.name, description: tool.description, parameters: tool.parameters },
        })),
      }),
    ...(request.toolChoice === undefined ?
      {}
    : { tool_choice: { type: 'function' as const, function: { name: request.toolChoice } } }),
  };
}

/** Joins streamed tool-call fragments: the first carries id and name, later ones argument pieces. */
function collectToolCall(
  calls: { id: string | undefined; name: string; arguments: string }[],
  fragment: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall,
): void {
  // Some compatible servers omit `index`; fall back to the id, then to "a new id starts a new call".
  let slot =
    typeof fragment.index === 'number' ? fragment.index
    : fragment.id === undefined ? calls.length - 1
    : calls.findIndex((call) => call.id === fragment.id);
  if (slot < 0) slot = calls.length;
  while (calls.length <= slot) calls.push({ id: undefined, name: '', arguments: '' });
  const call = calls[slot]!;
  if (fragment.id !== undefined && call.id === undefined) call.id = fragment.id;
  if (fragment.function?.name !== undefined && call.name === '') call.name = fragment.function.name;
  if (fragment.function?.arguments !== undefined) call.arguments += fragment.function.arguments;
}

function toFinishReason(reason: string): FinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'tool_calls':
    case 'content_filter':
      return reason;
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

function stallError(context: ErrorContext, cause: unknown): ProviderError {
  return new ProviderError(
    'PROVIDER_TIMEOUT',
    `${context.providerName} at ${context.baseURL} stopped sending for ${context.timeoutMs / 1000}s in the middle of an answer.`,
    {
      cause,
      hint: 'Check the server is not overloaded, or allow more time with a larger timeout.',
    },
  );
}
