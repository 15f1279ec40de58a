import { applyStaged, type ApplyResult, type ConflictResolution } from '../engine/apply.js';
import type { StatePaths } from '../engine/paths.js';
import type { StagedRun } from '../engine/staging.js';
import { SmolError } from '../errors.js';
import { reviewChanges } from '../review/interactive.js';
import { conflictHint, loadViews, renderChange } from '../review/render.js';
import type { CliIO, Output } from './io.js';
import { count } from './words.js';

/** True when a person can answer questions: both the keyboard and the screen are terminals. */
export function canReview(io: CliIO): boolean {
  return io.stdin.isTTY === true && io.stderr.isTTY === true;
}

/** Reviews staged changes file by file on a terminal, then applies the accepted ones. */
export async function reviewAndApply(
  io: CliIO,
  output: Output,
  paths: StatePaths,
  outDir: string,
  staged: StagedRun,
): Promise<ApplyResult | undefined> {
  const views = await loadViews(paths.objects, staged);
  if (views.length === 0) return undefined;
  const decision = await reviewChanges(views, {
    input: io.stdin,
    write: (text) => io.stderr.write(text),
    render: (view) => renderChange(view, output.colors),
  });
  if (decision.cancelled === true) {
    throw new SmolError('CANCELLED', 'Cancelled at the review; nothing was applied.', {
      exitCode: 130,
      hint: 'The changes stay staged: `smol apply` reviews them again.',
    });
  }
  if (decision.accepted.size === 0 && decision.resolutions.size === 0) {
    output.info('Nothing applied; the changes stay staged (`smol apply` to review them again).');
    return undefined;
  }
  return applyStaged({
    paths,
    outDir,
    staged,
    accept: (change) => decision.accepted.has(change.path),
    resolutions: decision.resolutions,
  });
}

export function applyAll(
  paths: StatePaths,
  outDir: string,
  staged: StagedRun,
  resolutions?: ReadonlyMap<string, ConflictResolution>,
  only?: ReadonlySet<string>,
): Promise<ApplyResult> {
  return applyStaged({
    paths,
    outDir,
    staged,
    resolutions,
    accept: only === undefined ? undefined : (change) => only.has(change.path),
  });
}

export function reportApply(output: Output, result: ApplyResult, staged: StagedRun): void {
  const { colors } = output;
  if (result.applied.length > 0)
    output.info(`${colors.green('applied')} ${count(result.applied.length, 'file')}: ${result.applied.join(', ')}`);
  for (const refused of result.refused) output.warn(`${refused.path}: ${refused.reason}`);
  const conflicts = staged.changes.filter(
    (change) => change.action === 'conflict' && result.pending.includes(change.path),
  );
  for (const conflict of conflicts)
    output.warn(
      `${conflict.path}: conflict between your edits and the new generation; the file was left as it is. ${conflictHint(conflict.path)}`,
    );
  const declined = result.pending.length - conflicts.length;
  if (declined > 0)
    output.info(
      `${count(declined, 'change')} left staged: \`smol apply\` reviews them again, \`smol diff\` shows them.`,
    );
}
