/** The pipeline stage a request belongs to; sent as the `X-Smol-Stage` header. */
export type Stage = 'plan' | 'files' | 'code' | 'debug';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A function the model may call. `parameters` is a JSON Schema object. */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface CompletionRequest {
  stage: Stage;
  /** For `code` requests: the output path being generated; sent as `X-Smol-File`. */
  file?: string;
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  maxTokens?: number;
  tools?: ToolDefinition[];
  /** Force the model to call this tool. */
  toolChoice?: string;
  /**
   * Structured output: the answer's text is JSON matching `schema` (OpenAI's `response_format: json_schema`,
   * which llama.cpp, vLLM, LM Studio and Ollama enforce with a grammar; on Anthropic a forced tool call).
   */
  responseFormat?: ResponseFormat;
}

/** A JSON Schema the answer must match (see {@link CompletionRequest.responseFormat}). */
interface ResponseFormat {
  /** A name for the schema (letters, digits, `_`, `-`). */
  name: string;
  schema: Record<string, unknown>;
}

export interface ToolCall {
  name: string;
  /** The raw JSON text of the arguments, exactly as the model produced it. */
  arguments: string;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** True when the server sent no usage and the numbers were estimated locally. */
  estimated: boolean;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'other';

export interface CompletionResult {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  finishReason: FinishReason;
}

export interface CompleteOptions {
  signal?: AbortSignal | undefined;
  /** Called with each streamed text fragment. */
  onToken?: ((fragment: string) => void) | undefined;
  /** For caching wrappers: `refresh` skips a cached answer (and stores the new one). Providers ignore it. */
  cache?: 'use' | 'refresh' | undefined;
  /** Called when the call waits before being sent: a client-side rate limit, or a pause a server asked for. */
  onWait?: ((wait: ProviderWait) => void) | undefined;
}

/** Why and how long a call waits before it is sent (see {@link CompleteOptions.onWait}). */
export interface ProviderWait {
  /**
   * `rpm` / `tpm`: the spec's `rateLimit`; `retry-after`: the server answered 429 and every call pauses
   * for the time it asked; `overloaded`: the server said it is overloaded (Anthropic 529), with backoff.
   */
  reason: 'rpm' | 'tpm' | 'retry-after' | 'overloaded';
  ms: number;
}

/** The one interface every model backend implements (design.md 8). */
export interface Provider {
  /** `openai`, `azure`, `anthropic`, `ollama`, `openai-compatible` or `fake`. */
  readonly name: string;
  complete(request: CompletionRequest, options?: CompleteOptions): Promise<CompletionResult>;
}
