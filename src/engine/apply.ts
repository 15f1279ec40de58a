import { SmolError } from '../errors.js';
import { sha256 } from '../internal/hash.js';
import { withPathChecks } from '../workspace/inside.js';
import { readStateFile } from '../workspace/state-file.js';
import { readOutputText } from '../workspace/read.js';
import { syncEditsFile, type DiskText } from './edits-sync.js';
import type { EventSink } from './events.js';
import { pushOp } from './history.js';
import { writtenAction, type JournalFile } from './journal.js';
import { executeJournaled } from './journal-carry.js';
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
  accept?: ((change: StagedChange) => boolean) | undefined;
  /** How to settle conflicts, by path. Unresolved conflicts stay staged. */
  resolutions?: ReadonlyMap<string, ConflictResolution> | undefined;
  onEvent?: EventSink | undefined;
  /** What the undo history calls this apply (default: the command that staged the changes). */
  command?: string | undefined;
  /**
   * What the caller already holds (a run that staged the changes a moment ago): contents by hash, so the
   * files are written from memory rather than read back from the object store; and the files of outDir
   * as the run read them (path -> content and hash, undefined: no file), so the edits file is brought up
   * to date without reading every file again. Files this apply writes or checks are taken as they are now.
   */
  known?:
    | {
        contents?: ReadonlyMap<string, string> | undefined;
        disk?: ReadonlyMap<string, DiskText | undefined> | undefined;
      }
    | undefined;
}

export interface ApplyResult {
  applied: string[];
  /** Changes refused because the file changed since it was staged. */
  refused: { path: string; reason: string }[];
  /** Changes left staged (declined or unresolved conflicts). */
  pending: string[];
  /** Conflicts among `pending`. */
  conflicts: string[];
}

/**
 * Applies staged changes with no model call (design.md 5): checks each file still is what was staged,
 * then journal, files, lock, history. Declined changes keep their old lock entry, so they stay stale.
 */
export async function applyStaged(options: ApplyOptions): Promise<ApplyResult> {
  return withStateLock(options.paths, 'smol apply', () => withPathChecks(() => applyUnlocked(options)));
}

async function applyUnlocked(options: ApplyOptions): Promise<ApplyResult> {
  const { paths, staged } = options;
  if ((await lockFileHash(paths.lockFile)) !== staged.lockHash) {
    throw new SmolError('STAGED_STALE', 'smol.lock changed since these changes were staged; nothing was applied.', {
      hint: 'Run `smol diff` (or `smol run`) again to stage changes against the current state.',
    });
  }
  const read = await readStagedFiles(options.outDir, staged.changes);
  const decided = decideChanges(options, read);
  const lock: Lock = { ...staged.lockHead, files: decided.files };
  const lockText = serializeLock(lock);
  const written = await writeJournaled(options, decided.journalFiles, lockText);
  await restage(paths, staged, decided, lockText);
  await syncEditsFile(paths, lock, diskAfter(options.known, read, decided.journalFiles, written));
  return decided.result;
}

/** What is on disk for every staged change, read at once (they are checked one by one after). */
async function readStagedFiles(
  outDir: string,
  changes: readonly StagedChange[],
): Promise<Map<string, DiskText | undefined>> {
  return new Map(
    await Promise.all(
      changes.map(async (change) => {
        const current = await readOutputText(outDir, change.path).catch(() => undefined);
        return [change.path, current] as const;
      }),
    ),
  );
}

interface DecidedChanges {
  result: ApplyResult;
  /** The lock's entries after this apply. */
  files: Record<string, LockedFile>;
  journalFiles: JournalFile[];
  /** Changes left staged (declined or unresolved conflicts). */
  stillStaged: StagedChange[];
}

/** Which staged changes are written, refused or left staged, and the lock entries that follow. */
function decideChanges(options: ApplyOptions, read: ReadonlyMap<string, DiskText | undefined>): DecidedChanges {
  const accept = options.accept ?? ((change: StagedChange) => change.action !== 'conflict');
  const decided: DecidedChanges = {
    result: { applied: [], refused: [], pending: [], conflicts: [] },
    files: { ...options.staged.keep },
    journalFiles: [],
    stillStaged: [],
  };
  const { result, files } = decided;
  for (const change of options.staged.changes) {
    const resolution = options.resolutions?.get(change.path);
    const wanted = change.action === 'conflict' ? resolution !== undefined : accept(change);
    const keepPrevious = (): void => {
      if (change.previous !== null) files[change.path] = change.previous;
    };
    if (!wanted) {
      keepPrevious();
      result.pending.push(change.path);
      if (change.action === 'conflict') result.conflicts.push(change.path);
      decided.stillStaged.push(change);
      continue;
    }
    const currentHash = read.get(change.path)?.hash ?? null;
    if (currentHash !== change.before) {
      keepPrevious();
      result.refused.push({ path: change.path, reason: 'changed on disk since it was staged; run `smol diff` again' });
      continue;
    }
    const after = targetContent(change, resolution, currentHash);
    if (after !== currentHash) decided.journalFiles.push({ path: change.path, before: currentHash, after });
    const entry = entryAfter(change, resolution, after);
    if (entry !== undefined) files[change.path] = entry;
    result.applied.push(change.path);
  }
  return decided;
}

