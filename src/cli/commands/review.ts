import { acceptFiles } from '../../engine/accept.js';
import type { ApplyResult, ConflictResolution } from '../../engine/apply.js';
import { listHistory } from '../../engine/history.js';
import { redoNext, undoLast } from '../../engine/undo.js';
import { recoverJournal } from '../../engine/journal.js';
import { reportRecovery, withRecoveryReport } from '../report-recovery.js';
import { statePaths } from '../../engine/paths.js';
import { declaredProvider } from '../../engine/status.js';
import { generationSettings, planInputHash, specInputs } from '../../engine/generation-inputs.js';
import { lockFileHash } from '../../engine/lock.js';
import type { RunEvent } from '../../engine/events.js';
import { runPipeline, type RunResult } from '../../engine/run.js';
import { loadStaged, type StagedRun } from '../../engine/staging.js';
import { SmolError } from '../../errors.js';
import { sha256 } from '../../internal/hash.js';
import { slashPath } from '../../internal/slash-path.js';
import type { Spec } from '../../spec/types.js';
import { readOutputFile } from '../../workspace/write.js';
import { confirm } from '../confirm.js';
import { createPager, type Pager } from '../pager.js';
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

interface DiffFlags extends ModelFlags {
  json?: boolean;
  generate?: boolean;
  /** False with `--no-pager`. */
  pager?: boolean;
}

/**
 * `smol diff [spec]`: shows what is staged, for free. When the staged changes are not current (the spec, the
 * lock or a file moved on since), it says what generating them would cost and generates only when asked
 * (`--generate`, or yes at the prompt on a terminal). Writes nothing in outDir.
 */
export async function diffCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: DiffFlags,
): Promise<number> {
  const json = flags.json === true;
  const spec = await loadSpecFromArgs(specArg, flags, io);
  const paths = statePaths(spec.dir);
  reportRecovery(output, await recoverJournal(paths, spec.outDir));
  const staged = await loadStaged(paths);
  if (flags.generate !== true && staged !== undefined && (await stagedIsCurrent(paths, spec, staged))) {
    await showStaged(output, paths, staged, json, { failed: [], rejected: [] }, pagerFor(io, output, flags));
    return 0;
  }
  const context = await loadModelContext(specArg, flags, io);
  announceProvider(output, context, json);
  const run = (mode: 'plan' | 'preview'): Promise<RunResult> => {
    // With --json the result is one object, printed at the end: no progress events.
    const progress = createProgress(io, output);
    // Planning only counts what a run would generate: its summary line (no changes) would mislead.
    const onEvent = (event: RunEvent): void => {
      if (!json && !(mode === 'plan' && event.type === 'run-done')) progress.onEvent(event);
    };
    return withCancellation(io, (signal) =>
      runPipeline({
        spec: context.spec,
        provider: context.provider,
        providerIdentity: context.description,
        signal,
        onEvent: withRecoveryReport(output, onEvent),
        mode,
        command: 'diff',
      }),
    ).finally(() => progress.stop());
  };
  if (flags.generate !== true) {
    // Planning only (free when the spec did not change): how many files would need a generation call?
    const planned = await run('plan');
    const needed = planned.assessments
      .filter((assessment) => assessment.regenerate)
      .map((assessment) => assessment.path);
    if (needed.length > 0 && !(await confirmGeneration(io, output, needed, json))) return 0;
  }
  const result = await run('preview');
  await showStaged(
    output,
    paths,
    result.staged,
    json,
    { failed: result.failed, rejected: result.rejected, usage: result.usage },
    pagerFor(io, output, flags),
  );
  return result.failed.length > 0 ? 1 : 0;
}

/** Asks (on a terminal) before paying for generation; elsewhere says what it would cost and how to go on. */
async function confirmGeneration(
  io: CommandContext['io'],
  output: CommandContext['output'],
  needed: readonly string[],
  json: boolean,
): Promise<boolean> {
  const what = `${needed.length} file${needed.length === 1 ? '' : 's'} need${needed.length === 1 ? 's' : ''} generating (${needed.length} model call${needed.length === 1 ? '' : 's'}): ${needed.slice(0, 5).join(', ')}${needed.length > 5 ? ', …' : ''}`;
  if (json || !canReview(io)) {
    if (json) output.json({ summary: 'not staged', needsGeneration: needed, calls: needed.length });
    else
      output.result(
        `${what}.\nNothing is staged for them yet: \`smol diff --generate\` (or \`smol run\`) generates and shows them.`,
      );
    return false;
  }
  return confirm(io, output, `${what}. Generate them now? [y/N] `);
}

