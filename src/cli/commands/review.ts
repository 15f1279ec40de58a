import { undoLastApply, type ConflictResolution } from '../../engine/apply.js';
import { recoverJournal } from '../../engine/journal.js';
import { statePaths } from '../../engine/paths.js';
import { runPipeline } from '../../engine/run.js';
import { loadStaged } from '../../engine/staging.js';
import { SmolError } from '../../errors.js';
import { loadViews, renderChange, stagedSummary, unifiedDiff } from '../../review/render.js';
import { announceProvider, loadModelContext, loadSpecFromArgs } from '../context.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { createProgress } from '../progress.js';
import { applyAll, canReview, reportApply, reviewAndApply } from '../review-flow.js';
import { withCancellation } from '../signals.js';

interface ApplyFlags extends ModelFlags {
  yes?: boolean;
  json?: boolean;
  theirs?: string[];
  ours?: string[];
  markers?: string[];
}

/** `smol diff [spec]`: stage what is stale and show it; writes nothing in outDir. */
export async function diffCommand({ io, output }: CommandContext, specArg: string | undefined, flags: { json?: boolean } & ModelFlags): Promise<number> {
  const context = await loadModelContext(specArg, flags, io);
  const { spec, provider, description } = context;
  announceProvider(output, context, flags.json === true);
  const progress = createProgress(io, output, flags.json === true ? 'json' : 'auto');
  const result = await withCancellation(io, (signal) =>
    runPipeline({ spec, provider, providerIdentity: description, signal, onEvent: flags.json === true ? () => {} : progress.onEvent, mode: 'preview' }),
  ).finally(() => progress.stop());
  const views = await loadViews(statePaths(spec.dir).objects, result.staged);
  if (flags.json === true) {
    output.json({
      summary: stagedSummary(result.staged),
      changes: views.map((view) => ({ path: view.change.path, action: view.change.action, reasons: view.change.reasons, merged: view.change.merged, diff: unifiedDiff(view) })),
      failed: result.failed,
      rejected: result.rejected,
      usage: result.usage,
    });
  } else {
    output.result(stagedSummary(result.staged));
    for (const view of views) output.result(`\n${renderChange(view, output.colors)}`);
    if (views.length > 0) output.info(output.colors.dim('`smol apply` reviews and writes these with no new model call.'));
  }
  return result.failed.length > 0 ? 1 : 0;
}

/** `smol apply [spec]`: write what is staged, with no model call; resolve conflicts. */
export async function applyCommand({ io, output }: CommandContext, specArg: string | undefined, flags: ApplyFlags): Promise<number> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  const paths = statePaths(spec.dir);
  await recoverJournal(paths);
  const staged = await loadStaged(paths);
  if (staged === undefined || staged.changes.length === 0) {
    if (flags.json === true) output.json({ applied: [], refused: [], pending: [] });
    else output.info('Nothing is staged. `smol diff` or `smol run` stages changes.');
    return 0;
  }
  const resolutions = new Map<string, ConflictResolution>();
  for (const [key, list] of [['theirs', flags.theirs], ['ours', flags.ours], ['markers', flags.markers]] as const) {
    for (const file of list ?? []) {
      const change = staged.changes.find((entry) => entry.path === file);
      if (change?.action !== 'conflict') {
        throw new SmolError('NOT_A_CONFLICT', `${file} is not a staged conflict.`, { exitCode: 2, hint: '`smol diff` lists the staged changes and conflicts.' });
      }
      resolutions.set(file, key);
    }
  }
  let result;
  if (resolutions.size > 0) {
    result = await applyAll(paths, spec.outDir, staged, resolutions, flags.yes === true ? undefined : new Set(resolutions.keys()));
  } else if (flags.yes === true) {
    result = await applyAll(paths, spec.outDir, staged);
  } else if (canReview(io) && flags.json !== true) {
    result = await reviewAndApply(io, output, paths, spec.outDir, staged);
    if (result === undefined) return 0;
  } else {
    throw new SmolError('APPLY_NEEDS_YES', `${stagedSummary(staged)} staged; not applied without a terminal to review on.`, {
      exitCode: 2,
      hint: 'Pass --yes to apply every staged change, or run `smol apply` in a terminal to review them file by file.',
    });
  }
  if (flags.json === true) output.json(result);
  else reportApply(output, result, staged);
  return result.refused.length > 0 ? 1 : 0;
}

/** `smol undo [spec]`. */
export async function undoCommand({ io, output }: CommandContext, specArg: string | undefined, flags: { json?: boolean } & ModelFlags): Promise<number> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  const result = await undoLastApply(statePaths(spec.dir));
  if (flags.json === true) output.json(result);
  else output.info(result.reverted.length === 0 ? 'Undone (no file had changed).' : `Undone: ${result.reverted.join(', ')}`);
  return 0;
}
