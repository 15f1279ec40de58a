import type { EventSink, RunEvent } from '../engine/events.js';

/**
 * At most one `file-progress` per file in this many milliseconds (about 10 a second), on the terminal and in
 * `--json`: servers stream a fragment per token, and an event per fragment was 3,684 events (300 kB) for
 * two small files against llama.cpp (issue 15).
 */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Passes every event on to `sink` but `file-progress` events that come less than PROGRESS_INTERVAL_MS after
 * the last one passed on for the same file. A file's first progress event always passes; a dropped one is
 * superseded by the next (its counts are totals so far), and `file-done` follows the last.
 */
export function throttleProgress(sink: EventSink, now: () => number = Date.now): EventSink {
  const lastSent = new Map<string, number>();
  return (event: RunEvent) => {
    if (event.type === 'file-progress') {
      const at = now();
      const previous = lastSent.get(event.path);
      if (previous !== undefined && at - previous < PROGRESS_INTERVAL_MS) return;
      lastSent.set(event.path, at);
    } else if (event.type === 'file-done' || event.type === 'file-failed') {
      lastSent.delete(event.path);
    } else if (event.type === 'run-start') {
      lastSent.clear();
    }
    sink(event);
  };
}
