import type { RunEvent } from '../engine/events.js';
import type { RunResult } from '../engine/run.js';
import { isSmolError } from '../errors.js';
import type { HandEdit } from './hand-edits.js';

/** A change a run staged (or, with `apply: auto`, left staged: conflicts), by path. */
interface ChangeEntry {
  path: string;
  action: 'create' | 'update' | 'delete' | 'conflict';
}

/**
 * The outcome of one run, small enough for one NDJSON line whatever the files hold (issue 18: the whole
 * staged run was 19.5 kB for 12 tiny files). Contents and diffs stay in `.smol/`: `smol diff` shows them.
 */
export interface RunSummary {
  /** True with `apply: auto`: the changes were written (conflicts are never written; they stay staged). */
  applied: boolean;
  /** Every change the run made or staged. */
  changes: ChangeEntry[];
  /** Files written (with `apply: auto`). */
  written: string[];
  /** Files left as they are because they changed on disk during the run. */
  refused: { path: string; reason: string }[];
  /** Files whose generation failed (kept as they were). */
  failed: { path: string; message: string }[];
  /** Planned files with nothing to change. */
  unchanged: number;
}

/** What the daemon reports; the CLI renders these (and prints them as NDJSON with `--json`). */
export type DaemonEvent =
  | { type: 'watch-ready'; spec: string; watching: string[] }
  /** Nothing in flight and nothing due: the daemon has caught up with every change it saw. */
  | { type: 'watch-idle' }
  | { type: 'change'; paths: string[] }
  | { type: 'spec-error'; message: string }
  | { type: 'run-error'; message: string; code?: string | undefined }
  | { type: 'run-cancelled' }
  | ({ type: 'run-result' } & RunSummary)
  | { type: 'hand-edit'; files: HandEdit[] }
  | {
      type: 'checks-done';
      passed: boolean;
      rounds: number;
      stopped?: string | undefined;
      failed: { command: string; exitCode: number | null; output: string }[];
    }
  | RunEvent;

/** A failure message in an event: long enough to act on, never a whole answer. */
const MESSAGE_LIMIT = 1000;

export function summarizeRun(result: RunResult, applied: boolean): RunSummary {
  const written = new Set(result.written);
  return {
    applied,
    changes: result.staged.changes.map((change) => ({ path: change.path, action: change.action })),
    written: [...written],
    refused: result.refused,
    failed: result.failed.map((failure) => ({ path: failure.path, message: clip(failure.message) })),
    unchanged: Object.keys(result.staged.keep).length,
  };
}

function clip(text: string): string {
  return text.length <= MESSAGE_LIMIT ? text : `${text.slice(0, MESSAGE_LIMIT)}…`;
}

/** An error as an event's message: a user error with its hint, anything else with its stack (a bug). */
export function messageOf(error: unknown): string {
  if (isSmolError(error)) return error.hint === undefined ? error.message : `${error.message}\n${error.hint}`;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
