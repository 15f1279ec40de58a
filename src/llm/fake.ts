import { AbortError } from './errors.js';
import { abortableSleep } from './transport.js';
import { estimateUsage } from './estimate.js';
import type { CompleteOptions, CompletionRequest, CompletionResult, Provider } from './types.js';

/** What a script returns for one call: any part of the result, and optionally a delay before answering. */
type FakeReply = Partial<CompletionResult> & {
  /** Wait this long before answering; an abort during the wait rejects at once. */
  delayMs?: number;
};

/** Answers call number `callIndex` (0-based). Returning (or throwing) an Error makes the call reject with it. */
export type FakeScript = (
  request: CompletionRequest,
  callIndex: number,
) => FakeReply | Error | Promise<FakeReply | Error>;

export interface FakeProvider extends Provider {
  /** Every request, in call order. */
  readonly calls: CompletionRequest[];
}

/**
 * A scripted provider for unit tests. Missing fields get defaults: empty text, no tool calls, estimated
 * usage, and finish reason `tool_calls` when there are tool calls, else `stop`.
 */
export function createFakeProvider(script: FakeScript): FakeProvider {
  const calls: CompletionRequest[] = [];
  return {
    name: 'fake',
    calls,
    async complete(request: CompletionRequest, options: CompleteOptions = {}): Promise<CompletionResult> {
      const { signal, onToken } = options;
      const callIndex = calls.length;
      calls.push(request);
      throwIfAborted(signal);
      const reply = await script(request, callIndex);
      if (reply instanceof Error) throw reply;
      if (reply.delayMs !== undefined && reply.delayMs > 0) await delay(reply.delayMs, signal);
      throwIfAborted(signal);

      const text = reply.text ?? '';
      const toolCalls = reply.toolCalls ?? [];
      if (text !== '') onToken?.(text);
      return {
        text,
        toolCalls,
        usage: reply.usage ?? estimateUsage(request, { text, toolCalls }),
        finishReason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
      };
    },
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return abortableSleep(ms, signal);
}
