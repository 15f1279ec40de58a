import { SmolError } from '../errors.js';
import { sha256 } from '../internal/hash.js';
import { readStateFile } from '../workspace/state-file.js';
import { readOutputFile } from '../workspace/read.js';
import { hasConflictMarkers } from './assess.js';
import { syncEditsFile } from './edits-sync.js';
import { pushOp } from './history.js';
import { recoverJournal } from './journal.js';
import { executeJournaled } from './journal-carry.js';
import { readLock, serializeLock, type Lock } from './lock.js';
import { outDirName, type StatePaths } from './paths.js';
import { withStateLock } from './process-lock.js';

export interface AcceptResult {
  /** Files whose content on disk is now the accepted version. */
  accepted: string[];
  /** Files that already were. */
  unchanged: string[];
}

/**
 * `smol accept PATH…` (design.md 4.4): records each file's content on disk as the user's accepted version,
 * so `smol check` passes, without giving up the edit: the generation stays the merge base, and the next
 * regeneration merges the edit again. A file still holding conflict markers cannot be accepted.
 */
export async function acceptFiles(
  paths: StatePaths,
  outDir: string,
  files: readonly string[],
  displayLock = 'smol.lock',
): Promise<AcceptResult> {
  return withStateLock(paths, 'smol accept', async () => {
    await recoverJournal(paths, outDir);
    const lock = await readLock(paths.lockFile, displayLock, outDirName(paths, outDir));
    if (lock === undefined)
      throw new SmolError(
        'ACCEPT_NO_LOCK',
        'Nothing has been generated for this spec yet, so there is nothing to accept.',
        { exitCode: 2, hint: 'Run `smol run` first.' },
      );
    const result: AcceptResult = { accepted: [], unchanged: [] };
    const entries = { ...lock.files };
    for (const file of files) {
      const entry = entries[file];
      if (entry === undefined) {
        throw new SmolError('ACCEPT_UNKNOWN', `${file} is not a file smol generated.`, {
          exitCode: 2,
          hint: 'A file of your own that the plan wants is a staged conflict: `smol apply --ours PATH` keeps yours. `smol status` lists the files.',
        });
      }
      const hash = sha256(await acceptableContent(outDir, file));
      if (entry.written === hash && entry.conflict !== true) {
        result.unchanged.push(file);
        continue;
      }
      const { conflict: _resolved, ...rest } = entry;
      entries[file] = { ...rest, written: hash };
      result.accepted.push(file);
    }
    if (result.accepted.length > 0) await writeAccepted(paths, outDir, { ...lock, files: entries }, result.accepted);
    return result;
  });
}

/** The file's content on disk, which must be there and hold no conflict markers. */
async function acceptableContent(outDir: string, file: string): Promise<string> {
  const content = await readOutputFile(outDir, file);
  if (content === undefined)
    throw new SmolError('ACCEPT_MISSING', `${file} is not on disk.`, {
      exitCode: 2,
      hint: '`smol regen PATH` recreates a deleted file.',
    });
  if (hasConflictMarkers(content)) {
    throw new SmolError('ACCEPT_MARKERS', `${file} still holds conflict markers (<<<<<<< … >>>>>>>).`, {
      exitCode: 2,
      hint: 'Resolve them, then accept the file.',
    });
  }
  return content;
}

/** The new lock as one journaled step with its undo history entry, then the edits file. */
async function writeAccepted(
  paths: StatePaths,
  outDir: string,
  next: Lock,
  accepted: readonly string[],
): Promise<void> {
  const text = serializeLock(next);
  const before = await readStateFile(paths.lockFile);
  const history = await pushOp(paths, {
    command: 'accept',
    createdAt: new Date().toISOString(),
    summary: `accept: ${accepted.join(', ')}`,
    files: [],
    lockBefore: before === undefined ? null : sha256(before),
    lockAfter: sha256(text),
  });
  await executeJournaled(paths, outDir, { files: [], lockAfterText: text, history });
  await syncEditsFile(paths, next);
}
