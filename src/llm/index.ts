export type {
  ChatMessage,
  CompleteOptions,
  CompletionRequest,
  CompletionResult,
  FinishReason,
  Provider,
  ProviderWait,
  Stage,
  ToolCall,
  ToolDefinition,
  Usage,
} from './types.js';
export { AbortError, ProviderError, isAbortError } from './errors.js';
export { estimateTokens, estimatePromptTokens, estimateUsage, worstCaseTokens } from './estimate.js';
export { createOpenAIProvider, OPENAI_BASE_URL, type OpenAIProviderOptions } from './openai.js';
export { createAnthropicProvider, ANTHROPIC_BASE_URL, type AnthropicProviderOptions } from './anthropic.js';
export { withRateLimit, systemClock, type Clock, type RateLimitOptions } from './rate-limit.js';
export { withBudget, type BudgetOptions } from './budget.js';
export { meterUsage, emptyLedger, emptyTotals, type CallRecord, type UsageLedger, type UsageTotals } from './usage.js';
export { PRICE_TABLE, costOf, formatUsd, priceFor, tableEntry, type ModelPrice, type ResolvedPrice } from './pricing.js';
export { diagnose, type DoctorCheck, type DoctorReport } from './doctor.js';
export { createFakeProvider, type FakeProvider, type FakeReply, type FakeScript } from './fake.js';
export {
  buildProvider,
  chooseProvider,
  createProvider,
  detectAndCreateProvider,
  detectProvider,
  ollamaBaseURL,
  resolveConnection,
  resolveProviderName,
  type Connection,
  type CreatedProvider,
  type ProviderChoice,
  type ProviderOverrides,
  type ProviderSettings,
} from './create.js';
export { withResponseCache, type CacheStats, type CachedCompletion } from './cache.js';
