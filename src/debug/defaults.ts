/** Default token budget for the error and the files sent with it (`--max-context-tokens`). */
export const DEFAULT_DEBUG_CONTEXT_TOKENS = 24_000;
