import { ProviderError } from './errors.js';
import { seconds } from './sdk-failures.js';
import type { CompletionRequest } from './types.js';

/** Bounds on one call, whatever the server does (issue 13.7). */
export interface CallLimits {
  /** Most time one call may take, from sending it to the end of the answer, SDK retries included. */
  deadlineMs: number;
  /** For `code` calls: the answer may hold at most this file size, plus room for prose around the fence. */
  maxFileBytes: number | undefined;
}

/** The default for `callTimeout`: long enough for a slow local model to write a long file. */
export const DEFAULT_CALL_TIMEOUT_MS = 20 * 60 * 1000;
// A token is a few bytes (4 on average in English and code, 3 a CJK character); 32 per token leaves
// room for any real answer while stopping a server that ignores `max_tokens` and never ends.
const BYTES_PER_TOKEN = 32;
const MIN_ANSWER_BYTES = 256 * 1024;
const DEFAULT_MAX_TOKENS = 8192;
/** Prose and a fence around a file's content. */
const PROSE_ROOM = 64 * 1024;

/** The most bytes of answer (text plus tool-call arguments) smol reads for `request`. */
function answerByteLimit(
  request: Pick<CompletionRequest, 'stage' | 'maxTokens'>,
  maxFileBytes: number | undefined,
): number {
  const byTokens = Math.max(MIN_ANSWER_BYTES, (request.maxTokens ?? DEFAULT_MAX_TOKENS) * BYTES_PER_TOKEN);
  return request.stage === 'code' && maxFileBytes !== undefined
    ? Math.min(byTokens, maxFileBytes + PROSE_ROOM)
    : byTokens;
}

/** Counts an answer's bytes as they stream in (see {@link answerMeter}). */
export interface AnswerMeter {
  add: (fragment: string) => void;
}

/**
 * Counts the bytes of an answer as it streams in; `add` throws PROVIDER_ANSWER_TOO_LONG once they pass
 * the limit, so the caller stops reading (an answer that never ends once grew to 512 MB and crashed).
 */
export function answerMeter(
  request: Pick<CompletionRequest, 'stage' | 'maxTokens' | 'file'>,
  maxFileBytes: number | undefined,
  where: string,
): AnswerMeter {
  const limit = answerByteLimit(request, maxFileBytes);
  let bytes = 0;
  return {
    add(fragment) {
      bytes += Buffer.byteLength(fragment);
      if (bytes <= limit) return;
      const fileLimit = request.stage === 'code' && maxFileBytes !== undefined && maxFileBytes + PROSE_ROOM <= limit;
      throw new ProviderError(
        'PROVIDER_ANSWER_TOO_LONG',
        `${where} sent more than ${limit} bytes for one answer, more than ${fileLimit ? `maxFileBytes (${maxFileBytes})` : `maxTokens (${request.maxTokens ?? DEFAULT_MAX_TOKENS}) allows`}; smol stopped reading it.`,
        {
          hint: fileLimit
            ? 'Raise `maxFileBytes` if the file really is that large; otherwise the model ran on (try again, or another model).'
            : 'The server does not keep to `max_tokens` (or the model repeats itself): try again, lower `maxTokens`, or use another model or server.',
        },
      );
    },
  };
}

/** The error for a call that passed its deadline. */
export function deadlineError(where: string, deadlineMs: number): ProviderError {
  return new ProviderError(
    'PROVIDER_TIMEOUT',
    `${where} did not finish the answer within ${seconds(deadlineMs)} (\`callTimeout\`).`,
    {
      hint: 'Raise `callTimeout` (seconds) in the spec for a slow model, lower `maxTokens`, or check the server is not overloaded.',
    },
  );
}
