import type { DiskState } from '../../engine/assess.js';
import { describeReasons, type StaleReason } from '../../engine/reasons.js';
import { renderPlan } from '../../plan/plan-markdown.js';
import { runPipeline } from '../../engine/run.js';
import { estimateRun, type RunEstimate } from '../../engine/estimate-run.js';
import type { RunEvent, RunUsage } from '../../engine/events.js';
import { priceFor } from '../../llm/pricing.js';
import { describeEstimate } from '../estimate-text.js';
import { count } from '../words.js';
import { announceProvider, loadModelContext } from '../context.js';
import { withRecoveryReport } from '../report-recovery.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { createProgress } from '../progress.js';
import { withCancellation } from '../signals.js';

interface JsonFlags extends ModelFlags {
  json?: boolean;
}

/** `smol plan [spec]`: the plan, what a run would regenerate and what that would cost, with planning calls only. */
export async function planCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: JsonFlags,
): Promise<number> {
  const context = await loadModelContext(specArg, flags, io);
  const { spec, provider, description } = context;
  announceProvider(output, context, flags.json === true);
  // With --json the result is one object, printed at the end: no progress events.
  const progress = createProgress(io, output);
  // The run's own summary line counts changes, which a plan never makes: this command prints its own.
  const onEvent = withRecoveryReport(output, (event: RunEvent): void => {
    if (flags.json !== true && event.type !== 'run-done') progress.onEvent(event);
  });
  const result = await withCancellation(io, (signal) =>
    runPipeline({ spec, provider, providerIdentity: description, signal, onEvent, mode: 'plan' }),
  ).finally(() => progress.stop());
  const files = result.assessments.map((file) => ({
    path: file.path,
    disk: file.disk.state,
    regenerate: file.regenerate,
    reasons: file.reasons,
  }));
  const removed = result.changes.map((change) => ({
    path: change.path,
    action: change.action,
    reasons: change.reasons,
  }));
  const price = priceFor(provider.name, spec.settings.model, spec.settings.price);
  const estimate = estimateRun(result.assessments, {
    model: spec.settings.model,
    maxTokens: spec.settings.maxTokens,
    price,
  });
  if (flags.json === true) {
    output.json({ plan: result.plan, files, removed, rejected: result.rejected, usage: result.usage, estimate });
    return 0;
  }
  output.result(renderPlan(result.plan));
  const { colors } = output;
  for (const file of files) {
    const why = file.regenerate
      ? colors.yellow(`regenerate: ${describeReasons(file.reasons)}`)
      : colors.dim(notRegenerated(file.disk, file.reasons));
    output.result(`${file.path}  ${why}`);
  }
  for (const file of removed)
    output.result(
      `${file.path}  ${colors.yellow(describeReasons(file.reasons))}${file.action === 'delete' ? ' (would be deleted)' : ''}`,
    );
  for (const rejected of result.rejected)
    output.result(`${rejected.path}  ${colors.red(`refused: ${rejected.reason}`)}`);
  output.info(planSummary(files, removed.length, result.usage, estimate, spec.settings.model, colors.dim('·')));
  return 0;
}

/** `12 files: 3 to regenerate, 9 up to date · planning: 0 calls (2 cached) · a run would make 3 calls: … · ~$0.05 (at most $0.38)` */
function planSummary(
  files: readonly { disk: string; regenerate: boolean; reasons: readonly unknown[] }[],
  removed: number,
  usage: RunUsage,
  estimate: RunEstimate,
  model: string,
  dot: string,
): string {
  const kept = files.filter((file) => !file.regenerate);
  const parts = [
    [files.filter((file) => file.regenerate).length, 'to regenerate'],
    [kept.filter((file) => file.disk === 'edited').length, 'edited by hand (kept)'],
    [kept.filter((file) => file.disk === 'missing').length, 'deleted by hand (not recreated)'],
    [kept.filter((file) => file.disk !== 'edited' && file.disk !== 'missing').length, 'up to date'],
    [removed, 'left the plan'],
  ] as const;
  const state = parts
    .filter(([n]) => n > 0)
    .map(([n, label]) => `${n} ${label}`)
    .join(', ');
  const planning =
    usage.calls + usage.cachedCalls === 0
      ? 'plan from smol.lock (no call)'
      : `planning: ${count(usage.calls, 'call')}${usage.cachedCalls > 0 ? ` (${usage.cachedCalls} cached)` : ''}`;
  const run =
    estimate.calls === 0
      ? 'a run would make no generation call'
      : `a run would make ${describeEstimate(estimate, model)}`;
  return `${count(files.length, 'file')}${state === '' ? '' : `: ${state}`} ${dot} ${planning} ${dot} ${run}`;
}

function notRegenerated(disk: DiskState, reasons: readonly StaleReason[]): string {
  if (disk === 'edited' || disk === 'conflict') return 'kept: edited by hand';
  if (disk === 'missing')
    return reasons.length > 0 ? 'deleted by hand: not recreated (smol regen PATH recreates it)' : 'deleted by hand';
  return 'up to date';
}
