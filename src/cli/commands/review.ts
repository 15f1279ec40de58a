import type { Command } from 'commander';
import { undoLastApply, type ConflictResolution } from '../../engine/apply.js';
import { recoverJournal } from '../../engine/journal.js';
import { statePaths } from '../../engine/paths.js';
import { runPipeline } from '../../engine/run.js';
import { loadStaged } from '../../engine/staging.js';
import { SmolError } from '../../errors.js';
import { loadViews, renderChange, stagedSummary, unifiedDiff } from '../../review/render.js';
import { announceProvider, loadModelContext, loadSpecFromArgs } from '../context.js';
import type { CliIO, Output } from '../io.js';
import { addModelFlags, type ModelFlags } from '../options.js';
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

/** `diff`, `apply` and `undo`: the review loop around the staging area. */
export function registerReview(program: Command, io: CliIO, output: Output, setExit: (code: number) => void): void {
  addModelFlags(
    program
      .command('diff [spec]')
      .description('generate what is stale into the staging area and show unified diffs; writes nothing in outDir')
      .option('--json', 'print the changes (with their diffs) as JSON on stdout'),
  ).action(async (specArg: string | undefined, flags: { json?: boolean } & ModelFlags) => {
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
    setExit(result.failed.length > 0 ? 1 : 0);
  });

  const collect = (value: string, previous: string[] = []): string[] => [...previous, value.replace(/\\/g, '/').replace(/^\.\//, '')];
  addModelFlags(
    program
      .command('apply [spec]')
      .description('apply what `smol diff` or `smol run` staged, with no model call; resolve conflicts')
      .option('-y, --yes', 'apply every staged change without asking')
      .option('--theirs <path>', 'resolve a conflict by taking the new generation (repeatable)', collect)
      .option('--ours <path>', 'resolve a conflict by keeping your version (repeatable)', collect)
      .option('--markers <path>', 'resolve a conflict by writing both with conflict markers (repeatable)', collect)
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (specArg: string | undefined, flags: ApplyFlags) => {
    const spec = await loadSpecFromArgs(specArg, flags, io);
    const paths = statePaths(spec.dir);
    await recoverJournal(paths);
    const staged = await loadStaged(paths);
    if (staged === undefined || staged.changes.length === 0) {
      if (flags.json === true) output.json({ applied: [], refused: [], pending: [] });
      else output.info('Nothing is staged. `smol diff` or `smol run` stages changes.');
      return;
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
      if (result === undefined) return;
    } else {
      throw new SmolError('APPLY_NEEDS_YES', `${stagedSummary(staged)} staged; not applied without a terminal to review on.`, {
        exitCode: 2,
        hint: 'Pass --yes to apply every staged change, or run `smol apply` in a terminal to review them file by file.',
      });
    }
    if (flags.json === true) output.json(result);
    else reportApply(output, result, staged);
    setExit(result.refused.length > 0 ? 1 : 0);
  });

  addModelFlags(
    program
      .command('undo [spec]')
      .description('revert the last apply; refuses (and says which) if files were edited since')
      .option('--json', 'print the result as JSON on stdout'),
  ).action(async (specArg: string | undefined, flags: { json?: boolean } & ModelFlags) => {
    const spec = await loadSpecFromArgs(specArg, flags, io);
    const result = await undoLastApply(statePaths(spec.dir));
    if (flags.json === true) output.json(result);
    else output.info(result.reverted.length === 0 ? 'Undone (no file had changed).' : `Undone: ${result.reverted.join(', ')}`);
  });
}
