import path from 'node:path';
import type { Provider } from '../llm/types.js';
import type { Plan } from '../plan/plan-markdown.js';
import type { PlannedFile } from '../plan/stages.js';
import { PROMPT_VERSION, normalizeWhitespace, renderSpec, type SpecPromptParts } from '../plan/templates.js';
import type { Spec } from '../spec/types.js';
import { ObjectStore } from '../workspace/object-store.js';
import type { PathRejection } from '../workspace/safe-path.js';
import { mapLimit } from '../internal/map-limit.js';
import { applyStaged } from './apply.js';
import { recoverJournal } from './journal.js';
import { saveStaged, stageRun, type StagedRun } from './staging.js';
import { assessFile, diskState, type FileAssessment } from './assess.js';
import { changeForRemoved, changeFromGeneration, changeWithoutGeneration, type FileChange } from './changes.js';
import { emptyUsage, type EventSink, type FileAction, type RunEvent, type RunUsage } from './events.js';
import { buildFileInputs, settingsHash, type GenerationSettings } from './fingerprint.js';
import { generateFiles } from './generate.js';
import { GenerationIndex } from './generations.js';
import { LOCK_VERSION, lockFileHash, readLock, type Lock } from './lock.js';
import { statePaths } from './paths.js';
import { withStateLock } from './process-lock.js';
import { resolvePlan } from './resolve-plan.js';
import { acceptedFiles } from './accept-paths.js';
import { buildStageContext } from './stage-context.js';
import { createContentBudget } from './content-limits.js';

export interface RunOptions {
  spec: Spec;
  provider: Provider;
  /** Identifies the server for the response cache (e.g. the base URL); never a secret. */
  providerIdentity?: string;
  signal?: AbortSignal;
  onEvent?: EventSink;
  /** Regenerate these paths (or every file) whatever their state; `all` also ignores a damaged lock. */
  force?: 'all' | readonly string[];
  /** `apply` writes the changes and the lock; `preview` only computes them; `plan` stops before stage 3. */
  mode: 'apply' | 'preview' | 'plan';
  /** Use the response cache (default true). */
  cache?: boolean;
  /** Where the lock and `.smol/` live (default: the spec's folder). */
  stateDir?: string;
  /**
   * Called with every planned file's assessment (those with `regenerate` set are about to be generated)
   * after planning and before any generation call (not in `plan` mode); throwing stops the run there
   * (`run --max-calls/--max-cost`, see engine/estimate-run.ts).
   */
  beforeGenerate?: ((assessments: readonly FileAssessment[]) => void | Promise<void>) | undefined;
}

export interface RunResult {
  plan: Plan;
  files: PlannedFile[];
  /** Every planned file (and every file that left the plan) with what this run does to it. */
  changes: FileChange[];
  /** Every planned file's state and staleness, as decided before generation. */
  assessments: FileAssessment[];
  /** The changes as staged for review and apply (saved to `.smol/staging/` in `preview` mode). */
  staged: StagedRun;
  /** In `apply` mode: changes refused because the file changed during the run. */
  refused: { path: string; reason: string }[];
  rejected: PathRejection[];
  written: string[];
  failed: { path: string; message: string }[];
  usage: RunUsage;
  durationMs: number;
}

/** The whole pipeline: plan, file list, staleness, generation, merge, and (in `apply` mode) the writes. */
export async function runPipeline(options: RunOptions): Promise<RunResult> {
  if (options.mode === 'plan') return runUnlocked(options);
  const paths = statePaths(options.stateDir ?? options.spec.dir);
  return withStateLock(paths, `smol ${options.mode === 'apply' ? 'run' : 'diff'}`, () => runUnlocked(options));
}

