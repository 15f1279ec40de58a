import { acceptedFiles } from '../engine/accept-paths.js';
import { applyStaged, type ApplyResult } from '../engine/apply.js';
import { createContentBudget } from '../engine/content-limits.js';
import { emptyUsage, type EventSink, type RunUsage } from '../engine/events.js';
import { recoverJournal } from '../engine/journal.js';
import { readLock, type Lock } from '../engine/lock.js';
import { lockDisplayPath, outDirName, statePaths, type StatePaths } from '../engine/paths.js';
import { withStateLock } from '../engine/process-lock.js';
import { buildStageContext } from '../engine/stage-context.js';
import { stageFixes } from '../engine/stage-fixes.js';
import { saveStaged, type StagedRun } from '../engine/staging.js';
import { SmolError } from '../errors.js';
import type { Provider } from '../llm/types.js';
import { debugMessages } from '../plan/templates.js';
import type { Spec } from '../spec/types.js';
import { canonicalPath } from '../workspace/output-path.js';
import type { PathRejection } from '../workspace/safe-path.js';
import { readOutputFile } from '../workspace/write.js';
import { knownSecrets, redactSecrets, type Env } from './credentials.js';
import { DEFAULT_DEBUG_CONTEXT_TOKENS } from './defaults.js';
import { parseFixes } from './parse-fixes.js';
import { selectRelevantFiles } from './relevant-files.js';

export interface DebugOptions {
  spec: Spec;
  provider: Provider;
  providerIdentity?: string | undefined;
  /** The error: a failing command's output or a stack trace. */
  error: string;
  /** Token budget for the error and the files sent with it (counted with the tokenizer). */
  maxContextTokens?: number | undefined;
  /** Apply the fixes now (`--yes`, `apply: auto`); otherwise they are staged for review. */
  apply: boolean;
  /** The caller's environment: its credentials are redacted from the prompt. */
  env: Env;
  signal?: AbortSignal | undefined;
  onEvent?: EventSink | undefined;
}

export interface DebugResult {
  /** Paths of the fixes the model proposed that passed the path and content checks. */
  fixed: string[];
  /** Fixes refused: a path smol may not write, or content over the limits (binary, `maxFileBytes`, `maxTotalBytes`). */
  rejected: PathRejection[];
  /** Fixes that could not be read (no code block, a fence that never closes, …). */
  problems: string[];
  /** Files sent to the model, and those left out to stay within the budget. */
  sent: string[];
  omitted: string[];
  staged: StagedRun;
  applied: ApplyResult | undefined;
  usage: RunUsage;
}

/**
 * One debug round (design.md 10): the error and the most relevant files go to the model, which answers
 * with whole files; the fixes pass the same path checks as generation and go through the same staging and
 * journaled apply. Applied fixes become the lock's output for their file (the new base), so the next
 * regeneration merges from them instead of treating them as hand edits.
 */
export async function debugOnce(options: DebugOptions): Promise<DebugResult> {
  const { spec } = options;
  const paths = statePaths(spec.dir);
  return withStateLock(paths, 'smol debug', async () => {
    const lock = await openLock(paths, spec);
    const usage = emptyUsage();
    const onEvent: EventSink = options.onEvent ?? (() => {});
    const selection = await selectRelevantFiles({
      error: options.error,
      candidates: lock.plan.files,
      read: (file) => readOutputFile(spec.outDir, file),
      maxTokens: options.maxContextTokens ?? DEFAULT_DEBUG_CONTEXT_TOKENS,
      model: spec.settings.model,
    });
    const answer = await askForFixes(options, { paths, lock, usage, onEvent, selection });
    const parsed = parseFixes(answer);
    const { fixes, rejected } = await admitFixes(parsed.fixes, spec, paths);
    const staged = await stageFixes({ paths, outDir: spec.outDir, lock, fixes, command: 'debug' });
    const { changes } = staged;
    let applied: ApplyResult | undefined;
    if (changes.length > 0) {
      if (options.apply) applied = await applyStaged({ paths, outDir: spec.outDir, staged, onEvent });
      else await saveStaged(paths, staged);
    }
    return {
      fixed: changes.map((change) => change.path),
      rejected,
      problems: parsed.problems,
      sent: selection.files.map((file) => file.path),
      omitted: selection.omitted,
      staged,
      applied,
      usage,
    };
  });
}

/** Recovery first (an interrupted apply is finished), then the lock, which debugging needs. */
async function openLock(paths: StatePaths, spec: Spec): Promise<Lock> {
  await recoverJournal(paths, spec.outDir);
  const lock = await readLock(paths.lockFile, lockDisplayPath(spec.displayPath), outDirName(paths, spec.outDir));
  if (lock !== undefined) return lock;
  throw new SmolError('DEBUG_NO_LOCK', 'Nothing has been generated for this spec yet, so there is nothing to debug.', {
    exitCode: 2,
    hint: 'Run `smol run` first.',
  });
}

/** The model's answer to the error and the selected files, with every known credential blanked out. */
async function askForFixes(
  options: DebugOptions,
  run: {
    paths: StatePaths;
    lock: Lock;
    usage: RunUsage;
    onEvent: EventSink;
    selection: Awaited<ReturnType<typeof selectRelevantFiles>>;
  },
): Promise<string> {
  const { spec, signal } = options;
  const { lock, selection } = run;
  const context = buildStageContext({
    spec,
    provider: options.provider,
    providerIdentity: options.providerIdentity,
    cacheDir: run.paths.cache,
    usage: run.usage,
    onEvent: run.onEvent,
    signal,
  });
  // A check may print the environment, and a file may hold a key: no known credential reaches the model.
  const secrets = knownSecrets(options.env);
  const redact = (text: string): string => redactSecrets(text, secrets);
  const messages = debugMessages({
    error: redact(options.error),
    planGlobal: redact(lock.plan.global),
    files: selection.files.map((file) => ({ path: file.path, content: redact(file.content) })),
    omitted: selection.omitted,
  });
  const { model, temperature, maxTokens } = context;
  const result = await context.provider.complete(
    { stage: 'debug', model, temperature, maxTokens, messages },
    { signal },
  );
  if (result.finishReason === 'length') {
    throw new SmolError('DEBUG_TRUNCATED', 'The fix was cut off by the token limit; nothing was changed.', {
      hint: 'Raise `maxTokens` in the spec.',
    });
  }
  return result.text;
}

/**
 * The fixes smol may write: paths through the same checks as generation, and content within the same
 * limits (design.md 6); fixes are model output like any generation.
 */
async function admitFixes(
  proposed: readonly { path: string; content: string }[],
  spec: Spec,
  paths: StatePaths,
): Promise<{ fixes: { path: string; content: string }[]; rejected: PathRejection[] }> {
  const planned = proposed.map((fix) => ({ path: fix.path, purpose: '', dependsOn: [] }));
  const { files: safe, rejected } = await acceptedFiles(planned, spec, paths);
  const safePaths = new Set(safe.map((file) => file.path));
  const budget = createContentBudget(spec.settings);
  const fixes: { path: string; content: string }[] = [];
  for (const fix of proposed) {
    const file = canonicalPath(fix.path);
    if (!safePaths.has(file)) continue;
    const problem = budget.admit(fix.content);
    if (problem !== undefined) rejected.push({ path: file, reason: `${problem}; nothing written` });
    else fixes.push({ path: file, content: fix.content });
  }
  return { fixes, rejected };
}
