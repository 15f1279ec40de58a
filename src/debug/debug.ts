import { acceptedFiles, normaliseLoose } from '../engine/accept-paths.js';
import { applyStaged, type ApplyResult } from '../engine/apply.js';
import { createContentBudget } from '../engine/content-limits.js';
import { emptyUsage, type EventSink, type RunUsage } from '../engine/events.js';
import { recoverJournal } from '../engine/journal.js';
import { readLock } from '../engine/lock.js';
import { lockDisplayPath, outDirName, statePaths } from '../engine/paths.js';
import { withStateLock } from '../engine/process-lock.js';
import { buildStageContext } from '../engine/stage-context.js';
import { stageFixes } from '../engine/stage-fixes.js';
import { saveStaged, type StagedRun } from '../engine/staging.js';
import { SmolError } from '../errors.js';
import type { Provider } from '../llm/types.js';
import { debugMessages } from '../plan/templates.js';
import type { Spec } from '../spec/types.js';
import type { PathRejection } from '../workspace/safe-path.js';
import { readOutputFile } from '../workspace/write.js';
import { knownSecrets, redactSecrets, type Env } from './credentials.js';
import { DEFAULT_DEBUG_CONTEXT_TOKENS } from './defaults.js';
import { parseFixes } from './parse-fixes.js';
import { selectRelevantFiles } from './relevant-files.js';


export interface DebugOptions {
  spec: Spec;
  provider: Provider;
  providerIdentity?: string;
  /** The error: a failing command's output or a stack trace. */
  error: string;
  /** Token budget for the error and the files sent with it (counted with the tokenizer). */
  maxContextTokens?: number;
  /** Apply the fixes now (`--yes`, `apply: auto`); otherwise they are staged for review. */
  apply: boolean;
  /** The caller's environment: its credentials (and this process's) are redacted from the prompt. */
  env?: Env | undefined;
  signal?: AbortSignal;
  onEvent?: EventSink;
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
    await recoverJournal(paths, spec.outDir);
    const lock = await readLock(paths.lockFile, lockDisplayPath(spec.displayPath), outDirName(paths, spec.outDir));
    if (lock === undefined) {
      throw new SmolError('DEBUG_NO_LOCK', 'Nothing has been generated for this spec yet, so there is nothing to debug.', {
        exitCode: 2,
        hint: 'Run `smol run` first.',
      });
    }
    const usage = emptyUsage();
    const onEvent: EventSink = options.onEvent ?? (() => {});
    const context = buildStageContext({ spec, provider: options.provider, providerIdentity: options.providerIdentity, cacheDir: paths.cache, usage, onEvent, signal: options.signal });
    const selection = await selectRelevantFiles({
      error: options.error,
      candidates: lock.plan.files,
      read: (file) => readOutputFile(spec.outDir, file),
      maxTokens: options.maxContextTokens ?? DEFAULT_DEBUG_CONTEXT_TOKENS,
      model: spec.settings.model,
    });
    // A check may print the environment, and a file may hold a key: no known credential reaches the model.
    const secrets = knownSecrets(process.env, options.env ?? {});
    const redact = (text: string): string => redactSecrets(text, secrets);
    const result = await context.provider.complete(
      {
        stage: 'debug',
        model: context.model,
        temperature: context.temperature,
        maxTokens: context.maxTokens,
        messages: debugMessages({
          error: redact(options.error),
          planGlobal: redact(lock.plan.global),
          files: selection.files.map((file) => ({ path: file.path, content: redact(file.content) })),
          omitted: selection.omitted,
        }),
      },
      options.signal === undefined ? {} : { signal: options.signal },
    );
    if (result.finishReason === 'length') {
      throw new SmolError('DEBUG_TRUNCATED', 'The fix was cut off by the token limit; nothing was changed.', { hint: 'Raise `maxTokens` in the spec.' });
    }
    const parsed = parseFixes(result.text);
    const planned = parsed.fixes.map((fix) => ({ path: fix.path, purpose: '', dependsOn: [] }));
    const { files: safe, rejected } = await acceptedFiles(planned, spec, paths);
    const safePaths = new Set(safe.map((file) => file.path));

    // Fixes are model output like any generation: the same content limits apply (design.md 6).
    const budget = createContentBudget(spec.settings);
    const fixes: { path: string; content: string }[] = [];
    for (const fix of parsed.fixes) {
      const file = normaliseLoose(fix.path);
      if (!safePaths.has(file)) continue;
      const problem = budget.admit(fix.content);
      if (problem !== undefined) rejected.push({ path: file, reason: `${problem}; nothing written` });
      else fixes.push({ path: file, content: fix.content });
    }
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
