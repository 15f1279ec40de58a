import { configuredProviderName } from '../../llm/configured.js';
import { computeStatus, type FileStatus, type StatusReport } from '../../engine/status.js';
import { announceProvider, loadModelContext, loadSpecFromArgs } from '../context.js';
import type { CliIO, Output } from '../io.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';

interface JsonFlags extends ModelFlags {
  json?: boolean;
}

/** `smol plan [spec]`: the plan and what a run would regenerate, with planning calls only. */
export async function planCommand({ io, output }: CommandContext, specArg: string | undefined, flags: JsonFlags): Promise<number> {
  // Loaded here, not at the top: `status` and `check` share this module and need none of the pipeline.
  const [{ runPipeline }, { renderPlan }, { createProgress }, { withCancellation }] = await Promise.all([
    import('../../engine/run.js'),
    import('../../plan/plan-markdown.js'),
    import('../progress.js'),
    import('../signals.js'),
  ]);
  const context = await loadModelContext(specArg, flags, io);
  const { spec, provider, description } = context;
  announceProvider(output, context, flags.json === true);
  const progress = createProgress(io, output, flags.json === true ? 'json' : 'auto');
  const result = await withCancellation(io, (signal) =>
    runPipeline({ spec, provider, providerIdentity: description, signal, onEvent: flags.json === true ? () => {} : progress.onEvent, mode: 'plan' }),
  ).finally(() => progress.stop());
  const files = result.assessments.map((file) => ({ path: file.path, disk: file.disk, regenerate: file.regenerate, reasons: file.reasons }));
  const removed = result.changes.map((change) => ({ path: change.path, action: change.action, reasons: change.reasons }));
  if (flags.json === true) {
    output.json({ plan: result.plan, files, removed, rejected: result.rejected, usage: result.usage });
    return 0;
  }
  output.result(renderPlan(result.plan));
  const { colors } = output;
  for (const file of files) {
    const why = file.regenerate ? colors.yellow(`regenerate: ${file.reasons.join(', ')}`) : colors.dim(notRegenerated(file.disk, file.reasons));
    output.result(`${file.path}  ${why}`);
  }
  for (const file of removed) output.result(`${file.path}  ${colors.yellow(file.reasons.join(', '))}${file.action === 'delete' ? ' (would be deleted)' : ''}`);
  for (const rejected of result.rejected) output.result(`${rejected.path}  ${colors.red(`refused: ${rejected.reason}`)}`);
  return 0;
}

/** `smol status [spec]`: where every file stands, with no model call. */
export async function statusCommand({ io, output }: CommandContext, specArg: string | undefined, flags: JsonFlags): Promise<number> {
  const report = await statusOf(io, specArg, flags);
  if (flags.json === true) output.json(report);
  else printStatus(output, report);
  return 0;
}

/** `smol check [spec]`: exit 1 when the spec, the lock and the files disagree (for CI). */
export async function checkCommand({ io, output }: CommandContext, specArg: string | undefined, flags: JsonFlags): Promise<number> {
  const report = await statusOf(io, specArg, flags);
  const problems = checkProblems(report);
  if (flags.json === true) output.json({ ok: problems.length === 0, problems, ...report });
  else if (problems.length === 0) output.info('smol.lock, the spec and the outputs agree.');
  else for (const problem of problems) output.error(problem);
  return problems.length === 0 ? 0 : 1;
}

async function statusOf(io: CliIO, specArg: string | undefined, flags: ModelFlags): Promise<StatusReport> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  return computeStatus(spec, configuredProviderName(spec.settings, io.env));
}

function notRegenerated(disk: string, reasons: readonly string[]): string {
  if (disk === 'edited') return 'kept: edited by hand';
  if (disk === 'missing') return reasons.length > 0 ? 'deleted by hand: not recreated (smol regen PATH recreates it)' : 'deleted by hand';
  return 'up to date';
}

export function fileState(file: FileStatus): string {
  if (file.removed === true) return file.disk === 'edited' ? 'removed from plan (edited, kept)' : 'removed from plan';
  if (file.reasons === undefined) return file.disk === 'clean' ? 'clean (spec changed: run `smol plan` to see if it is stale)' : file.disk;
  if (file.reasons.length > 0 && file.disk !== 'missing') return `stale: ${file.reasons.join(', ')}${file.disk === 'edited' ? ' (edited by hand)' : ''}`;
  return file.disk === 'absent' ? 'not generated yet' : file.disk;
}

function printStatus(output: Output, report: StatusReport): void {
  if (!report.hasLock) {
    output.info('No smol.lock yet: nothing has been generated. Run `smol run`.');
    return;
  }
  if (report.settingsChanged) output.warn('the generation settings (provider, model or temperature) changed since the last run: every file is stale.');
  else if (report.specChanged) output.warn('the spec changed since the last run; `smol plan` shows which files that affects.');
  for (const file of report.files) output.result(`${file.path}  ${fileState(file)}`);
}

/** What `smol check` fails on. */
export function checkProblems(report: StatusReport): string[] {
  if (!report.hasLock) return ['no smol.lock: run `smol run` and commit the lock.'];
  const problems: string[] = [];
  if (report.settingsChanged) problems.push('the generation settings changed since smol.lock was written: run `smol run`.');
  else if (report.specChanged) problems.push('the spec changed since smol.lock was written: run `smol run`.');
  for (const file of report.files) {
    if (file.disk === 'edited') problems.push(`${file.path}: edited since smol wrote it (drifted from smol.lock).`);
    else if (file.disk === 'missing') problems.push(`${file.path}: missing (smol.lock says it was written).`);
    else if (file.removed === true) problems.push(`${file.path}: no longer in the plan.`);
    else if (file.reasons !== undefined && file.reasons.length > 0) problems.push(`${file.path}: stale (${file.reasons.join(', ')}).`);
  }
  return problems;
}
