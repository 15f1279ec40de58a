import { AbortError, ProviderError } from './errors.js';
import type { ErrorContext } from './sdk-failures.js';
import { abortable, idleWatchdog } from './transport.js';
import type { FinishReason } from './types.js';

/** A streamed answer as both SDKs return it: events to iterate, and a controller that ends the stream. */
export interface AbortableStream<Event> extends AsyncIterable<Event> {
  controller: AbortController;
}

/**
 * The part of a streamed call both adapters share: open the stream (cancellable at once), read it under
 * the idle watchdog, and map what fails. `onEvent` is the adapter's own: what it throws (a callback, the
 * answer-size limit, a malformed stream) ends the stream and passes through unmapped; what the SDK
 * throws is mapped with `mapError`.
 */
export async function readStream<Event>(options: {
  open: () => Promise<AbortableStream<Event>>;
  onEvent: (event: Event) => void;
  mapError: (error: unknown) => unknown;
  context: ErrorContext;
  signal: AbortSignal | undefined;
}): Promise<void> {
  const { context, signal, mapError } = options;
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason });
  let stream: AbortableStream<Event>;
  try {
    stream = await abortable(options.open(), signal);
  } catch (error) {
    throw mapError(error);
  }
  const idle = idleWatchdog(context.timeoutMs, () => stream.controller.abort());
  let ownError = false;
  try {
    idle.kick();
    for await (const event of stream) {
      idle.kick();
      try {
        options.onEvent(event);
      } catch (error) {
        ownError = true;
        throw error;
      }
    }
  } catch (error) {
    if (ownError) {
      stream.controller.abort();
      throw error;
    }
    throw idle.stalled ? stallError(context, error) : mapError(error);
  } finally {
    idle.stop();
  }
  // On abort the SDKs end the stream quietly instead of throwing, so the loop above just stops.
  if (aborted(signal)) throw new AbortError(undefined, { cause: signal?.reason });
  if (idle.stalled) throw stallError(context, undefined);
}

// A function so TypeScript does not keep the narrowing from the check before the stream started.
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function stallError(context: ErrorContext, cause: unknown): ProviderError {
  return new ProviderError(
    'PROVIDER_TIMEOUT',
    `${context.providerName} at ${context.baseURL} stopped sending for ${context.timeoutMs / 1000}s in the middle of an answer.`,
    { cause, hint: 'Check the server is not overloaded, or allow more time with a larger timeout.' },
  );
}

/**
 * A provider's stop reason in smol's words, from the provider's table. No reason, or one the table does
 * not know, is `other`: the stream ended early or oddly, and callers must not trust the answer.
 */
export function toFinishReason(
  reason: string | null | undefined,
  table: Readonly<Record<string, FinishReason>>,
): FinishReason {
  return reason !== null && reason !== undefined && Object.hasOwn(table, reason) ? (table[reason] ?? 'other') : 'other';
}
