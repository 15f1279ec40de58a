export type {
  ChatMessage,
  CompleteOptions,
  CompletionRequest,
  CompletionResult,
  FinishReason,
  Provider,
  Stage,
  ToolCall,
  ToolDefinition,
  Usage,
} from './types.js';
export { AbortError, ProviderError, isAbortError } from './errors.js';
export { estimateTokens, estimateUsage } from './estimate.js';
export { createOpenAIProvider, OPENAI_BASE_URL, type OpenAIProviderOptions } from './openai.js';
export { createFakeProvider, type FakeProvider, type FakeReply, type FakeScript } from './fake.js';
export {
  createProvider,
  ollamaBaseURL,
  resolveProviderName,
  type CreatedProvider,
  type ProviderOverrides,
  type ProviderSettings,
} from './create.js';
export { withResponseCache, type CacheStats, type CachedCompletion } from './cache.js';
