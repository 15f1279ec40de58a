import path from 'node:path';
import type { Provider } from '../llm/types.js';
import type { Plan } from '../plan/plan-markdown.js';
import type { PlannedFile, StageContext } from '../plan/stages.js';
import { PROMPT_VERSION } from '../plan/templates.js';
import type { Spec } from '../spec/types.js';
import { isSmolError } from '../errors.js';
import { mapLimit } from '../internal/map-limit.js';
import { removeStateFile } from '../workspace/state-file.js';
import { ObjectStore } from '../workspace/object-store.js';
import { isInside, withPathChecks } from '../workspace/inside.js';
import type { PathRejection } from '../workspace/output-path.js';
import { acceptedFiles } from './accept-paths.js';
import { applyStaged } from './apply.js';
import { assessFile, diskText, type FileAssessment, type PreviousOutDir } from './assess.js';
import { Bases } from './bases.js';
import type { FileChange } from './changes.js';
import { syncEditsFile, type DiskText } from './edits-sync.js';
import { emptyUsage, type EventSink, type RunEvent, type RunUsage } from './events.js';
import { settingsHash, type GenerationSettings } from './fingerprint.js';
import { generateChanges } from './generate-changes.js';
import { fileGeneration, generationSettings, specInputs, type SpecInputs } from './generation-inputs.js';
import { recoverJournal } from './journal.js';
import { readLedger, type Ledger } from './ledger.js';
import { LOCK_VERSION, lockFileHash, readLock, type Lock, type LockHead } from './lock.js';
import { lockDisplayPath, outDirName, statePaths, type StatePaths } from './paths.js';
import { withStateLock } from './process-lock.js';
import { removedFromPlan } from './removed.js';
import { resolvePlan, type ResolvedPlan } from './resolve-plan.js';
import { buildStageContext } from './stage-context.js';
import { saveStaged, stageRun, type StagedRun } from './staging.js';

export interface RunOptions {
  spec: Spec;
  provider: Provider;
  /** Identifies the server for the response cache (e.g. the base URL); never a secret. */
  providerIdentity?: string | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: EventSink | undefined;
  /** Regenerate these paths (or every file) whatever their state; `all` also ignores a damaged lock. */
  force?: 'all' | readonly string[] | undefined;
  /** Change only these paths (`smol regen PATH…`): every other file keeps its lock entry, stale or not. */
  only?: readonly string[] | undefined;
  /** `apply` writes the changes and the lock; `preview` only computes them; `plan` stops before stage 3. */
  mode: 'apply' | 'preview' | 'plan';
  /** Use the response cache (default true). */
  cache?: boolean | undefined;
  /** Where the lock and `.smol/` live (default: the spec's folder). */
  stateDir?: string | undefined;
  /** What the history calls this run (`run`, `regen`, …). */
  command?: string | undefined;
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
  return withStateLock(paths, `smol ${options.command ?? (options.mode === 'apply' ? 'run' : 'diff')}`, () =>
    runUnlocked(options),
  );
}

// The passes over files run in `withPathChecks` scopes (one realpath per folder each); model calls run
// outside them, where promises cost what they should (see withPathChecks).

async function runUnlocked(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const run = await planRun(options);
  const { onEvent, usage } = run;
  const { files, rejected, assessments } = await assessPlanned(run);
  for (const rejection of rejected) onEvent({ type: 'path-rejected', ...rejection });

  const failed: { path: string; message: string }[] = [];
  const changes = options.mode === 'plan' ? [] : await changesOf(run, { assessments, files, failed });
  const known = new Map<string, string>();
  const staged = await stageChanges(run, { files, assessments, changes, known });
  const { written, refused } = await writeOrSave(run, { staged, assessments, known });
  const durationMs = Date.now() - started;
  onEvent({ type: 'run-done', usage, durationMs, counts: countActions(changes) });
  return {
    plan: run.resolved.plan,
    files,
    changes,
    assessments,
    staged,
    rejected,
    refused,
    written,
    failed,
    usage,
    durationMs,
  };
}

