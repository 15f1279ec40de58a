import type { CachedCompletion } from '../llm/cache.js';
import type { CompleteOptions, CompletionRequest, Provider } from '../llm/types.js';
import type { RunUsage } from './events.js';

/** Wraps a provider so every call is counted into `usage` (calls, cache hits, tokens). */
export function meteredProvider(provider: Provider, usage: RunUsage): Provider {
  return {
    name: provider.name,
    async complete(request: CompletionRequest, options?: CompleteOptions) {
      const result: CachedCompletion = await provider.complete(request, options);
      if (result.cached === true) {
        usage.cachedCalls += 1;
        return result;
      }
      usage.calls += 1;
      usage.inputTokens += result.usage.inputTokens;
      usage.outputTokens += result.usage.outputTokens;
      if (result.usage.estimated) usage.estimated = true;
      return result;
    },
  };
}
