import { statePaths } from '../../engine/paths.js';
import { runPipeline, type RunResult } from '../../engine/run.js';
import type { ApplyResult } from '../../engine/apply.js';
import { announceProvider, loadModelContext, type ModelContext } from '../context.js';
import { checksWithFixes } from '../report-checks.js';
import type { CliIO, Output } from '../io.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { createJsonProgress, createProgress } from '../progress.js';
import { withRecoveryReport } from '../report-recovery.js';
import { canReview, reportApply, reviewAndApply } from '../review-flow.js';
import { withCancellation } from '../signals.js';
import { spendingGuard, type LimitFlags } from '../spending-limit.js';
import { count } from '../words.js';

export interface RunFlags extends ModelFlags, LimitFlags {
  yes?: boolean;
  all?: boolean;
  json?: boolean;
}

/** `smol run [spec]`. */
export async function runCommand(
  { io, output }: CommandContext,
  spec: string | undefined,
  flags: RunFlags,
): Promise<number> {
  return runReviewAndCheck(io, output, spec, flags, { force: flags.all === true ? 'all' : undefined, command: 'run' });
}

/** Which files a run regenerates whatever their state, which it looks at, and which command it is. */
export interface RunScope {
  force: 'all' | readonly string[] | undefined;
  only?: readonly string[] | undefined;
  command: string;
}

/**
 * The whole of `run` and `regen`: generate, then write with `--yes` or `apply: auto`, review file by file on
 * a terminal, or stage and say so elsewhere; report; run the spec's checks after a write. Returns the exit
 * code.
 */
export async function runReviewAndCheck(
  io: CliIO,
  output: Output,
  specArg: string | undefined,
  flags: RunFlags,
  scope: RunScope,
): Promise<number> {
  const context = await loadModelContext(specArg, flags, io);
  const { spec } = context;
  const json = flags.json === true;
  announceProvider(output, context, json);
  const write = flags.yes === true || spec.settings.apply === 'auto';
  const review = !write && !json && canReview(io);
  const result = await generateWithProgress(io, output, context, flags, scope, write);
  const applied = review
    ? await reviewAndApply(io, output, statePaths(spec.dir), spec.outDir, result.staged)
    : undefined;
  const conflicts = result.staged.changes.filter((change) => change.action === 'conflict').map((change) => change.path);
  reportRun(output, result, { json, write, review, applied, conflicts });
  const wrote = write ? result.written.length > 0 : (applied?.applied.length ?? 0) > 0;
  const checksPassed = wrote ? await runChecksAfterApply(io, output, context, write, json) : true;
  return result.failed.length > 0 || conflicts.length > 0 || result.refused.length > 0 || !checksPassed ? 1 : 0;
}

/** The run itself, its events rendered as progress (NDJSON with `--json`); Ctrl+C cancels it. */
async function generateWithProgress(
  io: CliIO,
  output: Output,
  context: ModelContext,
  flags: RunFlags,
  scope: RunScope,
  write: boolean,
): Promise<RunResult> {
  const { spec, provider, description } = context;
  const json = flags.json === true;
  const progress = json ? createJsonProgress(output) : createProgress(io, output);
  try {
    return await withCancellation(io, (signal) =>
      runPipeline({
        spec,
        provider,
        providerIdentity: description,
        signal,
        onEvent: json ? progress.onEvent : withRecoveryReport(output, progress.onEvent),
        mode: write ? 'apply' : 'preview',
        force: scope.force,
        only: scope.only,
        command: scope.command,
        beforeGenerate: spendingGuard(flags, spec, provider.name),
      }),
    );
  } finally {
    progress.stop();
  }
}

/** What the run wrote, staged or left: the `result` event with `--json`, words otherwise. */
function reportRun(
  output: Output,
  result: RunResult,
  how: { json: boolean; write: boolean; review: boolean; applied: ApplyResult | undefined; conflicts: string[] },
): void {
  const { json, write, review, applied, conflicts } = how;
  const pending = result.staged.changes.filter((change) => change.action !== 'conflict');
  if (json) {
    output.json({
      type: 'result',
      written: result.written,
      staged: write ? [] : pending.map((change) => ({ path: change.path, action: change.action })),
      rejected: result.rejected,
      failed: result.failed,
      conflicts,
      usage: result.usage,
    });
  } else if (write) {
    reportApply(
      output,
      { applied: result.written, refused: result.refused, pending: conflicts, conflicts },
      result.staged,
    );
  } else if (applied !== undefined) {
    reportApply(output, applied, result.staged);
  } else if (!review && pending.length > 0) {
    output.info(
      `${output.colors.yellow('nothing written')}: ${count(pending.length, 'change')} staged. \`smol diff\` shows them; \`smol apply --yes\` (or \`smol run --yes\`, or \`apply: auto\`) writes them with no new model call.`,
    );
  }
}

/** `checks` after an apply (design.md 10); with `fix: true` failures go to debug rounds. */
async function runChecksAfterApply(
  io: CliIO,
  output: Output,
  context: ModelContext,
  apply: boolean,
  json: boolean,
): Promise<boolean> {
  if (context.spec.settings.checks.length === 0) return true;
  return (await checksWithFixes(io, output, context, { apply, json })).passed;
}
