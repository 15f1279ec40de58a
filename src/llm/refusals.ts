import { ProviderError } from './errors.js';
import type { CompletionRequest } from './types.js';

/**
 * How servers say they will not take a feature of a request, in their own words. Local servers answer
 * these with a 400 or even a 500 (llama.cpp without `--jinja`: `500 tools param requires --jinja flag`),
 * so the words decide, not the status. Never retried: the same request gets the same answer.
 */
const TOOLS_REFUSED =
  /tools? param|--jinja|--enable-auto-tool-choice|does(?: not|n't) support tools|\btools?\b[^.]{0,40}\b(?:not supported|unsupported|not enabled|not allowed)|(?:function|tool)[ _-]?call(?:ing|s)?\b[^.]{0,40}\b(?:not supported|unsupported|not enabled)/i;
const TOOL_CHOICE_REFUSED = /tool_choice|tool choice/i;
const SCHEMA_REFUSED = /response_format|json_schema|json schema|structured output|guided_json/i;
const CONTEXT_FULL =
  /context (?:length|size|window)|maximum context|exceeds? the (?:available )?context|context_length_exceeded|exceed_context_size|prompt is too long|too many tokens|n_ctx|num_ctx/i;

/** The feature of `request` that the server refused, judging by `message`; undefined when none. */
export function refusedFeature(
  request: CompletionRequest,
  message: string,
): 'tools' | 'tool-choice' | 'json-schema' | undefined {
  const hasTools = request.tools !== undefined && request.tools.length > 0;
  if (hasTools && TOOLS_REFUSED.test(message)) return 'tools';
  if (hasTools && request.toolChoice !== undefined && TOOL_CHOICE_REFUSED.test(message)) return 'tool-choice';
  if (request.responseFormat !== undefined && SCHEMA_REFUSED.test(message)) return 'json-schema';
  return undefined;
}

/** True for an error body that refuses a feature (for the fetch wrapper: never retry those). */
export function isFeatureRefusal(body: string): boolean {
  return TOOLS_REFUSED.test(body) || SCHEMA_REFUSED.test(body);
}

/** True when a server's message says the prompt (plus the answer asked for) does not fit its context. */
export function isContextFull(message: string): boolean {
  return CONTEXT_FULL.test(message);
}

/**
 * What to do when a server's context window is full, for that kind of server: raise its context, or
 * send less. Shown for a 400 about the context and for answers that stop before `maxTokens`.
 */
export function contextFullHint(providerName: string): string {
  const raise =
    providerName === 'ollama'
      ? "Raise Ollama's context window: `OLLAMA_CONTEXT_LENGTH=16384 ollama serve`, or `PARAMETER num_ctx 16384` in a Modelfile"
      : providerName === 'openai-compatible' || providerName === 'fake'
        ? "Raise the server's context window: llama.cpp `llama-server -c 16384` (shared by its `-np` slots), vLLM `--max-model-len 16384`, LM Studio the context length the model is loaded with"
        : 'Use a model with a larger context window';
  return `${raise}; or send less: \`context: plan\` rather than \`full\`, a smaller \`maxTokens\` (some servers reserve it in the context), a shorter spec, or fewer files in \`smol debug\`.`;
}

export type UnsupportedFeature = 'tools' | 'json-schema';

/** A server refused tools or a response schema (PROVIDER_TOOLS_UNSUPPORTED / PROVIDER_SCHEMA_UNSUPPORTED). */
export class UnsupportedFeatureError extends ProviderError {
  override readonly name: string = 'UnsupportedFeatureError';
  constructor(
    readonly feature: UnsupportedFeature,
    /** `openai-compatible at http://...` (credentials redacted). */
    readonly where: string,
    /** The server's own words. */
    readonly serverMessage: string,
    cause?: unknown,
  ) {
    super(
      feature === 'tools' ? 'PROVIDER_TOOLS_UNSUPPORTED' : 'PROVIDER_SCHEMA_UNSUPPORTED',
      feature === 'tools'
        ? `${where} does not take tool calls: ${serverMessage}`
        : `${where} does not take a JSON schema for the answer (response_format): ${serverMessage}`,
      {
        cause,
        hint:
          feature === 'tools'
            ? 'smol asks for the file list another way when it can. To use tools with llama.cpp, start `llama-server --jinja`; with vLLM, `--enable-auto-tool-choice --tool-call-parser NAME`; or set `fileList: json-schema` (or `text`).'
            : 'smol asks for the file list another way when it can; set `fileList: tools` or `text` to skip this.',
      },
    );
  }
}

/** The error a provider throws when the server will not take tools or a response schema. */
export function unsupportedError(
  feature: UnsupportedFeature,
  where: string,
  serverMessage: string,
  cause?: unknown,
): UnsupportedFeatureError {
  return new UnsupportedFeatureError(feature, where, serverMessage, cause);
}

/** The unsupported feature an error stands for, when it is one of these. */
export function unsupportedFeatureOf(error: unknown): UnsupportedFeature | undefined {
  return error instanceof UnsupportedFeatureError ? error.feature : undefined;
}
