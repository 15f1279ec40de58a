import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeFailures, failuresOf, runChecks } from '../../debug/checks.js';
import { runCommand } from '../../debug/command.js';
import { debugOnce, type DebugResult } from '../../debug/debug.js';
import { statePaths } from '../../engine/paths.js';
import { SmolError } from '../../errors.js';
import { announceProvider, loadModelContext, type ModelContext } from '../context.js';
import type { CliIO, Output } from '../io.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { canReview, reportApply, reviewAndApply } from '../review-flow.js';
import { withCancellation } from '../signals.js';
import { checksWithFixes, reportChecks } from '../report-checks.js';
import { count } from '../words.js';

interface DebugFlags extends ModelFlags {
  errorFile?: string;
  run?: string;
  checks?: boolean;
  yes?: boolean;
  json?: boolean;
  maxContextTokens?: number;
}

/** `smol debug [spec]`: one debug round (or the checks loop), reviewed and applied like any change. */
export async function debugCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: DebugFlags,
): Promise<number> {
  const context = await loadModelContext(specArg, flags, io);
  const json = flags.json === true;
  announceProvider(output, context, json);
  const apply = flags.yes === true || context.spec.settings.apply === 'auto';
  if (flags.checks === true) return checksLoop(io, output, context, flags, apply);
  const error = await errorText(io, output, context, flags);
  if (error === undefined) return 0;
  const result = await withCancellation(io, (signal) =>
    debugOnce({
      spec: context.spec,
      provider: context.provider,
      providerIdentity: context.description,
      error,
      apply,
      env: io.env,
      signal,
      maxContextTokens: flags.maxContextTokens,
    }),
  );
  return reportFixes(io, output, context, result, apply, json);
}

/** The error to debug: from --error-file, --run (stopping if it passes) or stdin. */
async function errorText(
  io: CliIO,
  output: Output,
  context: ModelContext,
  flags: DebugFlags,
): Promise<string | undefined> {
  if (flags.errorFile !== undefined) {
    return readFile(path.resolve(io.cwd, flags.errorFile), 'utf8').catch(() => {
      throw new SmolError('DEBUG_NO_ERROR_FILE', `Cannot read ${flags.errorFile}.`, {
        exitCode: 2,
        hint: 'Pass the path of a file holding the error output.',
      });
    });
  }
  if (flags.run !== undefined) {
    const command = flags.run;
    const result = await withCancellation(io, (signal) =>
      runCommand(command, {
        cwd: context.spec.outDir,
        timeoutMs: context.spec.settings.checkTimeout * 1000,
        env: io.env,
        signal,
      }).then(unlessCancelled(signal)),
    );
    if (result.exitCode === 0) {
      if (flags.json === true) output.json({ passed: true, command: flags.run });
      else output.info(`\`${flags.run}\` passes (exit 0): nothing to debug.`);
      return undefined;
    }
    return describeFailures([result]);
  }
  if (io.stdin.isTTY === true) {
    throw new SmolError('DEBUG_NO_ERROR', 'No error to debug.', {
      exitCode: 2,
      hint: 'Pipe it in (`npm test 2>&1 | smol debug`), or pass --error-file FILE, --run "CMD" or --checks.',
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '')
    throw new SmolError('DEBUG_NO_ERROR', 'The error on stdin is empty.', {
      exitCode: 2,
      hint: 'Pipe the failing output in, or use --run "CMD".',
    });
  return text;
}

/** Says what debug proposed, and applies it (`--yes`, `apply: auto`), reviews it (a terminal) or stages it. */
async function reportFixes(
  io: CliIO,
  output: Output,
  context: ModelContext,
  result: DebugResult,
  apply: boolean,
  json: boolean,
): Promise<number> {
  if (json) {
    output.json({
      fixed: result.fixed,
      rejected: result.rejected,
      problems: result.problems,
      sent: result.sent,
      omitted: result.omitted,
      applied: result.applied ?? null,
      usage: result.usage,
    });
    return result.fixed.length === 0 ? 1 : 0;
  }
  for (const rejection of result.rejected)
    output.info(`${output.colors.red('refused')} ${rejection.path}: ${rejection.reason}`);
  for (const problem of result.problems) output.warn(problem);
  output.info(
    output.colors.dim(
      `sent ${count(result.sent.length, 'file')}${result.omitted.length > 0 ? `; left out to stay within the token budget: ${result.omitted.join(', ')}` : ''}`,
    ),
  );
  if (result.fixed.length === 0) {
    output.info('No usable fix was proposed.');
    return 1;
  }
  if (apply && result.applied !== undefined) {
    reportApply(output, result.applied, result.staged);
    return result.applied.refused.length > 0 ? 1 : 0;
  }
  if (canReview(io)) {
    const applied = await reviewAndApply(io, output, statePaths(context.spec.dir), context.spec.outDir, result.staged);
    if (applied !== undefined) reportApply(output, applied, result.staged);
    return 0;
  }
  output.info(
    `${output.colors.yellow('staged')}: fixes for ${result.fixed.join(', ')}. \`smol diff\` shows the plan's changes; \`smol apply --yes\` writes these fixes.`,
  );
  return 0;
}

async function checksLoop(
  io: CliIO,
  output: Output,
  context: ModelContext,
  flags: DebugFlags,
  apply: boolean,
): Promise<number> {
  if (context.spec.settings.checks.length === 0) {
    throw new SmolError('DEBUG_NO_CHECKS', 'The spec has no `checks` to run.', {
      exitCode: 2,
      hint: 'Add e.g. `checks: ["npm test"]` to the frontmatter.',
    });
  }
  if (!context.spec.settings.fix) {
    const results = await withCancellation(io, (signal) =>
      runChecks({ spec: context.spec, env: io.env, signal }).then(unlessCancelled(signal)),
    );
    const failures = failuresOf(results);
    reportChecks(output, results, flags.json === true);
    if (failures.length === 0) return 0;
    const result = await withCancellation(io, (signal) =>
      debugOnce({
        spec: context.spec,
        provider: context.provider,
        providerIdentity: context.description,
        error: describeFailures(failures),
        apply,
        env: io.env,
        signal,
      }),
    );
    return reportFixes(io, output, context, result, apply, flags.json === true);
  }
  const result = await checksWithFixes(io, output, context, {
    apply,
    json: flags.json === true,
    numbered: true,
    maxContextTokens: flags.maxContextTokens,
  });
  if (flags.json === true)
    output.json({ passed: result.passed, rounds: result.rounds.length, stopped: result.stopped ?? null });
  return result.passed ? 0 : 1;
}

/** A command killed by Ctrl+C is not an error to debug: end as a cancel (withCancellation turns this into exit 130). */
function unlessCancelled<T>(signal: AbortSignal): (value: T) => T {
  return (value) => {
    if (signal.aborted) throw new Error('cancelled');
    return value;
  };
}
