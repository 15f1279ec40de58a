import type { RunEvent } from '../engine/events.js';
import { changeSummary } from '../review/render.js';
import type { DaemonEvent, RunSummary } from '../watch/daemon.js';
import type { CliIO, Output } from './io.js';
import { count } from './words.js';
import { createProgress } from './progress.js';
import { throttleProgress } from './progress-throttle.js';

/** Paths listed in one line before `and N more`. */
const LIST_LIMIT = 8;

/**
 * Renders the daemon's events: NDJSON on stdout with `--json`; otherwise words on stderr, with run
 * progress drawn by the shared progress renderer. `interactive` says whether keys are read (for hints).
 */
export function createWatchRenderer(
  io: CliIO,
  output: Output,
  options: { json: boolean; interactive: boolean },
): { onEvent: (event: DaemonEvent) => void; stop: () => void } {
  // `--json`: every event as it is, `file-progress` throttled per file as in `smol run --json`.
  if (options.json) return { onEvent: throttleProgress((event: DaemonEvent) => output.json(event)), stop: () => {} };
  const progress = createProgress(io, output);
  const { colors } = output;
  const onEvent = (event: DaemonEvent): void => {
    switch (event.type) {
      case 'watch-ready':
        output.info(
          `${colors.green('watching')} ${event.watching.join(', ')}${options.interactive ? `\n${colors.dim('press h for keys')}` : ''}`,
        );
        break;
      case 'watch-idle':
        break;
      case 'change':
        output.info(colors.dim(`changed: ${event.paths.join(', ')}`));
        break;
      case 'spec-error':
        output.error(event.message);
        output.info(colors.dim('still watching: fix the spec and save.'));
        break;
      case 'run-error':
        output.error(event.message);
        break;
      case 'run-cancelled':
        output.info(colors.yellow('run cancelled; nothing was half-written.'));
        break;
      case 'checks-done':
        renderChecks(event, output);
        break;
      case 'hand-edit':
        renderHandEdits(event, output);
        break;
      case 'run-result':
        renderResult(event, output, options.interactive);
        break;
      default:
        progress.onEvent(event satisfies RunEvent);
    }
  };
  return { onEvent, stop: () => progress.stop() };
}

function renderChecks(event: Extract<DaemonEvent, { type: 'checks-done' }>, output: Output): void {
  const { colors } = output;
  if (event.passed) {
    output.info(
      colors.green(`checks passed${event.rounds > 1 ? ` after ${count(event.rounds - 1, 'fix round')}` : ''}`),
    );
    return;
  }
  for (const failure of event.failed)
    output.info(
      `${colors.red('check failed')} ${failure.command}\n${colors.dim(failure.output.trim().split('\n').slice(-15).join('\n'))}`,
    );
  if (event.stopped !== undefined) output.info(colors.dim(`fix loop stopped: ${event.stopped}`));
}

function renderHandEdits(event: Extract<DaemonEvent, { type: 'hand-edit' }>, output: Output): void {
  const { colors } = output;
  const edited = event.files.filter((file) => file.disk === 'edited').map((file) => file.path);
  const deleted = event.files.filter((file) => file.disk === 'missing').map((file) => file.path);
  if (edited.length > 0)
    output.info(
      `${colors.yellow('edited by hand')}: ${list(edited)} ${colors.dim('(kept; merged into the next regeneration)')}`,
    );
  if (deleted.length > 0)
    output.info(
      `${colors.yellow('deleted by hand')}: ${list(deleted)} ${colors.dim(`(not recreated; \`smol regen ${deleted[0]}\` recreates it)`)}`,
    );
}

function renderResult(result: RunSummary, output: Output, interactive: boolean): void {
  const { colors } = output;
  const conflicts = result.changes.filter((change) => change.action === 'conflict').map((change) => change.path);
  for (const refused of result.refused) output.warn(`${refused.path}: ${refused.reason}`);
  if (result.applied) {
    if (result.written.length > 0)
      output.info(`${colors.green('applied')} ${count(result.written.length, 'file')}: ${list(result.written)}`);
    else if (conflicts.length === 0 && result.failed.length === 0 && result.refused.length === 0)
      output.info(colors.green('up to date'));
  } else if (result.changes.length === 0) {
    if (result.failed.length === 0) output.info(colors.green('up to date'));
  } else {
    output.info(`${colors.bold('staged')}: ${changeSummary(result.changes, result.unchanged)}`);
    if (result.changes.length > conflicts.length)
      output.info(
        colors.dim(
          interactive ? 'press a to apply, r to review, d for diffs' : 'run `smol apply` to review and write them',
        ),
      );
  }
  if (conflicts.length > 0) {
    const how = interactive ? 'press r to resolve them' : '`smol apply --theirs|--ours|--markers PATH` resolves them';
    output.info(
      `${colors.yellow(count(conflicts.length, 'conflict'))} between your edits and the new generation, left staged: ${list(conflicts)} ${colors.dim(`(${how})`)}`,
    );
  }
}

export function list(paths: readonly string[]): string {
  if (paths.length <= LIST_LIMIT) return paths.join(', ');
  return `${paths.slice(0, LIST_LIMIT).join(', ')} and ${paths.length - LIST_LIMIT} more`;
}
