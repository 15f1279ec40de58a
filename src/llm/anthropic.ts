import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { SmolError } from '../errors.js';
import { AbortError, ProviderError } from './errors.js';
import { answerMeter, deadlineError, DEFAULT_CALL_TIMEOUT_MS, type CallLimits } from './call-limits.js';
import { ANTHROPIC_BASE_URL } from './endpoints.js';
import { estimateUsageAsync } from './estimate.js';
import { captureConsoleWarnings } from './sdk-notices.js';
import { abortable, guardedFetch, mapFailure, smolHeaders, withCallSignal, idleWatchdog, type ErrorContext, type SdkFailure } from './provider-errors.js';
import { MAX_TOOL_CALLS } from './tool-call-fragments.js';
import { redactURL, splitURL } from './url.js';
import type { CompleteOptions, CompletionRequest, CompletionResult, FinishReason, Provider, ToolCall, Usage } from './types.js';

export interface AnthropicProviderOptions {
  apiKey?: string;
  /** The server root, without `/v1`. Defaults to `https://api.anthropic.com`. */
  baseURL?: string;
  /** Retries of 408/409/5xx/529 and connection errors by the SDK (429s too with `rateLimits: 'sdk'`). Default 3. */
  maxRetries?: number;
  /** Time allowed for the response to start, and then between two streamed events. Default 10 minutes. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  defaultHeaders?: Record<string, string>;
  /** Who retries a 429: the SDK (`sdk`, default) or a rate-limit wrapper above (`caller`); see the OpenAI adapter. */
  rateLimits?: 'sdk' | 'caller';
  /** Used when a request has no `maxTokens` (the API requires one). Default 8192. */
  defaultMaxTokens?: number;
  /** An overall deadline per call (default 20 minutes) and the answer-size limit for code calls. */
  limits?: Partial<CallLimits>;
}

export { ANTHROPIC_BASE_URL };
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
const DEFAULT_MAX_RETRIES = 3;

/**
 * A {@link Provider} on the official Anthropic SDK (Messages API). Every call streams; the file list uses
 * tool use with a forced `tool_choice`, whose arguments arrive as `input_json_delta` fragments. System
 * messages become the `system` prompt; temperature is capped at 1 (the API's maximum).
 */
export function createAnthropicProvider(options: AnthropicProviderOptions = {}): Provider {
  const { client, context } = createAnthropicClient(options);
  const defaultMaxTokens = options.defaultMaxTokens ?? 8192;
  const deadlineMs = options.limits?.deadlineMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const where = `anthropic at ${context.baseURL}`;
  return {
    name: 'anthropic',
    complete(request, callOptions = {}) {
      return withCallSignal(
        callOptions.signal,
        (signal) =>
          streamMessage(
            client,
            request,
            { ...callOptions, ...(signal === undefined ? {} : { signal }) },
            { ...context, model: request.model, signal },
            { defaultMaxTokens, maxFileBytes: options.limits?.maxFileBytes },
          ),
        { ms: deadlineMs, error: () => deadlineError(where, deadlineMs) },
      );
    },
  };
}