async function runUnlocked(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const { spec } = options;
  const onEvent: EventSink = safeSink(options.onEvent);
  const paths = statePaths(options.stateDir ?? spec.dir);
  const forceAll = options.force === 'all';
  await recoverJournal(paths);
  const lock = await readLock(paths.lockFile, path.relative(process.cwd(), paths.lockFile) || paths.lockFile).catch((error: unknown) => {
    // `run --all` is the documented way out of a damaged lock: it rebuilds it from scratch.
    if (forceAll) return undefined;
    throw error;
  });
  const usage = emptyUsage();
  const generation: GenerationSettings = {
    provider: options.provider.name,
    model: spec.settings.model,
    temperature: spec.settings.temperature,
  };
  const context = buildStageContext({
    spec,
    provider: options.provider,
    providerIdentity: options.providerIdentity,
    cacheDir: options.cache === false ? undefined : paths.cache,
    usage,
    onEvent,
    signal: options.signal,
  });
  onEvent({ type: 'run-start', spec: spec.displayPath, outDir: spec.outDir, provider: generation.provider, model: generation.model });

  const promptParts: SpecPromptParts = {
    globalText: spec.globalText,
    includes: spec.includes.map((include) => ({ path: include.path, text: include.text })),
    sections: spec.sections.map((section) => ({ path: section.path, text: section.text })),
  };
  const currentSettingsHash = settingsHash(generation);
  const settingsChanged = lock !== undefined && settingsHash(lock.settings) !== currentSettingsHash;
  const resolved = await resolvePlan({
    context,
    spec: promptParts,
    settingsHash: currentSettingsHash,
    lock,
    fresh: settingsChanged || (forceAll && lock === undefined),
    onEvent,
  });

  const { files, rejected } = await acceptedFiles(resolved.files, spec, paths);
  resolved.files = files;
  for (const rejection of rejected) onEvent({ type: 'path-rejected', ...rejection });

  const forced = new Set(options.force === 'all' ? files.map((file) => file.path) : (options.force ?? []));
  const fullSpec = spec.settings.context === 'full' ? renderSpec(promptParts) : undefined;
  const sectionText = new Map(spec.sections.map((section) => [section.path, normalizeWhitespace(section.text)]));
  const assessments: FileAssessment[] = await mapLimit(files, 32, (file) => {
    const inputs = buildFileInputs(file, files, resolved.plan, sectionText.get(file.path) ?? '', fullSpec);
    return assessFile({ outDir: spec.outDir, planned: file, inputs, settings: generation, lock, forced: forced.has(file.path) });
  });

  const objects = new ObjectStore(paths.objects);
  const failed: { path: string; message: string }[] = [];
  const byPath = new Map<string, FileChange>();
  if (options.mode !== 'plan') {
    await options.beforeGenerate?.(assessments);
    const budget = createContentBudget(spec.settings);
    const failedChange = (assessment: FileAssessment, message: string): FileChange => {
      failed.push({ path: assessment.path, message });
      return { path: assessment.path, action: 'failed', reasons: assessment.reasons, before: assessment.current, after: undefined, merged: false, error: message };
    };
    const finish = async (assessment: FileAssessment, content: string): Promise<FileAction> => {
      const tooBig = budget.admit(content);
      if (tooBig !== undefined) {
        const message = `${assessment.path}: ${tooBig}; nothing written`;
        byPath.set(assessment.path, failedChange(assessment, message));
        onEvent({ type: 'file-failed', path: assessment.path, message });
        return 'failed';
      }
      const change = await changeFromGeneration(assessment, content, objects);
      byPath.set(assessment.path, change);
      return change.action;
    };
    const index = options.cache === false ? undefined : new GenerationIndex(paths.generations, paths.objects);
    const outcomes = await generateFiles({
      context,
      assessments: assessments.filter((assessment) => assessment.regenerate),
      concurrency: spec.settings.concurrency,
      onEvent,
      finish,
      ...(index === undefined ? {} : { index }),
    });
    for (const assessment of assessments) {
      if (!assessment.regenerate) {
        const change = changeWithoutGeneration(assessment);
        byPath.set(assessment.path, change);
        if (change.action !== 'unchanged') onEvent({ type: 'file-skipped', path: change.path, action: change.action, reasons: change.reasons });
        continue;
      }
      const outcome = outcomes.get(assessment.path);
      if (outcome === undefined || !outcome.ok) byPath.set(assessment.path, failedChange(assessment, outcome?.ok === false ? outcome.message : 'not generated'));
    }
  }
  const changes: FileChange[] = assessments.flatMap((assessment) => byPath.get(assessment.path) ?? []);
  changes.push(...(await removedFromPlan(lock, files, spec.outDir)));

  const lockHead: Omit<Lock, 'files'> = {
    version: LOCK_VERSION,
    promptVersion: PROMPT_VERSION,
    settings: generation,
    spec: { hash: resolved.specHash, lines: resolved.specLines },
    plan: { inputHash: resolved.planInputHash, global: resolved.plan.global, sections: resolved.plan.sections, files },
  };
  const staged = await stageRun({ lockHash: await lockFileHash(paths.lockFile), lockHead, lock, assessments, changes, objects });
  let written: string[] = [];
  let refused: { path: string; reason: string }[] = [];
  if (options.mode === 'apply') {
    const applied = await applyStaged({ paths, outDir: spec.outDir, staged, onEvent });
    written = applied.applied.filter((file) => staged.changes.some((change) => change.path === file && change.action !== 'conflict'));
    refused = applied.refused;
  } else if (options.mode === 'preview') {
    await saveStaged(paths, staged);
  }
  const durationMs = Date.now() - started;
  onEvent({ type: 'run-done', usage, durationMs, counts: countActions(changes) });
  return { plan: resolved.plan, files, changes, assessments, staged, rejected, refused, written, failed, usage, durationMs };
}

async function removedFromPlan(lock: Lock | undefined, files: readonly PlannedFile[], outDir: string): Promise<FileChange[]> {
  if (lock === undefined) return [];
  const planned = new Set(files.map((file) => file.path));
  const removed: FileChange[] = [];
  for (const [filePath, locked] of Object.entries(lock.files)) {
    if (planned.has(filePath)) continue;
    const { disk, current } = await diskState(outDir, filePath, locked).catch(() => ({ disk: 'absent' as const, current: undefined }));
    removed.push(changeForRemoved(filePath, current, disk === 'clean'));
  }
  return removed;
}

function countActions(changes: readonly FileChange[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const change of changes) counts[change.action] = (counts[change.action] ?? 0) + 1;
  return counts;
}

/** A throwing event handler must not break a run. */
function safeSink(sink: EventSink | undefined): EventSink {
  return (event: RunEvent) => {
    try {
      sink?.(event);
    } catch {
      // Rendering problems are the renderer's; the run goes on.
    }
  };
}
