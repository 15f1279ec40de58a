import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { SmolError } from '../errors.js';
import { ProviderError } from './errors.js';
import {
  answerMeter,
  deadlineError,
  DEFAULT_CALL_TIMEOUT_MS,
  type AnswerMeter,
  type CallLimits,
} from './call-limits.js';
import { estimateUsageAsync } from './estimate.js';
import { captureConsoleWarnings } from './sdk-notices.js';
import { mapFailure, type ErrorContext, type SdkFailure } from './sdk-failures.js';
import { readStream, toFinishReason } from './stream-call.js';
import { MAX_TOOL_CALLS } from './tool-call-fragments.js';
import { guardedFetch, smolHeaders, withCallSignal } from './transport.js';
import { redactURL, splitURL } from './url.js';
import type {
  CompleteOptions,
  CompletionRequest,
  CompletionResult,
  FinishReason,
  Provider,
  ToolCall,
  Usage,
} from './types.js';

export interface AnthropicProviderOptions {
  apiKey?: string | undefined;
  /** The server root, without `/v1`. Defaults to `https://api.anthropic.com`. */
  baseURL?: string | undefined;
  /** Retries of 408/409/5xx/529 and connection errors by the SDK (429s too with `rateLimits: 'sdk'`). Default 3. */
  maxRetries?: number | undefined;
  /** Time allowed for the response to start, and then between two streamed events. Default 10 minutes. */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
  defaultHeaders?: Record<string, string> | undefined;
  /** Who retries a 429: the SDK (`sdk`, default) or a rate-limit wrapper above (`caller`); see the OpenAI adapter. */
  rateLimits?: 'sdk' | 'caller' | undefined;
  /** Used when a request has no `maxTokens` (the API requires one). Default 8192. */
  defaultMaxTokens?: number | undefined;
  /** An overall deadline per call (default 20 minutes) and the answer-size limit for code calls. */
  limits?: Partial<CallLimits> | undefined;
}

import { ANTHROPIC_BASE_URL } from './endpoints.js';

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
            { ...callOptions, signal },
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
      runWide: 'stop-calls',
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
    defaultHeaders: {
      ...(authorization === undefined ? {} : { Authorization: authorization }),
      ...options.defaultHeaders,
    },
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
  const message =
    error.apiMessage ??
    (typeof body?.error?.message === 'string' ? body.error.message : error.message.replace(/^\d{3}\s+/, ''));
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

/** What a Messages stream has said so far. */
interface MessageSoFar {
  text: string;
  /** Tool-use blocks by index: the tool's name and its input's JSON fragments joined. */
  blocks: Map<number, { name: string; json: string }>;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  stopReason: string | null | undefined;
}

async function streamMessage(
  client: Anthropic,
  request: CompletionRequest,
  { signal, onToken }: CompleteOptions,
  context: ErrorContext,
  { defaultMaxTokens, maxFileBytes }: { defaultMaxTokens: number; maxFileBytes: number | undefined },
): Promise<CompletionResult> {
  const message: MessageSoFar = {
    text: '',
    blocks: new Map(),
    inputTokens: undefined,
    outputTokens: undefined,
    stopReason: undefined,
  };
  const meter = answerMeter(request, maxFileBytes, `anthropic at ${context.baseURL}`);
  await readStream<StreamEvent>({
    open: () =>
      // The SDK warns about deprecated models on the console, once per call: smol says it once itself.
      captureConsoleWarnings('anthropic', () =>
        client.messages.create(toParams(request, defaultMaxTokens), {
          signal: signal ?? null,
          headers: smolHeaders(request),
        }),
      ),
    mapError: (error) => toAnthropicError(error, context),
    context,
    signal,
    onEvent: (event) => addEvent(message, event, { meter, onToken, context }),
  });
  return toResult(request, message, signal);
}