/** The SDK client behind {@link createAnthropicProvider} (also used by `smol doctor`). */
export function createAnthropicClient(options: AnthropicProviderOptions = {}): {
  client: Anthropic;
  context: Omit<ErrorContext, 'model' | 'signal'>;
} {
  const apiKey = options.apiKey === undefined || options.apiKey === '' ? undefined : options.apiKey;
  if (apiKey === undefined) {
    throw new SmolError('PROVIDER_NO_KEY', 'No Anthropic API key was given.', {
      exitCode: 2,
      hint: 'Set ANTHROPIC_API_KEY (create one in the Anthropic Console, Settings > API keys).',
    });
  }
  const given = (options.baseURL ?? ANTHROPIC_BASE_URL).replace(/\/+$/, '');
  const { baseURL, query, authorization } = splitURL(given);
  const timeoutMs = Math.max(1, Math.ceil(options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  const rateLimits = options.rateLimits ?? 'sdk';
  // Key and base URL are passed explicitly: the SDK would otherwise read ANTHROPIC_* from process.env
  // (and, lacking a key, profile files), and the library only reads the env it is given.
  const client = new Anthropic({
    apiKey,
    baseURL,
    webhookKey: null,
    maxRetries,
    timeout: timeoutMs,
    fetch: guardedFetch(options.fetch, rateLimits),
    logLevel: 'off',
    ...(query === undefined ? {} : { defaultQuery: query }),
    defaultHeaders: { ...(authorization === undefined ? {} : { Authorization: authorization }), ...options.defaultHeaders },
  });
  return {
    client,
    context: {
      providerName: 'anthropic',
      baseURL: redactURL(given),
      apiKeyVariable: 'ANTHROPIC_API_KEY',
      maxRetries,
      timeoutMs,
      apiKey,
      sdkRetriesRateLimits: rateLimits === 'sdk',
    },
  };
}

/** Maps whatever the Anthropic SDK threw to a ProviderError / AbortError (bugs pass through). */
export function toAnthropicError(error: unknown, context: ErrorContext): unknown {
  return mapFailure(classifyAnthropicError(error), error, context);
}

export function classifyAnthropicError(error: unknown): SdkFailure | undefined {
  if (error instanceof APIUserAbortError) return { kind: 'abort' };
  if (error instanceof APIConnectionTimeoutError) return { kind: 'timeout' };
  if (error instanceof APIConnectionError) return { kind: 'connection' };
  if (!(error instanceof APIError)) return undefined;
  const body = error.error as { error?: { message?: unknown; type?: unknown } } | undefined;
  const message = error.apiMessage ?? (typeof body?.error?.message === 'string' ? body.error.message : error.message.replace(/^\d{3}\s+/, ''));
  return {
    kind: 'status',
    status: typeof error.status === 'number' ? error.status : undefined,
    headers: error.headers,
    message,
    type: error.type ?? (typeof body?.error?.type === 'string' ? body.error.type : undefined),
    code: error.errorCode ?? undefined,
  };
}

type StreamEvent = Anthropic.Messages.RawMessageStreamEvent;

async function streamMessage(
  client: Anthropic,
  request: CompletionRequest,
  { signal, onToken }: CompleteOptions,
  context: ErrorContext,
  { defaultMaxTokens, maxFileBytes }: { defaultMaxTokens: number; maxFileBytes: number | undefined },
): Promise<CompletionResult> {
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });

  let stream: AsyncIterable<StreamEvent> & { controller: AbortController };
  try {
    stream = await abortable(
      // The SDK warns about deprecated models on the console, once per call: smol says it once itself.
      captureConsoleWarnings('anthropic', () => client.messages.create(toParams(request, defaultMaxTokens), { signal: signal ?? null, headers: smolHeaders(request) })),
      signal,
    );
  } catch (error) {
    throw toAnthropicError(error, context);
  }

  let text = '';
  const blocks = new Map<number, { name: string; json: string }>();
  let inputTokens: number | undefined;
  let outputTokens: number | undefined;
  let stopReason: string | null | undefined;

  const idle = idleWatchdog(context.timeoutMs, () => stream.controller.abort());
  const meter = answerMeter(request, maxFileBytes, `anthropic at ${context.baseURL}`);
  let callbackFailed = false;

  try {
    idle.kick();
    for await (const event of stream) {
      idle.kick();
      switch (event.type) {
        case 'message_start': {
          // Optional on the wire for compatible gateways, though the API always sends it.
          const usage = event.message.usage as Anthropic.Messages.Usage | undefined;
          if (usage !== undefined && typeof usage.input_tokens === 'number') {
            inputTokens = usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
            outputTokens = usage.output_tokens;
          }
          break;
        }
        case 'content_block_start':
          if (event.content_block.type === 'tool_use') {
            if (blocks.size >= MAX_TOOL_CALLS) {
              callbackFailed = true;
              throw new ProviderError('PROVIDER_BAD_RESPONSE', `anthropic at ${context.baseURL} sent more than ${MAX_TOOL_CALLS} tool calls in one answer.`, {
                hint: 'Check `baseURL` points to a real Anthropic-compatible server.',
              });
            }
            blocks.set(event.index, { name: event.content_block.name, json: '' });
          }
          break;
        case 'content_block_delta':
          if (event.delta.type === 'text_delta' && event.delta.text !== '') {
            try {
              meter.add(event.delta.text);
              text += event.delta.text;
              onToken?.(event.delta.text);
            } catch (error) {
              callbackFailed = true;
              throw error;
            }
          } else if (event.delta.type === 'input_json_delta') {
            const block = blocks.get(event.index);
            try {
              meter.add(event.delta.partial_json);
            } catch (error) {
              callbackFailed = true;
              throw error;
            }
            if (block !== undefined) block.json += event.delta.partial_json;
          }
          break;
        case 'message_delta': {
          stopReason = event.delta.stop_reason;
          // Cumulative counts: the last message_delta has the totals.
          const usage = event.usage as Anthropic.Messages.MessageDeltaUsage | undefined;
          if (typeof usage?.output_tokens === 'number') outputTokens = usage.output_tokens;
          if (typeof usage?.input_tokens === 'number') inputTokens = usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
          break;
        }
        default:
          break;
      }
    }
  } catch (error) {
    if (callbackFailed) {
      stream.controller.abort();
      throw error;
    }
    throw idle.stalled ? stallError(context, error) : toAnthropicError(error, context);
  } finally {
    idle.stop();
  }
  // On abort the SDK ends the stream quietly instead of throwing, so the loop above just stops.
  if (aborted(signal)) throw new AbortError(undefined, { cause: signal?.reason });
  if (idle.stalled) throw stallError(context, undefined);

  // A tool call with no argument fragments means an empty object (the API sends `{}` as input).
  let toolCalls: ToolCall[] = [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, block]) => ({ name: block.name, arguments: block.json === '' ? '{}' : block.json }));
  // A response schema was asked for as a forced tool call: its input is the answer's text.
  const schemaAnswer = request.responseFormat === undefined ? undefined : toolCalls.find((call) => call.name === request.responseFormat?.name);
  if (schemaAnswer !== undefined) {
    text = schemaAnswer.arguments;
    toolCalls = toolCalls.filter((call) => call !== schemaAnswer);
  }
  const usage: Usage =
    inputTokens === undefined || outputTokens === undefined ?
      await estimateUsageAsync(request, { text, toolCalls }, signal)
    : { inputTokens, outputTokens, estimated: false };
  const finishReason = toFinishReason(stopReason);
  return { text, toolCalls, usage, finishReason: schemaAnswer !== undefined && finishReason === 'tool_calls' ? 'stop' : finishReason };
}

