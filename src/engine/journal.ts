import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import PQueue from 'p-queue';
import { sha256 } from '../internal/hash.js';
import { ObjectStore } from '../workspace/object-store.js';
import { readOutputFile, removeOutputFile, writeOutputFile, writeStateFile } from '../workspace/write.js';
import type { StatePaths } from './paths.js';
import { lockHeldElsewhere } from './process-lock.js';

/** One file an apply changes: content hashes before and after (null: no file). */
const WRITE_CONCURRENCY = 8;

export interface JournalFile {
  path: string;
  before: string | null;
  after: string | null;
}

/**
 * The apply journal (design.md 5). Written before any file, it names every file's old and new content
 * (both already in the object store) and the lock before and after, so a crash at any point can be rolled
 * forward on the next start. Once done it stays as the record `smol undo` reverses.
 */
export interface Journal {
  version: 1;
  state: 'pending' | 'done';
  kind: 'apply' | 'undo';
  createdAt: string;
  /** The output folder, relative to the folder holding `.smol/` (so a moved checkout still recovers). */
  outDir: string;
  files: JournalFile[];
  lockBefore: string | null;
  lockAfter: string | null;
}

export async function readJournal(paths: StatePaths): Promise<Journal | undefined> {
  try {
    const parsed = JSON.parse(await readFile(paths.journal, 'utf8')) as Journal;
    return parsed.version === 1 && Array.isArray(parsed.files) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

async function writeJournal(paths: StatePaths, journal: Journal): Promise<void> {
  await writeStateFile(paths.journal, `${JSON.stringify(journal, null, 2)}\n`);
}

/**
 * Carries out a set of file changes and a lock change as one journaled unit: journal, files (each
 * atomic), lock, journal marked done. Every content must already be in the object store.
 */
export async function executeJournaled(
  paths: StatePaths,
  outDir: string,
  change: { kind: Journal['kind']; files: JournalFile[]; lockAfterText: string | null },
  onFile?: (file: JournalFile) => void,
): Promise<void> {
  const objects = new ObjectStore(paths.objects);
  const lockBeforeText = await readFile(paths.lockFile, 'utf8').catch(() => undefined);
  const journal: Journal = {
    version: 1,
    state: 'pending',
    kind: change.kind,
    createdAt: new Date().toISOString(),
    outDir: path.relative(path.dirname(paths.stateDir), outDir) || '.',
    files: change.files,
    lockBefore: lockBeforeText === undefined ? null : await objects.put(lockBeforeText),
    lockAfter: change.lockAfterText === null ? null : await objects.put(change.lockAfterText),
  };
  await writeJournal(paths, journal);
  await carryOut(paths, journal, objects, onFile);
}

/** Writes each file's `after` and the lock, then marks the journal done. Safe to repeat. */
async function carryOut(paths: StatePaths, journal: Journal, objects: ObjectStore, onFile?: (file: JournalFile) => void): Promise<string[]> {
  const skipped: string[] = [];
  const outDir = journalOutDir(paths, journal);
  // Files are independent (each atomic, each recoverable from the journal), so they are written a few at
  // a time: with an fsync per file, one at a time made the apply a visible share of a whole run.
  const queue = new PQueue({ concurrency: WRITE_CONCURRENCY });
  await Promise.all(
    journal.files.map((file) =>
      queue.add(async () => {
        const current = await readOutputFile(outDir, file.path);
        const currentHash = current === undefined ? null : sha256(current);
        if (currentHash === file.after) return;
        if (currentHash !== file.before) {
          // Someone changed the file between the crash and now: leave their version alone.
          skipped.push(file.path);
          return;
        }
        if (file.after === null) {
          await removeOutputFile(outDir, file.path);
        } else {
          const content = await objects.get(file.after);
          if (content === undefined) throw new Error(`object ${file.after} for ${file.path} is missing from .smol/objects`);
          await writeOutputFile(outDir, file.path, content);
        }
        onFile?.(file);
      }),
    ),
  );
  if (journal.lockAfter === null) {
    await rm(paths.lockFile, { force: true });
  } else {
    const lockText = await objects.get(journal.lockAfter);
    if (lockText === undefined) throw new Error(`object ${journal.lockAfter} for smol.lock is missing from .smol/objects`);
    await writeStateFile(paths.lockFile, lockText);
  }
  await writeJournal(paths, { ...journal, state: 'done' });
  return skipped;
}

export function journalOutDir(paths: StatePaths, journal: Journal): string {
  return path.resolve(path.dirname(paths.stateDir), journal.outDir);
}

/**
 * Finishes an apply that a crash interrupted, before anything else runs. Returns what was done, or
 * undefined when there was nothing to recover.
 */
export async function recoverJournal(paths: StatePaths): Promise<{ files: string[]; skipped: string[] } | undefined> {
  const journal = await readJournal(paths);
  if (journal === undefined || journal.state !== 'pending') return undefined;
  // A live smol is mid-apply: the journal is its work in progress, not a crash to recover.
  if ((await lockHeldElsewhere(paths)) !== undefined) return undefined;
  const files: string[] = [];
  const skipped = await carryOut(paths, journal, new ObjectStore(paths.objects), (file) => files.push(file.path));
  return { files, skipped };
}
