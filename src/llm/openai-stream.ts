import type OpenAI from 'openai';
import { ProviderError } from './errors.js';
import { answerMeter } from './call-limits.js';
import { estimateUsageAsync } from './estimate.js';
import { toProviderError } from './openai-errors.js';
import type { ErrorContext } from './sdk-failures.js';
import { readStream, toFinishReason } from './stream-call.js';
import { toolCallCollector } from './tool-call-fragments.js';
import { smolHeaders } from './transport.js';
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
  let text = '';
  const toolCalls = toolCallCollector();
  let usage: Usage | undefined;
  let finishReason: FinishReason | undefined;
  const meter = answerMeter(request, context.maxFileBytes, `${context.providerName} at ${context.baseURL}`);
  await readStream<OpenAI.ChatCompletionChunk>({
    open: () => client.chat.completions.create(toParams(request, context), { signal, headers: smolHeaders(request) }),
    mapError: (error) => toProviderError(error, context),
    context,
    signal,
    onEvent(chunk) {
      const reported = chunk.usage;
      // Counts from a server we do not control: numbers, or the estimate.
      if (
        reported !== undefined &&
        reported !== null &&
        validCount(reported.prompt_tokens) &&
        validCount(reported.completion_tokens)
      ) {
        usage = { inputTokens: reported.prompt_tokens, outputTokens: reported.completion_tokens, estimated: false };
      }
      const choice = chunk.choices?.[0];
      if (choice === undefined) return;
      const content = choice.delta?.content;
      if (typeof content === 'string' && content !== '') {
        meter.add(content);
        text += content;
        onToken?.(content);
      }
      for (const fragment of choice.delta?.tool_calls ?? []) {
        if (typeof fragment.function?.arguments === 'string') meter.add(fragment.function.arguments);
        const problem = toolCalls.add(fragment);
        if (problem !== undefined) throw badStream(context, problem);
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined)
        finishReason = toFinishReason(choice.finish_reason, FINISH_REASONS);
    },
  });

  const calls = toolCalls.calls();
  return {
    text,
    toolCalls: calls,
    usage: usage ?? (await estimateUsageAsync(request, { text, toolCalls: calls }, signal)),
    // A stream that ended without a finish reason was cut short somewhere; callers must not trust it.
    finishReason: finishReason ?? 'other',
  };
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
    params.tools = tools.map((tool) => ({
      type: 'function' as const,
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
  }
  if (request.toolChoice !== undefined) {
    // With one tool, `required` forces exactly that one.
    const onlyTool = tools.length === 1 && tools[0]?.name === request.toolChoice;
    params.tool_choice =
      context.toolChoice === 'string' && onlyTool
        ? 'required'
        : { type: 'function', function: { name: request.toolChoice } };
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

/** OpenAI's finish reasons; `function_call` is the old name for a tool call. */
const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  function_call: 'tool_calls',
};

function badStream(context: ErrorContext, problem: string): ProviderError {
  return new ProviderError('PROVIDER_BAD_RESPONSE', `${context.providerName} at ${context.baseURL} sent ${problem}.`, {
    hint: 'The server does not speak the OpenAI stream format correctly; check `baseURL`, or try another server or model.',
  });
}