function pagerFor(io: CommandContext['io'], output: CommandContext['output'], flags: DiffFlags): Pager {
  return createPager(io, { noPager: flags.pager === false, fallback: (text) => output.result(text) });
}

/** Whether the staged changes still describe what a run would do: same lock, same plan input, same files on disk. */
async function stagedIsCurrent(paths: ReturnType<typeof statePaths>, spec: Spec, staged: StagedRun): Promise<boolean> {
  if (staged.lockHash !== (await lockFileHash(paths.lockFile))) return false;
  const settings = generationSettings(declaredProvider(spec.settings) ?? staged.lockHead.settings.provider, spec);
  if (staged.lockHead.plan.inputHash !== planInputHash(settings, specInputs(spec).rendered)) return false;
  for (const change of staged.changes) {
    const current = await readOutputFile(spec.outDir, change.path).catch(() => undefined);
    if ((current === undefined ? null : sha256(current)) !== change.before) return false;
  }
  return true;
}

async function showStaged(
  output: CommandContext['output'],
  paths: ReturnType<typeof statePaths>,
  staged: StagedRun,
  json: boolean,
  extra: { failed: RunResult['failed']; rejected: RunResult['rejected']; usage?: RunResult['usage'] },
  page: Pager,
): Promise<void> {
  const views = await loadViews(paths.objects, staged);
  if (json) {
    output.json({
      summary: stagedSummary(staged),
      changes: views.map((view) => ({
        path: view.change.path,
        action: view.change.action,
        reasons: view.change.reasons,
        merged: view.change.merged,
        diff: unifiedDiff(view),
      })),
      ...extra,
    });
    return;
  }
  // Long diffs go through the pager on a terminal, as git does.
  await page(`${stagedSummary(staged)}\n${views.map((view) => `\n${renderChange(view, output.colors)}\n`).join('')}`);
  if (views.length > 0) output.info(output.colors.dim('`smol apply` reviews and writes these with no new model call.'));
}

/** `smol apply [spec]`: write what is staged, with no model call; resolve conflicts. */
export async function applyCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: ApplyFlags,
): Promise<number> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  const paths = statePaths(spec.dir);
  reportRecovery(output, await recoverJournal(paths, spec.outDir));
  const chosen = [
    ['theirs', (flags.theirs ?? []).map(slashPath)],
    ['ours', (flags.ours ?? []).map(slashPath)],
    ['markers', (flags.markers ?? []).map(slashPath)],
  ] as const;
  const named = chosen.flatMap(([, files]) => files);
  const loaded = await loadStaged(paths);
  // The undo history names this apply after what the user ran, not after what staged the changes.
  const staged = loaded === undefined ? undefined : { ...loaded, command: named.length > 0 ? 'resolve' : 'apply' };
  if (staged === undefined || staged.changes.length === 0) {
    if (named.length > 0) {
      throw new SmolError('NOT_A_CONFLICT', `Nothing is staged, so ${named.join(', ')} is not a conflict to resolve.`, {
        exitCode: 2,
        hint: '`smol status` shows where files stand; `smol run` or `smol diff` stages changes and conflicts.',
      });
    }
    if (flags.json === true) output.json({ applied: [], refused: [], pending: [], conflicts: [] });
    else output.info('Nothing is staged. `smol diff` or `smol run` stages changes.');
    return 0;
  }
  const resolutions = resolutionsOf(staged, chosen);
  const result = await applyOrReview({ io, output }, paths, spec.outDir, staged, resolutions, flags);
  if (result === undefined) return staged.changes.some((change) => change.action === 'conflict') ? 1 : 0;
  if (flags.json === true) output.json(result);
  else reportApply(output, result, staged);
  // Unresolved conflicts and refused changes mean the files are not where the user asked: exit 1.
  return result.refused.length > 0 || result.conflicts.length > 0 ? 1 : 0;
}