/** One stream event into `message`. Throws past the answer-size limit or the tool-call cap. */
function addEvent(
  message: MessageSoFar,
  event: StreamEvent,
  {
    meter,
    onToken,
    context,
  }: { meter: AnswerMeter; onToken: ((text: string) => void) | undefined; context: ErrorContext },
): void {
  switch (event.type) {
    case 'message_start': {
      // Optional on the wire for compatible gateways, though the API always sends it.
      const usage = event.message.usage as Anthropic.Messages.Usage | undefined;
      if (usage !== undefined && typeof usage.input_tokens === 'number') {
        message.inputTokens = inputTokensOf(usage);
        message.outputTokens = usage.output_tokens;
      }
      break;
    }
    case 'content_block_start':
      if (event.content_block.type !== 'tool_use') break;
      if (message.blocks.size >= MAX_TOOL_CALLS) {
        throw new ProviderError(
          'PROVIDER_BAD_RESPONSE',
          `anthropic at ${context.baseURL} sent more than ${MAX_TOOL_CALLS} tool calls in one answer.`,
          {
            hint: 'Check `baseURL` points to a real Anthropic-compatible server.',
          },
        );
      }
      message.blocks.set(event.index, { name: event.content_block.name, json: '' });
      break;
    case 'content_block_delta':
      if (event.delta.type === 'text_delta' && event.delta.text !== '') {
        meter.add(event.delta.text);
        message.text += event.delta.text;
        onToken?.(event.delta.text);
      } else if (event.delta.type === 'input_json_delta') {
        meter.add(event.delta.partial_json);
        const block = message.blocks.get(event.index);
        if (block !== undefined) block.json += event.delta.partial_json;
      }
      break;
    case 'message_delta': {
      message.stopReason = event.delta.stop_reason;
      // Cumulative counts: the last message_delta has the totals.
      const usage = event.usage as Anthropic.Messages.MessageDeltaUsage | undefined;
      if (typeof usage?.output_tokens === 'number') message.outputTokens = usage.output_tokens;
      if (typeof usage?.input_tokens === 'number') message.inputTokens = inputTokensOf(usage);
      break;
    }
    default:
      break;
  }
}

/** Input tokens including those written to and read from the prompt cache. */
function inputTokensOf(usage: {
  input_tokens: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}): number {
  return (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

async function toResult(
  request: CompletionRequest,
  message: MessageSoFar,
  signal: AbortSignal | undefined,
): Promise<CompletionResult> {
  const { inputTokens, outputTokens } = message;
  let { text } = message;
  // A tool call with no argument fragments means an empty object (the API sends `{}` as input).
  let toolCalls: ToolCall[] = [...message.blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, block]) => ({ name: block.name, arguments: block.json === '' ? '{}' : block.json }));
  // A response schema was asked for as a forced tool call: its input is the answer's text.
  const schemaAnswer =
    request.responseFormat === undefined
      ? undefined
      : toolCalls.find((call) => call.name === request.responseFormat?.name);
  if (schemaAnswer !== undefined) {
    text = schemaAnswer.arguments;
    toolCalls = toolCalls.filter((call) => call !== schemaAnswer);
  }
  const usage: Usage =
    inputTokens === undefined || outputTokens === undefined
      ? await estimateUsageAsync(request, { text, toolCalls }, signal)
      : { inputTokens, outputTokens, estimated: false };
  const finishReason = toFinishReason(message.stopReason, FINISH_REASONS);
  return {
    text,
    toolCalls,
    usage,
    finishReason: schemaAnswer !== undefined && finishReason === 'tool_calls' ? 'stop' : finishReason,
  };
}

function toParams(
  request: CompletionRequest,
  defaultMaxTokens: number,
): Anthropic.Messages.MessageCreateParamsStreaming {
  const system = request.messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n\n');
  const messages: Anthropic.Messages.MessageParam[] = [];
  for (const message of request.messages) {
    if (message.role === 'system') continue;
    const last = messages.at(-1);
    // Consecutive turns of one role are joined: the API wants user and assistant to alternate.
    if (last !== undefined && last.role === message.role && typeof last.content === 'string')
      last.content += `\n\n${message.content}`;
    else messages.push({ role: message.role, content: message.content });
  }
  // A response schema becomes a forced call of a tool with that schema (the Messages API's reliable way).
  const tools = [...(request.tools ?? [])];
  let toolChoice = request.toolChoice;
  if (request.responseFormat !== undefined) {
    tools.push({
      name: request.responseFormat.name,
      description: 'Give your answer as the input of this tool.',
      parameters: request.responseFormat.schema,
    });
    toolChoice ??= request.responseFormat.name;
  }
  return {
    model: request.model,
    max_tokens: request.maxTokens ?? defaultMaxTokens,
    messages,
    stream: true,
    ...(system === '' ? {} : { system }),
    ...(request.temperature === undefined ? {} : { temperature: Math.min(1, Math.max(0, request.temperature)) }),
    ...(tools.length === 0
      ? {}
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

/** The Messages API's stop reasons. */
const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};
