import { contextFullHint } from '../llm/refusals.js';
import type { CompletionResult } from '../llm/types.js';

/**
 * Why an answer that ended with finish reason `length` stopped, in words, with what to do. When it
 * stopped well before `maxTokens`, it was not `maxTokens` that cut it but the server's context window
 * filling up (llama.cpp's `-c`, Ollama's `num_ctx`): raising `maxTokens` would not help.
 */
export function truncation(
  result: Pick<CompletionResult, 'usage'>,
  context: { maxTokens: number; provider: { name: string } },
): { reason: string; hint: string; contextFull: boolean; brief: string } {
  const { outputTokens, estimated } = result.usage;
  // Estimated counts (no usage from the server) are rough: only a clear shortfall counts.
  const contextFull = estimated ? outputTokens < context.maxTokens * 0.8 : outputTokens < context.maxTokens;
  if (contextFull) {
    const name = context.provider.name;
    return {
      contextFull,
      reason: `the answer was cut off by the token limit after ${outputTokens} tokens, short of maxTokens (${context.maxTokens}): the server's context window is full`,
      hint: contextFullHint(name),
      brief:
        name === 'ollama'
          ? "raise Ollama's num_ctx, or send less"
          : name === 'openai-compatible'
            ? "raise the server's context (llama.cpp -c, vLLM --max-model-len), or send less"
            : 'send less, or use a model with a larger context',
    };
  }
  return {
    contextFull,
    reason: `the answer was cut off by the token limit (maxTokens ${context.maxTokens})`,
    hint: 'Raise `maxTokens` in the spec (or use a model with a larger output limit).',
    brief: 'raise maxTokens',
  };
}
