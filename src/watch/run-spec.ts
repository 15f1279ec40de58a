import { checkAndFix } from '../debug/checks.js';
import { runPipeline } from '../engine/run.js';
import { isSmolError } from '../errors.js';
import type { Provider } from '../llm/types.js';
import type { SpecOverrides } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import { messageOf, summarizeRun, type DaemonEvent } from './events.js';
import { inputsChanged, readInputs } from './inputs.js';
import type { RunOutcome } from './runner.js';

export interface RunRequest {
  force?: 'all' | undefined;
}

/** Builds the provider for a spec (detection may probe a local server, so it may be async). */
export type MakeProvider = (spec: Spec) => ProviderChoice | Promise<ProviderChoice>;

export interface ProviderChoice {
  provider: Provider;
  description: string;
}

/** What one daemon run needs from the daemon, and what it tells it as it goes. */
export interface RunContext {
  specPath: string;
  displayPath: string;
  cwd: string;
  overrides: SpecOverrides | undefined;
  emit: (event: DaemonEvent) => void;
  makeProvider: MakeProvider;
  /** The spec parsed: the daemon keeps it and watches its includes and outDir. */
  loaded: (spec: Spec) => Promise<void>;
  /** The run has reported its result: what follows (checks, a look at the inputs) is not generation. */
  reported: () => void;
}

/**
 * One run of the daemon: read the spec, generate (and with `apply: auto` write and run the checks), report.
 * Every failure is reported as an event; `again` when the inputs moved on meanwhile.
 */
export async function runSpecOnce(context: RunContext, request: RunRequest, signal: AbortSignal): Promise<RunOutcome> {
  const { emit } = context;
  const read = await readInputs(context);
  if (signal.aborted) return;
  if (!read.ok) {
    // An error from a half-written file is not worth a word: the finished write is read next.
    if (await inputsChanged(read.snapshot)) return 'again';
    emit({ type: 'spec-error', message: messageOf(read.error) });
    return;
  }
  const spec = read.spec;
  await context.loaded(spec);
  try {
    const { provider, description } = await context.makeProvider(spec);
    const auto = spec.settings.apply === 'auto';
    const result = await runPipeline({
      spec,
      provider,
      providerIdentity: description,
      signal,
      onEvent: emit,
      mode: auto ? 'apply' : 'preview',
      force: request.force,
    });
    context.reported();
    emit({ type: 'run-result', ...summarizeRun(result, auto) });
    if (auto && result.written.length > 0) await runChecksAfterApply(emit, spec, { provider, description }, signal);
  } catch (error) {
    if (signal.aborted) {
      emit({ type: 'run-cancelled' });
      return;
    }
    emit({ type: 'run-error', message: messageOf(error), code: isSmolError(error) ? error.code : undefined });
  }
  // The watcher is not an oracle (it coalesces events): if the inputs moved on during the run, run again.
  return !signal.aborted && (await inputsChanged(read.snapshot)) ? 'again' : undefined;
}

/** `checks` after each apply (design.md 10), feeding failures to debug rounds when `fix: true`. */
export async function runChecksAfterApply(
  emit: (event: DaemonEvent) => void,
  spec: Spec,
  { provider, description }: ProviderChoice,
  signal?: AbortSignal,
): Promise<void> {
  if (spec.settings.checks.length === 0) return;
  try {
    const result = await checkAndFix({
      spec,
      provider,
      providerIdentity: description,
      apply: spec.settings.apply === 'auto',
      onEvent: emit,
      ...(signal === undefined ? {} : { signal }),
    });
    const last = result.rounds.at(-1)?.results ?? [];
    emit({
      type: 'checks-done',
      passed: result.passed,
      rounds: result.rounds.length,
      stopped: result.stopped,
      failed: last
        .filter((check) => check.exitCode !== 0)
        .map((check) => ({ command: check.command, exitCode: check.exitCode, output: check.output.slice(-4000) })),
    });
  } catch (error) {
    if (signal?.aborted !== true) emit({ type: 'run-error', message: messageOf(error) });
  }
}