// A function so TypeScript does not keep the narrowing from the check before the stream started.
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function toParams(request: CompletionRequest, defaultMaxTokens: number): Anthropic.Messages.MessageCreateParamsStreaming {
  const system = request.messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n\n');
  const messages: Anthropic.Messages.MessageParam[] = [];
  for (const message of request.messages) {
    if (message.role === 'system') continue;
    const last = messages.at(-1);
    // Consecutive turns of one role are joined: the API wants user and assistant to alternate.
    if (last !== undefined && last.role === message.role && typeof last.content === 'string') last.content += `\n\n${message.content}`;
    else messages.push({ role: message.role, content: message.content });
  }
  // A response schema becomes a forced call of a tool with that schema (the Messages API's reliable way).
  const tools = [...(request.tools ?? [])];
  let toolChoice = request.toolChoice;
  if (request.responseFormat !== undefined) {
    tools.push({ name: request.responseFormat.name, description: 'Give your answer as the input of this tool.', parameters: request.responseFormat.schema });
    toolChoice ??= request.responseFormat.name;
  }
  return {
    model: request.model,
    max_tokens: request.maxTokens ?? defaultMaxTokens,
    messages,
    stream: true,
    ...(system === '' ? {} : { system }),
    ...(request.temperature === undefined ? {} : { temperature: Math.min(1, Math.max(0, request.temperature)) }),
    ...(tools.length === 0 ?
      {}
    : {
        tools: tools.map((tool) => ({
          name: tool.name,
          description: tool.description,
          input_schema: { type: 'object' as const, ...tool.parameters },
        })),
      }),
    ...(toolChoice === undefined ? {} : { tool_choice: { type: 'tool' as const, name: toolChoice } }),
  };
}

function toFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      // No stop reason means the stream ended early; callers must not trust the answer.
      return 'other';
  }
}

function stallError(context: ErrorContext, cause: unknown): ProviderError {
  return new ProviderError(
    'PROVIDER_TIMEOUT',
    `${context.providerName} at ${context.baseURL} stopped sending for ${context.timeoutMs / 1000}s in the middle of an answer.`,
    { cause, hint: 'Check the server is not overloaded, or allow more time with a larger timeout.' },
  );
}