/** Stages 1 and 2: state recovered and read, the stage context built, the plan and file list resolved. */
async function planRun(options: RunOptions): Promise<PlannedRun> {
  const { spec } = options;
  const onEvent: EventSink = safeSink(options.onEvent);
  const paths = statePaths(options.stateDir ?? spec.dir);
  const lock = await withPathChecks(() => openState(paths, spec, options, onEvent));
  const usage = emptyUsage();
  const settings = generationSettings(options.provider.name, spec);
  const inputs = specInputs(spec);
  const context = buildStageContext({
    spec,
    provider: options.provider,
    providerIdentity: options.providerIdentity,
    cacheDir: options.cache === false ? undefined : paths.cache,
    usage,
    onEvent,
    signal: options.signal,
  });
  // A run cancelled before it began is not announced: whoever cancelled it (a save in watch mode) has
  // reported why before this point, and a `run-start` after that would read as a run the save cancelled.
  options.signal?.throwIfAborted();
  onEvent({
    type: 'run-start',
    spec: spec.displayPath,
    outDir: spec.outDir,
    provider: settings.provider,
    model: settings.model,
  });
  const settingsChanged = lock !== undefined && settingsHash(lock.settings) !== settingsHash(settings);
  const resolved = await resolvePlan({
    context,
    spec: inputs,
    settings,
    lock,
    replan: settingsChanged || (options.force === 'all' && lock === undefined),
    onEvent,
  });
  const ledger = await readLedger(paths);
  return {
    options,
    paths,
    lock,
    ledger,
    settings,
    inputs,
    context,
    usage,
    resolved,
    previousOutDir: movedOutDir(paths, spec, lock, ledger),
    only: options.only === undefined ? undefined : new Set(options.only),
    onEvent,
  };
}

/** The run's changes staged against the lock as it is, their contents in the object store. */
async function stageChanges(
  run: PlannedRun,
  step: { files: PlannedFile[]; assessments: FileAssessment[]; changes: FileChange[]; known: Map<string, string> },
): Promise<StagedRun> {
  const { options, paths, lock, only } = run;
  return stageRun({
    command: options.command ?? 'run',
    lockHash: await lockFileHash(paths.lockFile),
    lockHead: lockHeadOf(run.resolved, run.settings, step.files, outDirName(paths, options.spec.outDir)),
    previous: lock?.files ?? {},
    untouched: only === undefined ? [] : Object.keys(lock?.files ?? {}).filter((file) => !only.has(file)),
    assessments: step.assessments,
    changes: step.changes,
    objects: new ObjectStore(paths.objects),
    known: step.known,
  });
}

/** The lock's head for this run: everything but the files' entries. */
function lockHeadOf(
  resolved: ResolvedPlan,
  settings: GenerationSettings,
  files: PlannedFile[],
  outDir: string,
): LockHead {
  return {
    version: LOCK_VERSION,
    promptVersion: PROMPT_VERSION,
    settings,
    outDir,
    spec: { hash: resolved.specHash, lines: resolved.specLines },
    plan: { inputHash: resolved.planInputHash, global: resolved.plan.global, sections: resolved.plan.sections, files },
  };
}

/** What every step after planning works from. */
interface PlannedRun {
  options: RunOptions;
  paths: StatePaths;
  lock: Lock | undefined;
  /** What smol wrote in this working copy (`ledger.ts`). */
  ledger: Ledger;
  settings: GenerationSettings;
  inputs: SpecInputs;
  context: StageContext;
  /** Filled by the model calls as they go. */
  usage: RunUsage;
  resolved: ResolvedPlan;
  /** The lock's output folder when the spec now names another one. */
  previousOutDir: PreviousOutDir | undefined;
  /** `smol regen PATH…`: only these paths change. */
  only: ReadonlySet<string> | undefined;
  onEvent: EventSink;
}

/** The planned files smol may write, each with its state and whether it is to be generated. */
async function assessPlanned(
  run: PlannedRun,
): Promise<{ files: PlannedFile[]; rejected: PathRejection[]; assessments: FileAssessment[] }> {
  const { options, paths, lock, resolved, previousOutDir, only, settings, inputs } = run;
  const { spec } = options;
  return withPathChecks(async () => {
    const accepted = await acceptedFiles(resolved.files, spec, paths);
    const forced = new Set(options.force === 'all' ? accepted.files.map((file) => file.path) : (options.force ?? []));
    const assessed: FileAssessment[] = await mapLimit(accepted.files, 32, async (file) => {
      const assessment = await assessFile({
        outDir: spec.outDir,
        previousOutDir,
        planned: file,
        generation: fileGeneration(file, accepted.files, resolved.plan, inputs, settings),
        lock,
        forced: forced.has(file.path),
      });
      // Outside what the user named, nothing is generated: those files keep their entries (and stay stale).
      return only === undefined || only.has(file.path) ? assessment : { ...assessment, regenerate: false };
    });
    return { ...accepted, assessments: assessed };
  });
}

