import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { AbortError } from './errors.js';
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

// js-tiktoken merges byte pairs in time quadratic in the length of one pre-tokenizer piece, and a piece
// is a whole run of letters, punctuation or spaces: 16k `a` took a minute, 8k CJK characters without
// spaces as long, blocking the event loop so that Ctrl+C waited (issue 13.8). So:
// - runs longer than RUN_LIMIT get a break every few characters, so no piece is long; each break is
//   about one token, taken off again. Real tokens are rarely longer than 16 characters (or 4 CJK ones);
// - a text longer than EXACT_LIMIT is counted on SAMPLES windows spread over it, scaled to its length.
// The work per text is then bounded, whatever its length or content; it is an estimate either way.
const RUN_LIMIT = 24;
const LONG_RUN = new RegExp(
  `[\\p{L}\\p{M}]{${RUN_LIMIT + 1},}|\\s{${RUN_LIMIT + 1},}|[^\\s\\p{L}\\p{M}\\p{N}]{${RUN_LIMIT + 1},}`,
  'gu',
);
// Where the breaks go. The merge works on bytes, so multi-byte runs get them more often; runs of spaces
// merge into few tokens (a 64-space token exists), so they get them less often.
const BREAKS = { letters: /.{16}(?=.)/gsu, symbols: /.{32}(?=.)/gsu, wide: /.{4}(?=.)/gsu, spaces: /.{48}(?=.)/gsu };
const WINDOW = 4096;
const EXACT_LIMIT = 8 * WINDOW;
const SAMPLES = 8;
/** Work done before the async counter lets the event loop run (a signal, a key press). */
const SLICE_MS = 8;

function withBreaks(text: string): { text: string; breaks: number } {
  let breaks = 0;
  const broken = text.replace(LONG_RUN, (run) => {
    // A newline ends a letter piece; punctuation would swallow it (` ?[^\s\p{L}\p{N}]+[\r\n]*`), and
    // it is whitespace itself, so those get a letter.
    const letters = /[\p{L}\p{M}]/u.test(run[0] ?? '');
    const mark = letters ? '\n' : 'x';
    const every = /\s/u.test(run[0] ?? '')
      ? BREAKS.spaces
      : !/^\p{ASCII}*$/u.test(run)
        ? BREAKS.wide
        : letters
          ? BREAKS.letters
          : BREAKS.symbols;
    return run.replace(every, (piece) => {
      breaks += 1;
      return `${piece}${mark}`;
    });
  });
  return { text: broken, breaks };
}

/** The windows to encode, and the factor from their count to the whole text's. */
function plan(text: string): { windows: string[]; scale: number } {
  if (text.length <= EXACT_LIMIT) return { windows: [...chunks(text)], scale: 1 };
  const step = (text.length - WINDOW) / (SAMPLES - 1);
  const windows: string[] = [];
  for (let index = 0; index < SAMPLES; index += 1) {
    const start = surrogateSafe(text, Math.floor(index * step));
    windows.push(text.slice(start, surrogateSafe(text, start + WINDOW)));
  }
  const sampled = windows.reduce((total, window) => total + window.length, 0);
  return { windows, scale: text.length / sampled };
}

/** Cuts text into pieces of about WINDOW characters, at a line break when there is one near the end. */
function* chunks(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + WINDOW);
    if (end < text.length) {
      const newline = text.lastIndexOf('\n', end);
      end = newline > start + WINDOW / 2 ? newline + 1 : surrogateSafe(text, end);
    }
    yield text.slice(start, end);
    start = end;
  }
}

/** `index`, moved back one when it would fall between the halves of a surrogate pair. */
function surrogateSafe(text: string, index: number): number {
  const code = text.charCodeAt(index - 1);
  return code >= 0xd800 && code <= 0xdbff ? index - 1 : index;
}

function windowTokens(window: string, encoding: Encoding): number {
  const prepared = withBreaks(window);
  return prepared.text === '' ? 0 : encoder(encoding).encode(prepared.text, [], []).length - prepared.breaks;
}

/**
 * Tokens in `text` for `model` (see {@link encodingFor}), with bounded work whatever the text (exact for
 * ordinary text up to 32k characters, sampled beyond). Special-token text is counted as plain text.
 * Synchronous; {@link estimateTokensAsync} lets a cancellation through while it counts.
 */
