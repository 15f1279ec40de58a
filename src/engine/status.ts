import type { Plan } from '../plan/plan-markdown.js';
import type { Spec } from '../spec/types.js';
import { isSmolError } from '../errors.js';
import { mapLimit } from '../internal/map-limit.js';
import { withPathChecks } from '../workspace/inside.js';
import { readOutputText } from '../workspace/read.js';
import { assessFile, diskText, diskViewOf, type DiskState } from './assess.js';
import { Bases } from './bases.js';
import { syncEditsFile, type DiskText } from './edits-sync.js';
import { settingsHash, type GenerationSettings } from './fingerprint.js';
import { fileGeneration, generationSettings, planInputHash, specInputs } from './generation-inputs.js';
import { recoverJournal, type Recovery } from './journal.js';
import { lockFileHash, readLock, type Lock } from './lock.js';
import { lockDisplayPath, outDirName, statePaths } from './paths.js';
import { withStateLock } from './process-lock.js';
import type { StaleReason } from './reasons.js';
import { loadStaged } from './staging.js';

/** Files read at once when sweeping the output folder. */
const FS_CONCURRENCY = 32;

export interface FileStatus {
  path: string;
  disk: DiskState;
  /** The content on disk is one smol recorded (its generation, a merge it wrote, or what the user accepted). */
  recorded: boolean;
  /** Why it would be regenerated; empty when up to date; undefined when unknown without a re-plan (spec changed). */
  reasons: StaleReason[] | undefined;
  /** True when the file left the plan. */
  removed?: boolean;
  /** For a file that differs from its generation: whether the committed `smol.edits.patch` rebuilds its merge base. */
  baseCommitted?: boolean;
}

export interface StatusReport {
  hasLock: boolean;
  /** The spec changed since the lock's plan: which files change needs a re-plan (`smol plan`). */
  specChanged: boolean;
  settingsChanged: boolean;
  /** The output folder the lock names, when the spec now names another. */
  outDirMovedFrom?: string | undefined;
  /** An interrupted apply finished (or a foreign journal set aside) before the status was taken. */
  recovered?: Recovery | undefined;
  files: FileStatus[];
  /** What `smol diff`/`smol run` staged and `smol apply` would write (only while it still applies to the lock). */
  staged: { path: string; action: string }[];
  /** Problems reading `smol.edits.patch` (it is committed: a bad merge or a hand edit can damage it). */
  editsProblems: string[];
}

/**
 * Where every file stands, from the spec, the lock and the disk alone: never calls a model and never reads
 * the environment (`smol check` gives the same answer on every machine). The provider is the one the spec
 * names (or implies with `baseURL` / `azure.endpoint`), else the lock's.
 */
export async function computeStatus(
  spec: Spec,
  options: { stateDir?: string | undefined; syncEdits?: boolean | undefined } = {},
): Promise<StatusReport> {
  return withPathChecks(() => statusOf(spec, options));
}

async function statusOf(
  spec: Spec,
  options: { stateDir?: string | undefined; syncEdits?: boolean | undefined },
): Promise<StatusReport> {
  const paths = statePaths(options.stateDir ?? spec.dir);
  // An apply cut short by a crash is finished first (and reported), so the status tells the truth.
  const recovered = await recoverJournal(paths, spec.outDir);
  const lock = await readLock(paths.lockFile, lockDisplayPath(spec.displayPath), outDirName(paths, spec.outDir));
  const base = { recovered };
  if (lock === undefined)
    return {
      ...base,
      hasLock: false,
      specChanged: true,
      settingsChanged: false,
      files: [],
      staged: await stagedNow(paths),
      editsProblems: [],
    };

  const settings = generationSettings(declaredProvider(spec.settings) ?? lock.settings.provider, spec);
  const settingsChanged = settingsHash(lock.settings) !== settingsHash(settings);
  const contents = new Map<string, DiskText | undefined>();
  const movedFrom = lock.outDir === outDirName(paths, spec.outDir) ? undefined : lock.outDir;
  const planned = await plannedStatus(spec, lock, settings, contents);
  const files = [...planned.files, ...(await removedStatus(spec, lock, contents))];
  if (options.syncEdits !== false) await trySyncEdits(paths, lock, movedFrom === undefined ? contents : undefined);
  // What the committed edits file holds now (after the sync above): what a fresh clone would know.
  const committed = await Bases.open(paths);
  for (const file of files)
    Object.assign(file, baseStatus(committed, file.path, lock, file.disk, contents.get(file.path)?.text));
  return {
    ...base,
    hasLock: true,
    specChanged: planned.specChanged,
    settingsChanged,
    outDirMovedFrom: movedFrom,
    files,
    staged: await stagedNow(paths),
    editsProblems: committed.edits.problems,
  };
}

