import type { RunEvent } from '../engine/events.js';

/**
 * At most one `file-progress` per file in this many milliseconds (about 10 a second), on the terminal and in
 * `--json`: servers stream a fragment per token, and an event per fragment was 3,684 events (300 kB) for
 * two small files against llama.cpp (issue 15).
 */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Passes every event on to `sink` but `file-progress` events that come less than PROGRESS_INTERVAL_MS after
 * the last one passed on for the same file. A file's first progress event always passes; a dropped one is
 * superseded by the next (its counts are totals so far), and `file-done` follows the last. Events of other
 * kinds (the daemon's, in `watch --json`) pass as they are.
 */
export function throttleProgress<Event extends { type: string } = RunEvent>(
  sink: (event: Event) => void,
  now: () => number = Date.now,
): (event: Event) => void {
  const lastSent = new Map<string, number>();
  return (event: Event) => {
    const path = 'path' in event && typeof event.path === 'string' ? event.path : '';
    if (event.type === 'file-progress') {
      const at = now();
      const previous = lastSent.get(path);
      if (previous !== undefined && at - previous < PROGRESS_INTERVAL_MS) return;
      lastSent.set(path, at);
    } else if (event.type === 'file-done' || event.type === 'file-failed') {
      lastSent.delete(path);
    } else if (event.type === 'run-start') {
      lastSent.clear();
    }
    sink(event);
  };
}
