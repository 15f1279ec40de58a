import type { EventSink } from '../engine/events.js';
import type { Provider } from '../llm/types.js';
import type { Spec } from '../spec/types.js';
import { runCommand, type CommandResult } from './command.js';
import type { Env } from './credentials.js';
import { debugOnce, type DebugResult } from './debug.js';

/**
 * Runs the spec's `checks` in outDir, one after the other, each killed after `checkTimeout` seconds, in
 * `env` without smol's credentials.
 */
export async function runChecks(options: {
  spec: Spec;
  env: Env;
  signal?: AbortSignal | undefined;
  onOutput?: ((chunk: string) => void) | undefined;
}): Promise<CommandResult[]> {
  const results: CommandResult[] = [];
  for (const command of options.spec.settings.checks) {
    if (options.signal?.aborted === true) break;
    results.push(
      await runCommand(command, {
        cwd: options.spec.outDir,
        timeoutMs: options.spec.settings.checkTimeout * 1000,
        signal: options.signal,
        env: options.env,
        onOutput: options.onOutput,
      }),
    );
  }
  return results;
}

export function failuresOf(results: readonly CommandResult[]): CommandResult[] {
  return results.filter((result) => result.exitCode !== 0);
}

/** The failing checks as one error text for the debug round. */
export function describeFailures(failures: readonly CommandResult[]): string {
  return failures
    .map((failure) => `$ ${failure.command}\n${failure.output.trim()}\n[${describeStatus(failure)}]`)
    .join('\n\n');
}

/** How a command ended, in words: `exit 1`, `killed: timed out`, `killed by SIGSEGV`. */
export function describeStatus(result: CommandResult): string {
  if (result.timedOut) return 'killed: timed out';
  if (result.exitCode === null) return `killed by ${result.signal ?? 'a signal'}`;
  return `exit ${result.exitCode}`;
}

export interface CheckRound {
  results: CommandResult[];
  fix?: DebugResult;
}

export interface CheckAndFixResult {
  passed: boolean;
  rounds: CheckRound[];
  /** Why the loop stopped without passing: `max rounds`, `staged for review`, `no fix proposed`. */
  stopped?: string;
}

/**
 * The checks loop (design.md 10): run the checks; on failure, and when `fix: true`, feed the failures to
 * a debug round, at most `maxFixRounds` times. Each round's fixes are applied only when `apply` allows it;
 * otherwise they are staged for review and the loop stops there.
 */
export async function checkAndFix(options: {
  spec: Spec;
  provider: Provider;
  providerIdentity?: string;
  apply: boolean;
  /**
   * The environment checks run in (without smol's credentials) and whose credentials are redacted from
   * prompts. Default: this process's environment (the daemon passes none).
   */
  env?: Env | undefined;
  maxContextTokens?: number | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: EventSink | undefined;
  onOutput?: ((chunk: string) => void) | undefined;
  onRound?: ((round: CheckRound, index: number) => void) | undefined;
}): Promise<CheckAndFixResult> {
  const { spec } = options;
  const env = options.env ?? process.env;
  const rounds: CheckRound[] = [];
  for (let index = 0; ; index += 1) {
    const results = await runChecks({ spec, env, signal: options.signal, onOutput: options.onOutput });
    const round: CheckRound = { results };
    rounds.push(round);
    const failures = failuresOf(results);
    if (failures.length === 0) {
      options.onRound?.(round, index);
      return { passed: true, rounds };
    }
    if (!spec.settings.fix) {
      options.onRound?.(round, index);
      return { passed: false, rounds };
    }
    if (index >= spec.settings.maxFixRounds) {
      options.onRound?.(round, index);
      return { passed: false, rounds, stopped: `max rounds (${spec.settings.maxFixRounds})` };
    }
    round.fix = await debugOnce({
      spec,
      provider: options.provider,
      error: describeFailures(failures),
      apply: options.apply,
      env,
      providerIdentity: options.providerIdentity,
      maxContextTokens: options.maxContextTokens,
      signal: options.signal,
      onEvent: options.onEvent,
    });
    options.onRound?.(round, index);
    if (round.fix.fixed.length === 0) return { passed: false, rounds, stopped: 'no fix proposed' };
    if (!options.apply) return { passed: false, rounds, stopped: 'staged for review' };
  }
}