export function estimateTokens(text: string, model?: string): number {
  if (text === '') return 0;
  const encoding = encodingFor(model);
  const { windows, scale } = plan(text);
  const tokens = windows.reduce((total, window) => total + windowTokens(window, encoding), 0);
  return Math.max(1, Math.round(tokens * scale));
}

/**
 * {@link estimateTokens}, letting the event loop run every few milliseconds, so Ctrl+C (an aborted
 * `signal`) gets through at once: rejects with an AbortError.
 */
export async function estimateTokensAsync(
  text: string,
  model?: string,
  signal?: AbortSignal,
  sliceMs = SLICE_MS,
): Promise<number> {
  if (text === '') return 0;
  const encoding = encodingFor(model);
  const { windows, scale } = plan(text);
  let tokens = 0;
  let sliceStarted = performance.now();
  for (const window of windows) {
    if (performance.now() - sliceStarted >= sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStarted = performance.now();
    }
    if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });
    tokens += windowTokens(window, encoding);
  }
  return Math.max(1, Math.round(tokens * scale));
}

// Chat formats wrap every message in a few tokens of framing (role, separators): OpenAI documents 3 per
// message plus 3 to prime the answer.
const PER_MESSAGE = 3;
const PER_REQUEST = 3;

type PromptRequest = {
  model?: string;
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  responseFormat?: { schema: Record<string, unknown> };
};

function promptTexts(request: PromptRequest): string[] {
  const texts = request.messages.map((message) => message.content);
  if (request.tools !== undefined && request.tools.length > 0) texts.push(JSON.stringify(request.tools));
  if (request.responseFormat !== undefined) texts.push(JSON.stringify(request.responseFormat.schema));
  return texts;
}

/** Prompt tokens of a request: messages, framing, tool definitions and a response schema. */
export function estimatePromptTokens(request: PromptRequest): number {
  const framing = PER_REQUEST + PER_MESSAGE * request.messages.length;
  return promptTexts(request).reduce((total, text) => total + estimateTokens(text, request.model), framing);
}

/** {@link estimatePromptTokens} that yields to the event loop and stops when `signal` aborts. */
async function estimatePromptTokensAsync(request: PromptRequest, signal?: AbortSignal): Promise<number> {
  let total = PER_REQUEST + PER_MESSAGE * request.messages.length;
  for (const text of promptTexts(request)) total += await estimateTokensAsync(text, request.model, signal);
  return total;
}

/** The most tokens a request can use: its prompt plus `maxTokens` of answer (the rule OpenAI and Anthropic limits use). */
export function worstCaseTokens(
  request: CompletionRequest,
  defaultMaxTokens = 8192,
): { input: number; output: number } {
  return { input: estimatePromptTokens(request), output: request.maxTokens ?? defaultMaxTokens };
}

/** {@link worstCaseTokens}, interruptible (see {@link estimateTokensAsync}). */
export async function worstCaseTokensAsync(
  request: CompletionRequest,
  signal?: AbortSignal,
  defaultMaxTokens = 8192,
): Promise<{ input: number; output: number }> {
  return { input: await estimatePromptTokensAsync(request, signal), output: request.maxTokens ?? defaultMaxTokens };
}

function completionText(output: { text: string; toolCalls: ToolCall[] }): string {
  return output.text + output.toolCalls.map((call) => call.name + call.arguments).join('');
}

/** Estimated usage of one call, marked `estimated: true`, for servers that report none. */
export function estimateUsage(request: PromptRequest, output: { text: string; toolCalls: ToolCall[] }): Usage {
  return {
    inputTokens: estimatePromptTokens(request),
    outputTokens: estimateTokens(completionText(output), request.model),
    estimated: true,
  };
}

/** {@link estimateUsage}, interruptible (see {@link estimateTokensAsync}). */
export async function estimateUsageAsync(
  request: PromptRequest,
  output: { text: string; toolCalls: ToolCall[] },
  signal?: AbortSignal,
): Promise<Usage> {
  const inputTokens = await estimatePromptTokensAsync(request, signal);
  const outputTokens = await estimateTokensAsync(completionText(output), request.model, signal);
  return { inputTokens, outputTokens, estimated: true };
}