/** The conflicts the user settled with `--theirs/--ours/--markers`: each must be a staged conflict. */
function resolutionsOf(
  staged: StagedRun,
  chosen: readonly (readonly [ConflictResolution, readonly string[]])[],
): Map<string, ConflictResolution> {
  const resolutions = new Map<string, ConflictResolution>();
  for (const [key, files] of chosen) {
    for (const file of files) {
      const change = staged.changes.find((entry) => entry.path === file);
      if (change?.action !== 'conflict') {
        throw new SmolError('NOT_A_CONFLICT', `${file} is not a staged conflict.`, {
          exitCode: 2,
          hint: '`smol status` lists the staged changes and conflicts.',
        });
      }
      resolutions.set(file, key);
    }
  }
  return resolutions;
}

/**
 * Resolutions apply at once (and, without --yes, the rest is reviewed); --yes applies everything; else
 * the changes are reviewed on a terminal. Undefined: the review wrote nothing.
 */
async function applyOrReview(
  { io, output }: Pick<CommandContext, 'io' | 'output'>,
  paths: ReturnType<typeof statePaths>,
  outDir: string,
  staged: StagedRun,
  resolutions: Map<string, ConflictResolution>,
  flags: ApplyFlags,
): Promise<ApplyResult | undefined> {
  if (resolutions.size > 0)
    return applyAll(paths, outDir, staged, resolutions, flags.yes === true ? undefined : new Set(resolutions.keys()));
  if (flags.yes === true) return applyAll(paths, outDir, staged);
  if (canReview(io) && flags.json !== true) return reviewAndApply(io, output, paths, outDir, staged);
  throw new SmolError(
    'APPLY_NEEDS_YES',
    `${stagedSummary(staged)} staged; not applied without a terminal to review on.`,
    {
      exitCode: 2,
      hint: 'Pass --yes to apply every staged change, or run `smol apply` in a terminal to review them file by file.',
    },
  );
}

interface UndoFlags extends ModelFlags {
  json?: boolean;
  list?: boolean;
}

/** `smol undo [spec]`: reverts the latest apply not yet undone; `--list` shows the history. */
export async function undoCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: UndoFlags,
): Promise<number> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  const paths = statePaths(spec.dir);
  if (flags.list === true) {
    const history = await listHistory(paths);
    if (flags.json === true) {
      output.json({
        entries: history.map(({ index, entry, undone }) => ({
          index,
          command: entry.command,
          createdAt: entry.createdAt,
          summary: entry.summary,
          files: entry.files.map((file) => file.path),
          undone,
        })),
      });
    } else if (history.length === 0) {
      output.result('No apply in the history yet.');
    } else {
      for (const { index, entry, undone } of [...history].reverse()) {
        output.result(
          `${String(index).padStart(4)}  ${entry.createdAt.replace('T', ' ').slice(0, 19)}  ${undone ? output.colors.dim(`${entry.summary} (undone: smol redo re-applies it)`) : entry.summary}`,
        );
      }
    }
    return 0;
  }
  reportRecovery(output, await recoverJournal(paths, spec.outDir));
  const result = await undoLast(paths, spec.outDir);
  if (flags.json === true) output.json({ index: result.index, command: result.entry.command, files: result.files });
  else
    output.info(
      `Undone: ${result.entry.summary}${result.files.length === 0 ? '' : ` (restored ${result.files.join(', ')})`}. \`smol redo\` re-applies it.`,
    );
  return 0;
}

/** `smol redo [spec]`: re-applies the apply `smol undo` last reverted. */
export async function redoCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: { json?: boolean } & ModelFlags,
): Promise<number> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  const paths = statePaths(spec.dir);
  reportRecovery(output, await recoverJournal(paths, spec.outDir));
  const result = await redoNext(paths, spec.outDir);
  if (flags.json === true) output.json({ index: result.index, command: result.entry.command, files: result.files });
  else output.info(`Redone: ${result.entry.summary}.`);
  return 0;
}

/** `smol accept PATH…`: the files on disk become the user's accepted versions (`smol check` passes). */
export async function acceptCommand(
  { io, output }: CommandContext,
  files: string[],
  flags: { spec?: string; json?: boolean } & ModelFlags,
): Promise<number> {
  const spec = await loadSpecFromArgs(flags.spec, flags, io);
  const result = await acceptFiles(statePaths(spec.dir), spec.outDir, files.map(slashPath));
  if (flags.json === true) output.json(result);
  else {
    if (result.accepted.length > 0)
      output.info(`accepted ${result.accepted.join(', ')}: kept as your edits, merged into every later regeneration.`);
    if (result.unchanged.length > 0) output.info(output.colors.dim(`already accepted: ${result.unchanged.join(', ')}`));
  }
  return 0;
}
