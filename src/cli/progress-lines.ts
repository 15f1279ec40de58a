import type { RunEvent } from '../engine/events.js';
import type { CliIO, Output } from './io.js';
import { PROGRESS_INTERVAL_MS } from './progress-throttle.js';

/** The live lines are redrawn at most this often: with progress throttled per file, about 10 times a second. */
const REDRAW_INTERVAL_MS = PROGRESS_INTERVAL_MS;

/**
 * The files in flight, and on a terminal one live line for each (redrawn, throttled) below the permanent
 * lines. Elsewhere it only prints the permanent lines.
 */
export interface LiveLines {
  /** True on a terminal: the live lines are drawn. */
  readonly live: boolean;
  /** Follows the files in flight; true when the live lines changed. */
  track(event: RunEvent): boolean;
  /** A permanent line, above the live ones. */
  print(text: string): void;
  /** Redraws the live lines soon. */
  schedule(): void;
  /** Takes the live lines off the screen (until the next redraw). */
  erase(): void;
  stop(): void;
}

export function createLiveLines(io: CliIO, output: Output): LiveLines {
  const live = output.isTTY;
  const { colors } = output;
  const inFlight: InFlight = { active: new Map(), queued: 0 };
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;

  const erase = (): void => {
    if (drawnLines > 0) io.stderr.write(`\u001b[${drawnLines}A\u001b[J`);
    drawnLines = 0;
  };
  const draw = (): void => {
    timer = undefined;
    if (!live) return;
    erase();
    const width = Math.max(40, (io.stderr.columns ?? 80) - 1);
    const lines = [...inFlight.active].map(([path, state]) => {
      const seconds = ((Date.now() - state.started) / 1000).toFixed(1);
      const status = colors.dim(`generating, ${formatCount(state.tokens)} tokens, ${seconds}s`);
      return truncate(`${colors.cyan('…')} ${path}  ${status}`, width);
    });
    const waiting = inFlight.queued - inFlight.active.size;
    if (waiting > 0) lines.push(colors.dim(`  ${waiting} queued`));
    if (lines.length > 0) io.stderr.write(`${lines.join('\n')}\n`);
    drawnLines = lines.length;
  };
  const schedule = (): void => {
    if (live && timer === undefined) timer = setTimeout(draw, REDRAW_INTERVAL_MS);
  };
  return {
    live,
    track: (event) => trackInFlight(inFlight, event),
    print(text) {
      if (live) erase();
      output.info(text);
      if (live) schedule();
    },
    schedule,
    erase() {
      if (live) erase();
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (live) erase();
    },
  };
}

/** The files queued, and those generating with their tokens so far. */
interface InFlight {
  active: Map<string, { tokens: number; started: number }>;
  queued: number;
}

/** Follows a run's files; true when what the live lines show changed. */
function trackInFlight(inFlight: InFlight, event: RunEvent): boolean {
  switch (event.type) {
    case 'run-start':
      inFlight.active.clear();
      inFlight.queued = 0;
      return true;
    case 'file-queued':
      inFlight.queued += 1;
      return true;
    case 'file-start':
      inFlight.active.set(event.path, { tokens: 0, started: Date.now() });
      return true;
    case 'file-progress': {
      const state = inFlight.active.get(event.path);
      if (state !== undefined) state.tokens = event.tokens;
      return true;
    }
    case 'file-done':
    case 'file-failed':
      inFlight.active.delete(event.path);
      inFlight.queued -= 1;
      return true;
    default:
      return false;
  }
}

/** `950`, `12.3k` */
export function formatCount(count: number): string {
  return count >= 1000 ? `${(count / 1000).toFixed(1)}k` : String(count);
}

function truncate(text: string, width: number): string {
  // Width is approximate: colour codes do not take columns, so only clip long plain paths.
  return text.length > width + 20 ? `${text.slice(0, width + 17)}...` : text;
}
