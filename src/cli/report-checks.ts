import { checkAndFix, describeStatus, type CheckAndFixResult } from '../debug/checks.js';
import type { CommandResult } from '../debug/command.js';
import type { ModelContext } from './context.js';
import type { CliIO, Output } from './io.js';
import { withCancellation } from './signals.js';

/** Shows each check's outcome; a failing one with the end of its output. */
export function reportChecks(output: Output, results: readonly CommandResult[], json: boolean): void {
  for (const result of results) {
    if (json) {
      output.json({
        type: 'check',
        command: result.command,
        exitCode: result.exitCode,
        signal: result.signal,
        timedOut: result.timedOut,
        output: result.output.slice(-4000),
      });
      continue;
    }
    if (result.exitCode === 0) {
      output.info(`${output.colors.green('check passed')} ${result.command}`);
    } else {
      output.info(
        `${output.colors.red('check failed')} ${result.command} ${output.colors.dim(`(${result.timedOut ? 'killed: checkTimeout' : describeStatus(result)})`)}`,
      );
      const tail = result.output.trim().split('\n').slice(-20).join('\n');
      if (tail !== '') output.info(output.colors.dim(tail));
    }
  }
}

/** The checks loop with its rounds shown: used after `smol run` applies, and by `smol debug --checks`. */
export async function checksWithFixes(
  io: CliIO,
  output: Output,
  context: ModelContext,
  options: { apply: boolean; json: boolean; maxContextTokens?: number | undefined; numbered?: boolean },
): Promise<CheckAndFixResult> {
  const result = await withCancellation(io, (signal) =>
    checkAndFix({
      spec: context.spec,
      provider: context.provider,
      providerIdentity: context.description,
      apply: options.apply,
      env: io.env,
      signal,
      maxContextTokens: options.maxContextTokens,
      onRound: (round, index) => {
        if (options.numbered === true && !options.json) output.info(output.colors.dim(`round ${index + 1}:`));
        reportChecks(output, round.results, options.json);
        if (round.fix !== undefined && !options.json) {
          output.info(
            `fixes: ${round.fix.fixed.join(', ') || 'none'}${round.fix.applied === undefined ? ' (staged: `smol apply` reviews them)' : ' (applied)'}`,
          );
        }
      },
    }),
  );
  if (!result.passed && !options.json)
    output.warn(`checks fail${result.stopped === undefined ? '' : ` (stopped: ${result.stopped})`}.`);
  return result;
}
