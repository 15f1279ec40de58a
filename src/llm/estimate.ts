import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import type { ChatMessage, CompletionRequest, ToolCall, ToolDefinition, Usage } from './types.js';

type Encoding = 'o200k_base' | 'cl100k_base';

// The rank tables are 1-2 MB of JavaScript and take a few hundred milliseconds to build, so they are
// loaded (synchronously, through require) only the first time a count is needed: most runs get usage
// from the server and never tokenize anything.
const require = createRequire(import.meta.url);
const encoders = new Map<Encoding, Tiktoken>();

function encoder(encoding: Encoding): Tiktoken {
  let loaded = encoders.get(encoding);
  if (loaded === undefined) {
    const ranks = require(`js-tiktoken/ranks/${encoding}`) as TiktokenBPE | { default: TiktokenBPE };
    loaded = new Tiktoken('default' in ranks ? ranks.default : ranks);
    encoders.set(encoding, loaded);
  }
  return loaded;
}

/**
 * The tokenizer used for a model: `o200k_base` for OpenAI's current families (gpt-4o, gpt-4.1, gpt-5,
 * o-series), `cl100k_base` for everything else. For Claude and local models neither is exact; the counts
 * are estimates, and are marked as such.
 */
export function encodingFor(model: string | undefined): Encoding {
  const name = (model ?? '').toLowerCase().split('/').pop() ?? '';
  return /^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|chatgpt-4o|o\d)/.test(name) ? 'o200k_base' : 'cl100k_base';
}

/** Tokens in `text` for `model` (see {@link encodingFor}). Special-token text is counted as plain text. */
export function estimateTokens(text: string, model?: string): number {
  if (text === '') return 0;
  return encoder(encodingFor(model)).encode(text, [], []).length;
}

// Chat formats wrap every message in a few tokens of framing (role, separators): OpenAI documents 3 per
// message plus 3 to prime the answer.
const PER_MESSAGE = 3;
const PER_REQUEST = 3;

/** Prompt tokens of a request: messages, framing and tool definitions. */
export function estimatePromptTokens(request: { model?: string; messages: ChatMessage[]; tools?: ToolDefinition[] }): number {
  let total = PER_REQUEST;
  for (const message of request.messages) total += PER_MESSAGE + estimateTokens(message.content, request.model);
  if (request.tools !== undefined && request.tools.length > 0) total += estimateTokens(JSON.stringify(request.tools), request.model);
  return total;
}

/** The most tokens a request can use: its prompt plus `maxTokens` of answer (the rule OpenAI and Anthropic limits use). */
export function worstCaseTokens(request: CompletionRequest, defaultMaxTokens = 8192): { input: number; output: number } {
  return { input: estimatePromptTokens(request), output: request.maxTokens ?? defaultMaxTokens };
}

/** Estimated usage of one call, marked `estimated: true`, for servers that report none. */
export function estimateUsage(
  request: { model?: string; messages: ChatMessage[]; tools?: ToolDefinition[] },
  output: { text: string; toolCalls: ToolCall[] },
): Usage {
  const completion = output.text + output.toolCalls.map((call) => call.name + call.arguments).join('');
  return { inputTokens: estimatePromptTokens(request), outputTokens: estimateTokens(completion, request.model), estimated: true };
}
