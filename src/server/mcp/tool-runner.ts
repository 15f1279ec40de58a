import PQueue from 'p-queue';
import type { EventSink } from '../../engine/events.js';
import { isSmolError } from '../../errors.js';
import { progressReporter } from './progress.js';

export type ToolResult = {
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

/** The parts of the SDK's per-request `extra` a tool call uses. */
export interface ToolCallExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number | undefined } | undefined;
  sendNotification: (notification: {
    method: 'notifications/progress';
    params: { progressToken: string | number; progress: number; message: string };
  }) => Promise<void>;
}

/** What a tool's work gets: the signal to pass to every model call, and where to report progress. */
export interface ToolCall {
  signal: AbortSignal;
  note(message: string): void;
  onEvent: EventSink;
}

/**
 * Runs the tool calls on one spec one at a time (a second call waits its turn instead of failing on the
 * spec's state lock), each with an AbortSignal that the client's `notifications/cancelled` and the
 * server's shutdown both abort: no further model call, and nothing half-written (writes are journaled).
 */
export class ToolRunner {
  private readonly queue = new PQueue({ concurrency: 1 });
  private readonly shutdown = new AbortController();

  run(extra: ToolCallExtra, work: (call: ToolCall) => Promise<ToolResult>): Promise<ToolResult> {
    const signal = AbortSignal.any([extra.signal, this.shutdown.signal]);
    const progress = progressReporter(extra._meta?.progressToken, (params) =>
      extra.sendNotification({ method: 'notifications/progress', params }),
    );
    if (this.queue.size > 0 || this.queue.pending > 0)
      progress.note('waiting for the tool call before it on this spec');
    // A call cancelled while it waits leaves the queue at once (p-queue rejects it with an AbortError).
    return this.queue.add(() => guarded(() => work({ signal, ...progress })), { signal });
  }

  /** Aborts every call (running or waiting) and resolves once none is running. */
  async close(): Promise<void> {
    this.shutdown.abort();
    await this.queue.onIdle();
  }
}

/** A user error becomes a tool error the agent can read; a bug or a cancellation is rethrown (the SDK reports it). */
async function guarded(work: () => Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await work();
  } catch (error) {
    if (!isSmolError(error)) throw error;
    return {
      content: [{ type: 'text', text: `${error.message}${error.hint === undefined ? '' : `\n${error.hint}`}` }],
      isError: true,
    };
  }
}
