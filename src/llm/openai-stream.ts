import type OpenAI from 'openai';
import type { Stream } from 'openai/streaming';
import { AbortError, ProviderError } from './errors.js';
import { answerMeter } from './call-limits.js';
import { estimateUsageAsync } from './estimate.js';
import { toProviderError, type ErrorContext } from './openai-errors.js';
import { abortable, idleWatchdog, smolHeaders } from './provider-errors.js';
import { toolCallCollector } from './tool-call-fragments.js';
import type { CompleteOptions, CompletionRequest, CompletionResult, FinishReason, Usage } from './types.js';

/** How a forced tool call is asked for: OpenAI's object, or `"required"`, which llama.cpp insists on. */
export type ToolChoiceForm = 'object' | 'string';

/** What one streamed call needs besides the request. */
export interface StreamContext extends ErrorContext {
  toolChoice: ToolChoiceForm;
  /** Strict schemas (`strict: true`): OpenAI and Azure only; other servers may not know the field. */
  strictSchemas: boolean;
  maxFileBytes: number | undefined;
}

/** One chat completion, streamed, within the answer-size limit; errors mapped to ProviderError / AbortError. */
export async function streamChatCompletion(
  client: OpenAI,
  request: CompletionRequest,
  { signal, onToken }: CompleteOptions,
  context: StreamContext,
): Promise<CompletionResult> {
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });

  let stream: Stream<OpenAI.ChatCompletionChunk>;
  try {
    stream = await abortable(client.chat.completions.create(toParams(request, context), { signal, headers: smolHeaders(request) }), signal);
  } catch (error) {
    throw toProviderError(error, context);
  }

  let text = '';
  const toolCalls = toolCallCollector();
  let usage: Usage | undefined;
  let finishReason: FinishReason | undefined;
  const meter = answerMeter(request, context.maxFileBytes, `${context.providerName} at ${context.baseURL}`);
  const idle = idleWatchdog(context.timeoutMs, () => stream.controller.abort());
  // Errors of our own making (a callback, a limit) pass through unmapped.
  let ownError = false;
  const own = (error: unknown): never => {
    ownError = true;
    throw error;
  };

  try {
    idle.kick();
    for await (const chunk of stream) {
      idle.kick();
      const reported = chunk.usage;
      // Counts from a server we do not control: numbers, or the estimate.
      if (reported !== undefined && reported !== null && validCount(reported.prompt_tokens) && validCount(reported.completion_tokens)) {
        usage = { inputTokens: reported.prompt_tokens, outputTokens: reported.completion_tokens, estimated: false };
      }
      const choice = chunk.choices?.[0];
      if (choice === undefined) continue;
      const content = choice.delta?.content;
      if (typeof content === 'string' && content !== '') {
        try {
          meter.add(content);
          text += content;
          onToken?.(content);
        } catch (error) {
          own(error);
        }
      }
      for (const fragment of choice.delta?.tool_calls ?? []) {
        try {
          if (typeof fragment.function?.arguments === 'string') meter.add(fragment.function.arguments);
        } catch (error) {
          own(error);
        }
        const problem = toolCalls.add(fragment);
        if (problem !== undefined) own(badStream(context, problem));
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) finishReason = toFinishReason(choice.finish_reason);
    }
  } catch (error) {
    if (ownError) {
      stream.controller.abort();
      throw error;
    }
    throw idle.stalled ? stallError(context, error) : toProviderError(error, context);
  } finally {
    idle.stop();
  }
  // On abort the SDK ends the stream quietly instead of throwing, so the loop above just stops.
  if (aborted(signal)) throw new AbortError(undefined, { cause: signal?.reason });
  if (idle.stalled) throw stallError(context, undefined);

  const calls = toolCalls.calls();
  return {
    text,
    toolCalls: calls,
    usage: usage ?? (await estimateUsageAsync(request, { text, toolCalls: calls }, signal)),
    // A stream that ended without a finish reason was cut short somewhere; callers must not trust it.
    finishReason: finishReason ?? 'other',
  };
}

// A function so TypeScript does not keep the narrowing from the check before the stream started.
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function toParams(request: CompletionRequest, context: StreamContext): OpenAI.ChatCompletionCreateParamsStreaming {
  const tools = request.tools ?? [];
  const params: OpenAI.ChatCompletionCreateParamsStreaming = {
    model: request.model,
    messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (request.temperature !== undefined) params.temperature = request.temperature;
  // `max_tokens` rather than `max_completion_tokens`: every compatible server understands it.
  if (request.maxTokens !== undefined) params.max_tokens = request.maxTokens;
  if (tools.length > 0) {
    params.tools = tools.map((tool) => ({ type: 'function' as const, function: { name: tool.name, description: tool.description, parameters: tool.parameters } }));
  }
  if (request.toolChoice !== undefined) {
    // With one tool, `required` forces exactly that one.
    const onlyTool = tools.length === 1 && tools[0]?.name === request.toolChoice;
    params.tool_choice = context.toolChoice === 'string' && onlyTool ? 'required' : { type: 'function', function: { name: request.toolChoice } };
  }
  if (request.responseFormat !== undefined) {
    const { $schema: _dialect, ...schema } = request.responseFormat.schema;
    params.response_format = {
      type: 'json_schema',
      json_schema: { name: request.responseFormat.name, schema, ...(context.strictSchemas ? { strict: true } : {}) },
    };
  }
  return params;
}

function validCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
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

function badStream(context: ErrorContext, problem: string): ProviderError {
  return new ProviderError('PROVIDER_BAD_RESPONSE', `${context.providerName} at ${context.baseURL} sent ${problem}.`, {
    hint: 'The server does not speak the OpenAI stream format correctly; check `baseURL`, or try another server or model.',
  });
}

function stallError(context: ErrorContext, cause: unknown): ProviderError {
  return new ProviderError(
    'PROVIDER_TIMEOUT',
    `${context.providerName} at ${context.baseURL} stopped sending for ${context.timeoutMs / 1000}s in the middle of an answer.`,
    { cause, hint: 'Check the server is not overloaded, or allow more time with a larger timeout.' },
  );
}
