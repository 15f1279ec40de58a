import type { EventSink, RunEvent } from '../../engine/events.js';

/** How a progress notification leaves (the SDK's `extra.sendNotification`, bound to the request). */
export type SendProgress = (params: {
  progressToken: string | number;
  progress: number;
  message: string;
}) => Promise<void>;

/** Least time between two notifications about tokens streaming in (stage and file events always go out). */
const STREAM_INTERVAL_MS = 1000;

/**
 * `notifications/progress` for one tool call whose client passed a `progressToken` (MCP spec, basic
 * utilities/progress): one per stage and per file, and, while a long file streams in, one a second, so a
 * client that resets its timeout on progress keeps waiting as long as the model is working. `progress`
 * counts the notifications (it must grow with each; the total is not known ahead).
 */
export function progressReporter(
  progressToken: string | number | undefined,
  send: SendProgress,
  now: () => number = Date.now,
): { note(message: string): void; onEvent: EventSink } {
  let progress = 0;
  let lastStream = -Infinity;
  let queued = 0;
  let finished = 0;
  const note = (message: string): void => {
    if (progressToken === undefined) return;
    progress += 1;
    // A lost notification is not worth failing the run over.
    send({ progressToken, progress, message }).catch(() => undefined);
  };
  const onEvent: EventSink = (event: RunEvent) => {
    const message = describe(event);
    if (event.type === 'file-queued') queued += 1;
    if (event.type === 'file-done' || event.type === 'file-failed') finished += 1;
    if (event.type === 'file-progress') {
      if (now() - lastStream < STREAM_INTERVAL_MS) return;
      lastStream = now();
    }
    if (message !== undefined)
      note(
        event.type === 'file-done' || event.type === 'file-failed'
          ? `${message} (${finished} of ${queued} files)`
          : message,
      );
  };
  return { note, onEvent };
}

function describe(event: RunEvent): string | undefined {
  switch (event.type) {
    case 'stage-start':
      return event.stage === 'plan' ? 'planning' : 'listing the files';
    case 'stage-done':
      return `${event.stage === 'plan' ? 'plan' : 'file list'} ready (from the ${event.source})`;
    case 'file-start':
      return `generating ${event.path}`;
    case 'file-progress':
      return `generating ${event.path}: ${event.tokens} tokens so far`;
    case 'file-done':
      return `${event.path}: ${event.action}${event.cached ? ' (cached)' : ''}`;
    case 'file-failed':
      return `${event.path} failed: ${event.message}`;
    case 'rate-limited':
      return `waiting ${Math.ceil(event.ms / 1000)} s (${event.reason})`;
    case 'run-done':
      return 'done';
    default:
      return undefined;
  }
}
