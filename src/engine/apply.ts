import { readFile } from 'node:fs/promises';
import { SmolError } from '../errors.js';
import { sha256 } from '../internal/hash.js';
import { ObjectStore } from '../workspace/object-store.js';
import { readOutputFile } from '../workspace/write.js';
import type { EventSink } from './events.js';
import { executeJournaled, journalOutDir, readJournal, recoverJournal, type JournalFile } from './journal.js';
import { lockFileHash, serializeLock, type Lock, type LockedFile } from './lock.js';
import type { StatePaths } from './paths.js';
import { withStateLock } from './process-lock.js';
import { clearStaged, saveStaged, type StagedChange, type StagedRun } from './staging.js';

export type ConflictResolution = 'theirs' | 'ours' | 'markers';

export interface ApplyOptions {
  paths: StatePaths;
  outDir: string;
  staged: StagedRun;
  /** Which changes to apply (default: all that are not conflicts). */
  accept?: (change: StagedChange) => boolean;
  /** How to settle conflicts, by path. Unresolved conflicts stay staged. */
  resolutions?: ReadonlyMap<string, ConflictResolution>;
  onEvent?: EventSink;
}

export interface ApplyResult {
  applied: string[];
  /** Changes refused because the file changed since it was staged. */
  refused: { path: string; reason: string }[];
  /** Changes left staged (declined or unresolved conflicts). */
  pending: string[];
}

/**
 * Applies staged changes with no model call (design.md 5): checks each file still is what was staged,
 * then journal, files, lock. Declined changes keep their old lock entry, so they stay stale.
 */
export async function applyStaged(options: ApplyOptions): Promise<ApplyResult> {
  return withStateLock(options.paths, 'smol apply', () => applyUnlocked(options));
}

async function applyUnlocked(options: ApplyOptions): Promise<ApplyResult> {
  const { paths, outDir, staged } = options;
  if ((await lockFileHash(paths.lockFile)) !== staged.lockHash) {
    throw new SmolError('STAGED_STALE', 'smol.lock changed since these changes were staged; nothing was applied.', {
      hint: 'Run `smol diff` (or `smol run`) again to stage changes against the current state.',
    });
  }
  const accept = options.accept ?? ((change: StagedChange) => change.action !== 'conflict');
  const files: Record<string, LockedFile> = { ...staged.keep };
  const journalFiles: JournalFile[] = [];
  const result: ApplyResult = { applied: [], refused: [], pending: [] };
  const stillStaged: StagedChange[] = [];

  // Read what is on disk for every staged change at once (they are checked one by one below).
  const onDisk = new Map(
    await Promise.all(
      staged.changes.map(async (change) => {
        const current = await readOutputFile(outDir, change.path);
        return [change.path, current === undefined ? null : sha256(current)] as const;
      }),
    ),
  );
  for (const change of staged.changes) {
    const resolution = options.resolutions?.get(change.path);
    const wanted = change.action === 'conflict' ? resolution !== undefined : accept(change);
    const keepPrevious = (): void => {
      if (change.previous !== null) files[change.path] = change.previous;
    };
    if (!wanted) {
      keepPrevious();
      result.pending.push(change.path);
      stillStaged.push(change);
      continue;
    }
    const currentHash = onDisk.get(change.path) ?? null;
    if (currentHash !== change.before) {
      keepPrevious();
      result.refused.push({ path: change.path, reason: 'changed on disk since it was staged; run `smol diff` again' });
      continue;
    }
    const after = targetContent(change, resolution, currentHash);
    if (after !== currentHash) journalFiles.push({ path: change.path, before: currentHash, after });
    if (change.fresh !== null && after !== null) files[change.path] = { ...change.fresh, output: after };
    result.applied.push(change.path);
  }

  const lock: Lock = { ...staged.lockHead, files };
  const lockText = serializeLock(lock);
  await executeJournaled(paths, outDir, { kind: 'apply', files: journalFiles, lockAfterText: lockText }, (file) =>
    options.onEvent?.({ type: 'file-written', path: file.path, action: file.after === null ? 'delete' : file.before === null ? 'create' : 'update' }),
  );
  if (stillStaged.length > 0) {
    // What is left stays applicable on top of the lock just written.
    const waiting = new Set(stillStaged.map((change) => change.path));
    const keep = Object.fromEntries(Object.entries(files).filter(([file]) => !waiting.has(file)));
    await saveStaged(paths, { ...staged, lockHash: sha256(lockText), keep, changes: stillStaged });
  } else {
    await clearStaged(paths);
  }
  return result;
}

function targetContent(change: StagedChange, resolution: ConflictResolution | undefined, currentHash: string | null): string | null {
  if (change.action !== 'conflict') return change.after;
  if (resolution === 'theirs') return change.generated ?? null;
  if (resolution === 'markers') return change.markers ?? null;
  return currentHash;
}

export interface UndoResult {
  reverted: string[];
}

/** Reverts the last apply (design.md 5). Refuses, naming them, when files were edited since. */
export async function undoLastApply(paths: StatePaths, onEvent?: EventSink): Promise<UndoResult> {
  return withStateLock(paths, 'smol undo', () => undoUnlocked(paths, onEvent));
}

async function undoUnlocked(paths: StatePaths, onEvent?: EventSink): Promise<UndoResult> {
  await recoverJournal(paths);
  const journal = await readJournal(paths);
  if (journal === undefined) {
    throw new SmolError('UNDO_NOTHING', 'There is no apply to undo.', { exitCode: 1, hint: 'smol keeps the last apply only.' });
  }
  const edited: string[] = [];
  for (const file of journal.files) {
    const current = await readOutputFile(journalOutDir(paths, journal), file.path);
    if ((current === undefined ? null : sha256(current)) !== file.after) edited.push(file.path);
  }
  const lockNow = await readFile(paths.lockFile, 'utf8').catch(() => undefined);
  const lockExpected = journal.lockAfter;
  if (edited.length > 0) {
    throw new SmolError('UNDO_EDITED', `Not undone: edited since the last ${journal.kind}: ${edited.join(', ')}.`, {
      exitCode: 1,
      hint: 'Revert those edits first (or keep them and edit the rest by hand).',
    });
  }
  if ((lockNow === undefined ? null : sha256(lockNow)) !== lockExpected) {
    throw new SmolError('UNDO_LOCK_CHANGED', 'Not undone: smol.lock changed since the last apply.', { exitCode: 1 });
  }
  const objects = new ObjectStore(paths.objects);
  const lockBeforeText = journal.lockBefore === null ? null : ((await objects.get(journal.lockBefore)) ?? null);
  if (journal.lockBefore !== null && lockBeforeText === null) {
    throw new SmolError('UNDO_UNAVAILABLE', 'Not undone: the previous smol.lock is missing from .smol/objects.', { exitCode: 1 });
  }
  const inverse = journal.files.map((file) => ({ path: file.path, before: file.after, after: file.before }));
  await executeJournaled(paths, journalOutDir(paths, journal), { kind: 'undo', files: inverse, lockAfterText: lockBeforeText }, (file) =>
    onEvent?.({ type: 'file-written', path: file.path, action: file.after === null ? 'delete' : file.before === null ? 'create' : 'update' }),
  );
  return { reverted: inverse.map((file) => file.path) };
}