/** History, then journal, files and lock (when anything changes); returns the paths written. */
async function writeJournaled(
  options: ApplyOptions,
  journalFiles: JournalFile[],
  lockText: string,
): Promise<Set<string>> {
  const { paths } = options;
  const written = new Set<string>();
  const lockBefore = await readStateFile(paths.lockFile);
  if (journalFiles.length === 0 && lockText === lockBefore) return written;
  const command = options.command ?? options.staged.command;
  const history = await pushOp(paths, {
    command,
    createdAt: new Date().toISOString(),
    summary: summarize(journalFiles, command),
    files: journalFiles,
    lockBefore: lockBefore === undefined ? null : sha256(lockBefore),
    lockAfter: sha256(lockText),
  });
  await executeJournaled(
    paths,
    options.outDir,
    { files: journalFiles, lockAfterText: lockText, history },
    (file) => {
      written.add(file.path);
      options.onEvent?.({ type: 'file-written', path: file.path, action: writtenAction(file) });
    },
    options.known?.contents,
  );
  return written;
}

/** What is left stays staged, applicable on top of the lock just written; nothing left clears the staging. */
async function restage(paths: StatePaths, staged: StagedRun, decided: DecidedChanges, lockText: string): Promise<void> {
  const { stillStaged, files } = decided;
  if (stillStaged.length === 0) return clearStaged(paths);
  const waiting = new Set(stillStaged.map((change) => change.path));
  const keep = Object.fromEntries(Object.entries(files).filter(([file]) => !waiting.has(file)));
  await saveStaged(paths, { ...staged, lockHash: sha256(lockText), keep, changes: stillStaged });
}

/**
 * The files of outDir after this apply, as far as known without reading them again: as the caller read
 * them, then as this apply found the files it checked, then what it wrote. Undefined (read them all)
 * without the caller's reading; a file planned but not written (someone changed it meanwhile) is read.
 */
function diskAfter(
  known: ApplyOptions['known'],
  read: ReadonlyMap<string, DiskText | undefined>,
  journalFiles: readonly JournalFile[],
  written: ReadonlySet<string>,
): Map<string, DiskText | undefined> | undefined {
  if (known?.disk === undefined) return undefined;
  const disk = new Map(known.disk);
  for (const [file, current] of read) disk.set(file, current);
  for (const file of journalFiles) {
    const content = file.after === null ? undefined : known.contents?.get(file.after);
    if (!written.has(file.path) || (file.after !== null && content === undefined)) disk.delete(file.path);
    else disk.set(file.path, file.after === null ? undefined : { text: content, hash: file.after });
  }
  return disk;
}

/** The content hash a change leaves on disk. A conflict resolved "ours" keeps the file as it is. */
function targetContent(
  change: StagedChange,
  resolution: ConflictResolution | undefined,
  currentHash: string | null,
): string | null {
  if (change.action !== 'conflict') return change.after;
  if (resolution === 'theirs') return change.generated;
  if (resolution === 'markers') return change.markers ?? null;
  return currentHash;
}

/**
 * The lock entry after a change is applied (design.md 4.4): the new generation becomes the merge base
 * (`generated`); what is on disk becomes `written`. Conflict markers keep the file in `conflict`.
 */
function entryAfter(
  change: StagedChange,
  resolution: ConflictResolution | undefined,
  after: string | null,
): LockedFile | undefined {
  if (change.action === 'delete' || after === null) return undefined;
  const identity =
    change.fresh ??
    (change.previous === null
      ? undefined
      : { fingerprint: change.previous.fingerprint, inputs: change.previous.inputs });
  if (identity === undefined) return undefined;
  const generated = change.generated ?? change.previous?.generated ?? after;
  const entry: LockedFile = { ...identity, generated, written: after };
  if (change.action === 'conflict' && resolution === 'markers') entry.conflict = true;
  return entry;
}

function summarize(files: readonly JournalFile[], command: string): string {
  if (files.length === 0) return `${command}: smol.lock only`;
  const shown = files
    .slice(0, 3)
    .map((file) => file.path)
    .join(', ');
  return `${command}: ${files.length} file${files.length === 1 ? '' : 's'} (${shown}${files.length > 3 ? ', …' : ''})`;
}
