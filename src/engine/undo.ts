import { SmolError } from '../errors.js';
import { sha256 } from '../internal/hash.js';
import { ObjectStore } from '../workspace/object-store.js';
import { readStateFile } from '../workspace/state-file.js';
import { readOutputFile } from '../workspace/read.js';
import { writeEditsFile } from './edits-file.js';
import { syncEditsFile } from './edits-sync.js';
import type { EventSink } from './events.js';
import { readHistoryEntry, readHistoryState, type HistoryEntry } from './history.js';
import { recoverJournal, writtenAction, type JournalFile } from './journal.js';
import { executeJournaled } from './journal-carry.js';
import { parseAnyLockText } from './lock.js';
import { outDirName, type StatePaths } from './paths.js';
import { withStateLock } from './process-lock.js';

export interface UndoResult {
  /** The history entry reverted (or re-applied, for redo). */
  entry: HistoryEntry;
  index: number;
  /** Files written back. */
  files: string[];
}

/**
 * Reverts the latest apply not yet undone (design.md 5); called again, the one before it, and so on.
 * Refuses, naming them, when files were edited since or smol.lock changed; says so when nothing is left.
 */
export async function undoLast(paths: StatePaths, outDir: string, onEvent?: EventSink): Promise<UndoResult> {
  return withStateLock(paths, 'smol undo', async () => {
    await recoverJournal(paths, outDir);
    const state = await readHistoryState(paths);
    const entry = state.head >= state.first ? await readHistoryEntry(paths, state.head) : undefined;
    if (entry === undefined) {
      throw new SmolError('UNDO_NOTHING', 'Nothing to undo: no apply is left in the history.', {
        exitCode: 1,
        hint: '`smol undo --list` shows the history (smol keeps the last 100 applies).',
      });
    }
    const inverse = entry.files.map((file) => ({ path: file.path, before: file.after, after: file.before }));
    await replay(paths, outDir, entry, inverse, {
      lockNow: entry.lockAfter,
      lockTarget: entry.lockBefore,
      what: 'undone',
    });
    await executeJournaled(
      paths,
      outDir,
      {
        files: inverse,
        lockAfterText: await lockText(paths, entry.lockBefore),
        history: { op: 'undo', index: state.head },
      },
      (file) => onEvent?.({ type: 'file-written', path: file.path, action: writtenAction(file) }),
    );
    await syncAfter(paths);
    return { entry, index: state.head, files: inverse.map((file) => file.path) };
  });
}

/** Re-applies the most recently undone apply, when nothing was applied since. */
export async function redoNext(paths: StatePaths, outDir: string, onEvent?: EventSink): Promise<UndoResult> {
  return withStateLock(paths, 'smol redo', async () => {
    await recoverJournal(paths, outDir);
    const state = await readHistoryState(paths);
    const index = state.head + 1;
    const entry = index <= state.last ? await readHistoryEntry(paths, index) : undefined;
    if (entry === undefined) {
      throw new SmolError('REDO_NOTHING', 'Nothing to redo: no undone apply is waiting.', {
        exitCode: 1,
        hint: 'An apply after an undo replaces what could be redone.',
      });
    }
    await replay(paths, outDir, entry, entry.files, {
      lockNow: entry.lockBefore,
      lockTarget: entry.lockAfter,
      what: 'redone',
    });
    await executeJournaled(
      paths,
      outDir,
      { files: entry.files, lockAfterText: await lockText(paths, entry.lockAfter), history: { op: 'redo', index } },
      (file) => onEvent?.({ type: 'file-written', path: file.path, action: writtenAction(file) }),
    );
    await syncAfter(paths);
    return { entry, index, files: entry.files.map((file) => file.path) };
  });
}

/**
 * Checks that replaying `files` is safe: each file is exactly what the step left, the lock is the one the
 * step left, and every content to restore is still known. (The history lives in `.smol/`, which a cloned
 * repository can carry; what it can do is bounded: only this spec's outDir and lock, and only files whose
 * content is exactly what the entry names, so nothing a person wrote since is ever overwritten.)
 */
async function replay(
  paths: StatePaths,
  outDir: string,
  entry: HistoryEntry,
  files: readonly JournalFile[],
  options: { lockNow: string | null; lockTarget: string | null; what: string },
): Promise<void> {
  await refuseOtherOutDir(paths, outDir, entry, options.what);
  const objects = new ObjectStore(paths.objects);
  const edited: string[] = [];
  const unknown: string[] = [];
  for (const file of files) {
    const current = await readOutputFile(outDir, file.path).catch(() => undefined);
    const currentHash = current === undefined ? null : sha256(current);
    if (currentHash !== file.before) edited.push(file.path);
    if (file.after !== null && (await objects.get(file.after)) === undefined) unknown.push(file.path);
  }
  if (edited.length > 0) {
    throw new SmolError(
      'UNDO_EDITED',
      `Not ${options.what}: edited since \`${entry.command}\`: ${edited.join(', ')}.`,
      {
        exitCode: 1,
        hint: 'Revert those edits first (or keep them and edit the rest by hand).',
      },
    );
  }
  if (unknown.length > 0) {
    throw new SmolError(
      'UNDO_UNAVAILABLE',
      `Not ${options.what}: the content of ${unknown.join(', ')} is no longer in .smol/objects.`,
      { exitCode: 1 },
    );
  }
  const lockNow = await readStateFile(paths.lockFile);
  if ((lockNow === undefined ? null : sha256(lockNow)) !== options.lockNow) {
    throw new SmolError('UNDO_LOCK_CHANGED', `Not ${options.what}: smol.lock changed since \`${entry.command}\`.`, {
      exitCode: 1,
      hint: 'Restore it (git checkout -- smol.lock), or leave the history as it is.',
    });
  }
  if (options.lockTarget !== null && (await lockText(paths, options.lockTarget)) === null) {
    throw new SmolError(
      'UNDO_UNAVAILABLE',
      `Not ${options.what}: the smol.lock to restore is no longer in .smol/objects.`,
      { exitCode: 1 },
    );
  }
}

/**
 * A step's files are paths in the output folder its lock names. When the spec names another folder now, the
 * same paths there are other files (a copy carried over, the user's own): replaying the step on them would
 * delete or overwrite what the step never wrote, so it is refused.
 */
async function refuseOtherOutDir(paths: StatePaths, outDir: string, entry: HistoryEntry, what: string): Promise<void> {
  const here = outDirName(paths, outDir);
  const stepLock = await lockText(paths, entry.lockAfter);
  const wroteIn = stepLock === null ? undefined : parseAnyLockText(stepLock, here)?.outDir;
  if (wroteIn === undefined || wroteIn === here) return;
  throw new SmolError(
    'UNDO_OUTDIR_CHANGED',
    `Not ${what}: \`${entry.command}\` wrote in ${wroteIn}/, and the spec's outDir is now ${here}.`,
    {
      exitCode: 1,
      hint: `Set outDir back to ${wroteIn} to ${what === 'undone' ? 'undo' : 'redo'} it, or leave the history as it is.`,
    },
  );
}

async function lockText(paths: StatePaths, hash: string | null): Promise<string | null> {
  if (hash === null) return null;
  return (await new ObjectStore(paths.objects).get(hash)) ?? null;
}

async function syncAfter(paths: StatePaths): Promise<void> {
  const text = await readStateFile(paths.lockFile);
  const lock = text === undefined ? undefined : parseAnyLockText(text);
  if (lock !== undefined) await syncEditsFile(paths, lock);
  else await writeEditsFile(paths.editsFile, new Map());
}
