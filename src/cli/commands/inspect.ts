import type { DiskState } from '../../engine/assess.js';
import { describeReasons, type StaleReason } from '../../engine/reasons.js';
import { computeStatus, type StatusReport } from '../../engine/status.js';
import { checkProblems, renderStatus } from '../render-status.js';
import { reportRecovery, withRecoveryReport } from '../report-recovery.js';
import { renderPlan } from '../../plan/plan-markdown.js';
import { runPipeline } from '../../engine/run.js';
import { announceProvider, loadModelContext, loadSpecFromArgs } from '../context.js';
import type { CliIO } from '../io.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { createProgress } from '../progress.js';
import { withCancellation } from '../signals.js';

interface JsonFlags extends ModelFlags {
  json?: boolean;
}

/** `smol plan [spec]`: the plan and what a run would regenerate, with planning calls only. */
export async function planCommand({ io, output }: CommandContext, specArg: string | undefined, flags: JsonFlags): Promise<number> {
  const context = await loadModelContext(specArg, flags, io);
  const { spec, provider, description } = context;
  announceProvider(output, context, flags.json === true);
  const progress = createProgress(io, output, flags.json === true ? 'json' : 'auto');
  const result = await withCancellation(io, (signal) =>
    runPipeline({ spec, provider, providerIdentity: description, signal, onEvent: flags.json === true ? () => {} : withRecoveryReport(output, progress.onEvent), mode: 'plan' }),
  ).finally(() => progress.stop());
  const files = result.assessments.map((file) => ({ path: file.path, disk: file.disk.state, regenerate: file.regenerate, reasons: file.reasons }));
  const removed = result.changes.map((change) => ({ path: change.path, action: change.action, reasons: change.reasons }));
  if (flags.json === true) {
    output.json({ plan: result.plan, files, removed, rejected: result.rejected, usage: result.usage });
    return 0;
  }
  output.result(renderPlan(result.plan));
  const { colors } = output;
  for (const file of files) {
    const why = file.regenerate ? colors.yellow(`regenerate: ${describeReasons(file.reasons)}`) : colors.dim(notRegenerated(file.disk, file.reasons));
    output.result(`${file.path}  ${why}`);
  }
  for (const file of removed) output.result(`${file.path}  ${colors.yellow(describeReasons(file.reasons))}${file.action === 'delete' ? ' (would be deleted)' : ''}`);
  for (const rejected of result.rejected) output.result(`${rejected.path}  ${colors.red(`refused: ${rejected.reason}`)}`);
  return 0;
}

/** `smol status [spec]`: where every file stands, with no model call. */
export async function statusCommand({ io, output }: CommandContext, specArg: string | undefined, flags: JsonFlags): Promise<number> {
  const report = await statusOf(io, specArg, flags, true);
  if (flags.json === true) output.json(report);
  else {
    reportRecovery(output, report.recovered);
    renderStatus(output, report);
  }
  return 0;
}

/** `smol check [spec]`: exit 1 when the spec, the lock and the files disagree (for CI). Never writes. */
export async function checkCommand({ io, output }: CommandContext, specArg: string | undefined, flags: JsonFlags): Promise<number> {
  const report = await statusOf(io, specArg, flags, false);
  const problems = checkProblems(report);
  if (flags.json === true) output.json({ ok: problems.length === 0, problems, ...report });
  else {
    reportRecovery(output, report.recovered);
    if (problems.length === 0) output.info('smol.lock, the spec and the outputs agree.');
    else for (const problem of problems) output.error(problem);
  }
  return problems.length === 0 ? 0 : 1;
}

async function statusOf(io: CliIO, specArg: string | undefined, flags: ModelFlags, syncEdits: boolean): Promise<StatusReport> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  return computeStatus(spec, { syncEdits });
}

function notRegenerated(disk: DiskState, reasons: readonly StaleReason[]): string {
  if (disk === 'edited' || disk === 'conflict') return 'kept: edited by hand';
  if (disk === 'missing') return reasons.length > 0 ? 'deleted by hand: not recreated (smol regen PATH recreates it)' : 'deleted by hand';
  return 'up to date';
}