/** Stage 3 and what follows: every file's change, and (unless `only`) the files that left the plan. */
async function changesOf(
  run: PlannedRun,
  step: {
    assessments: FileAssessment[];
    files: PlannedFile[];
    failed: { path: string; message: string }[];
  },
): Promise<FileChange[]> {
  const { options, paths, lock, previousOutDir, only, onEvent } = run;
  const { spec } = options;
  const { assessments, files, failed } = step;
  await options.beforeGenerate?.(assessments);
  const bases = await Bases.open(paths);
  let changes = await generateChanges({
    spec,
    cache: options.cache,
    paths,
    context: run.context,
    assessments,
    bases,
    failed,
    onEvent,
  });
  if (only !== undefined) changes = changes.filter((change) => only.has(change.path));
  else {
    const removed = await withPathChecks(async () =>
      removedFromPlan({ lock, files, outDir: spec.outDir, ignore: spec.settings.ignore, ledger: run.ledger }),
    );
    changes.push(...removed);
  }
  const moved = changes
    .filter((change) => change.reasons.some((reason) => reason.kind === 'out-dir-changed'))
    .map((change) => change.path);
  if (previousOutDir !== undefined && moved.length > 0) {
    onEvent({ type: 'out-dir-moved', from: previousOutDir.name, to: outDirName(paths, spec.outDir), files: moved });
  }
  return changes;
}

/** `apply` writes the staged run; `preview` saves it for review and syncs the edits file; `plan` does neither. */
async function writeOrSave(
  run: PlannedRun,
  {
    staged,
    assessments,
    known,
  }: { staged: StagedRun; assessments: readonly FileAssessment[]; known: Map<string, string> },
): Promise<{ written: string[]; refused: { path: string; reason: string }[] }> {
  const { options, paths, lock, previousOutDir, onEvent } = run;
  const { spec } = options;
  if (options.mode === 'apply') {
    const disk = diskContents(assessments, previousOutDir !== undefined);
    const applied = await applyStaged({
      paths,
      outDir: spec.outDir,
      staged,
      onEvent,
      known: { contents: known, disk },
    });
    const written = applied.applied.filter((file) =>
      staged.changes.some((change) => change.path === file && change.action !== 'conflict'),
    );
    return { written, refused: applied.refused };
  }
  if (options.mode === 'preview') {
    await saveStaged(paths, staged);
    // Hand edits seen on the way go to the edits file now, so they are committed with the next commit.
    if (lock !== undefined)
      await withPathChecks(() => syncEditsFile(paths, lock, diskContents(assessments, previousOutDir !== undefined)));
  }
  return { written: [], refused: [] };
}

/** Recovery first (an interrupted apply is finished, or a foreign journal set aside), then the lock. */
async function openState(
  paths: StatePaths,
  spec: Spec,
  options: RunOptions,
  onEvent: EventSink,
): Promise<Lock | undefined> {
  const recovered = await recoverJournal(paths, spec.outDir);
  if (recovered !== undefined) {
    onEvent({
      type: 'journal-recovered',
      files: recovered.files,
      skipped: recovered.skipped,
      failed: recovered.failed,
      refused: recovered.refused,
    });
  }
  return readLock(paths.lockFile, lockDisplayPath(spec.displayPath), outDirName(paths, spec.outDir)).catch(
    async (error: unknown) => {
      // `run --all` is the documented way out of a damaged lock: it rebuilds it from scratch. A link, a special
      // file or a huge file in the lock's place is not a lock at all: it goes (the link itself, never its target).
      if (options.force !== 'all') throw error;
      if (isSmolError(error) && (error.code === 'STATE_NOT_REGULAR' || error.code === 'STATE_TOO_LARGE'))
        await removeStateFile(paths.lockFile, { root: paths.root });
      return undefined;
    },
  );
}

/**
 * The lock's output folder when the spec now names another one (design.md 4.4: the known files are carried
 * over with no model call). Only a folder inside the spec's folder is read: the lock is untrusted, and a
 * crafted one must not make smol copy files from elsewhere into the project.
 */
function movedOutDir(
  paths: StatePaths,
  spec: Spec,
  lock: Lock | undefined,
  ledger: Ledger,
): PreviousOutDir | undefined {
  if (lock === undefined || lock.outDir === outDirName(paths, spec.outDir)) return undefined;
  const absolute = path.resolve(paths.root, lock.outDir);
  if (!isInside(paths.root, absolute) || absolute === paths.root || isInside(absolute, paths.stateDir))
    return undefined;
  return { absolute, name: lock.outDir, ledger };
}

function diskContents(
  assessments: readonly FileAssessment[],
  moved: boolean,
): Map<string, DiskText | undefined> | undefined {
  if (moved) return undefined;
  return new Map(assessments.map((assessment) => [assessment.path, diskText(assessment.disk)]));
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