/** Every planned file's state and staleness; what was read goes to `contents` (for the edits file). */
async function plannedStatus(
  spec: Spec,
  lock: Lock,
  settings: GenerationSettings,
  contents: Map<string, DiskText | undefined>,
): Promise<{ specChanged: boolean; files: FileStatus[] }> {
  const inputs = specInputs(spec);
  const settingsChanged = settingsHash(lock.settings) !== settingsHash(settings);
  const specChanged = lock.plan.inputHash !== planInputHash(settings, inputs.rendered);
  const plan: Plan = { global: lock.plan.global, sections: lock.plan.sections };
  const files = await mapLimit(lock.plan.files, FS_CONCURRENCY, async (file): Promise<FileStatus> => {
    const assessment = await assessFile({
      outDir: spec.outDir,
      planned: file,
      generation: fileGeneration(file, lock.plan.files, plan, inputs, settings),
      lock,
      forced: false,
    });
    // A file that is its generation needs no edits entry: its hash is enough (a 2,000-file status would
    // otherwise hold every file's text until the end).
    const clean = assessment.disk.hash !== undefined && assessment.disk.hash === assessment.locked?.generated;
    contents.set(file.path, clean ? { hash: assessment.disk.hash!, text: undefined } : diskText(assessment.disk));
    return {
      path: file.path,
      disk: assessment.disk.state,
      recorded: assessment.disk.recorded,
      // With a changed spec the lock's plan is out of date, so its fingerprints cannot say which files change.
      reasons: specChanged && !settingsChanged ? undefined : assessment.reasons,
    };
  });
  return { specChanged, files };
}

/** The lock's files that left the plan; what was read goes to `contents`. */
async function removedStatus(
  spec: Spec,
  lock: Lock,
  contents: Map<string, DiskText | undefined>,
): Promise<FileStatus[]> {
  const planned = new Set(lock.plan.files.map((file) => file.path));
  const removed = Object.entries(lock.files).filter(([file]) => !planned.has(file));
  return mapLimit(removed, FS_CONCURRENCY, async ([file, entry]): Promise<FileStatus> => {
    const read = await readOutputText(spec.outDir, file).catch(() => undefined);
    contents.set(file, read);
    const view = diskViewOf(entry, read?.text, read?.hash);
    return {
      path: file,
      disk: view.state,
      recorded: view.recorded,
      reasons: [{ kind: 'removed-from-plan' }],
      removed: true,
    };
  });
}

/** The provider a spec names or implies without looking at the environment (design.md 8's first two rules). */
export function declaredProvider(settings: Spec['settings']): string | undefined {
  if (settings.provider !== undefined) return settings.provider;
  if (settings.azure?.endpoint !== undefined) return 'azure';
  if (settings.baseURL !== undefined) return 'openai-compatible';
  return undefined;
}

/** For a file that differs from its generation: can the committed edits file alone rebuild the merge base? */
function baseStatus(
  bases: Bases,
  file: string,
  lock: Lock,
  state: DiskState,
  content: string | undefined,
): { baseCommitted?: boolean } {
  const entry = lock.files[file];
  if ((state !== 'edited' && state !== 'conflict') || entry?.generated == null || content === undefined) return {};
  return { baseCommitted: bases.inEditsFile(file, entry.generated, content) };
}

/** The staged changes, while they still apply to the lock on disk. */
async function stagedNow(paths: ReturnType<typeof statePaths>): Promise<{ path: string; action: string }[]> {
  const staged = await loadStaged(paths);
  if (staged === undefined || staged.lockHash !== (await lockFileHash(paths.lockFile))) return [];
  return staged.changes.map((change) => ({ path: change.path, action: change.action }));
}

/** Records hand edits in `smol.edits.patch` when no other smol is at work (status never waits for one). */
async function trySyncEdits(
  paths: ReturnType<typeof statePaths>,
  lock: Lock,
  contents: ReadonlyMap<string, DiskText | undefined> | undefined,
): Promise<void> {
  try {
    await withStateLock(paths, 'smol status', () => syncEditsFile(paths, lock, contents));
  } catch (error) {
    if (!isSmolError(error)) throw error;
  }
}
