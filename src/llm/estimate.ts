import type { ChatMessage, ToolCall, ToolDefinition, Usage } from './types.js';

/** A rough token count for servers that report no usage: about four characters per token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Estimated usage of one call, marked `estimated: true`. */
export function estimateUsage(
  request: { messages: ChatMessage[]; tools?: ToolDefinition[] },
  output: { text: string; toolCalls: ToolCall[] },
): Usage {
  const prompt =
    request.messages.map((message) => message.content).join('') +
    (request.tools === undefined || request.tools.length === 0 ? '' : JSON.stringify(request.tools));
  const completion = output.text + output.toolCalls.map((call) => call.name + call.arguments).join('');
  return { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(completion), estimated: true };
}
