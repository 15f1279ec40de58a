import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import * as z from 'zod';
import { ObjectStore } from '../workspace/object-store.js';
import { readStateFile, realFolderOrMissing, removeStateFile, writeStateFile } from '../workspace/state-file.js';
import { readOutputText, removeOutputFile, removeWriteLeftovers, writeOutputFile } from '../workspace/write.js';
import { commitHistory, fileChangeSchema, historyOpSchema, type HistoryOp } from './history.js';
import { recordWrites } from './ledger.js';
import { parseAnyLockText, serializeLock } from './lock.js';
import type { StatePaths } from './paths.js';
import { lockHeldElsewhere } from './process-lock.js';

/** Files are independent (each atomic, each recoverable from the journal): write a few at a time. */
const WRITE_CONCURRENCY = 8;

const hash = z.string().regex(/^[0-9a-f]{64}$/);
export type JournalFile = z.output<typeof fileChangeSchema>;

/**
 * The apply journal (design.md 5). Written before any file, it names every file's old and new content
 * (both already in the object store), the lock before and after, and the history step it records, so a
 * crash at any point is rolled forward on the next start. It is read from `.smol/`, which a cloned repository
 * can carry: it is parsed, its paths are checked like a model's, and it may only touch the current spec's
 * outDir and lock.
 */
const journalSchema = z.object({
  version: z.literal(2),
  id: z.string(),
  state: z.enum(['pending', 'done']),
  createdAt: z.string(),
  /** The output folder, relative to the spec's folder (so a moved checkout still recovers). */
  outDir: z.string(),
  files: z.array(fileChangeSchema),
  lockBefore: hash.nullable(),
  lockAfter: hash.nullable(),
  history: historyOpSchema,
});
export type Journal = z.output<typeof journalSchema>;

export interface JournalChange {
  files: JournalFile[];
  /** The lock to write (null: remove it). */
  lockAfterText: string | null;
  history: HistoryOp;
}

export async function readJournal(paths: StatePaths): Promise<Journal | undefined> {
  try {
    const text = await readStateFile(paths.journal);
    if (text === undefined) return undefined;
    const parsed = journalSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function writeJournal(paths: StatePaths, journal: Journal): Promise<void> {
  await writeStateFile(paths.journal, `${JSON.stringify(journal, null, 2)}\n`, { root: paths.root });
}

/** Test hook: called at each step of carrying out a journal, so crash tests can stop a process at a known point. */
export type JournalStep = { kind: 'journal-written' } | { kind: 'file-written'; index: number } | { kind: 'lock-written' } | { kind: 'history-written' };
let stepHook: ((step: JournalStep) => void) | undefined;
export function setJournalStepHook(hook: ((step: JournalStep) => void) | undefined): void {
  stepHook = hook;
}

/**
 * Carries out file changes, a lock change and a history step as one journaled unit: journal, files (each
 * atomic), lock, ledger, history, journal marked done. Every content must already be in the object store.
 */
export async function executeJournaled(
  paths: StatePaths,
  outDir: string,
  change: JournalChange,
  onFile?: (file: JournalFile) => void,
  /** Contents the caller holds, by hash: written from memory rather than read back from the object store. */
  known?: ReadonlyMap<string, string>,
): Promise<void> {
  const objects = new ObjectStore(paths.objects);
  const lockBeforeText = await readStateFile(paths.lockFile);
  const journal: Journal = {
    version: 2,
    id: randomUUID(),
    state: 'pending',
    createdAt: new Date().toISOString(),
    outDir: toPortable(path.relative(paths.root, outDir)) || '.',
    files: change.files,
    lockBefore: lockBeforeText === undefined ? null : await objects.put(lockBeforeText),
    lockAfter: change.lockAfterText === null ? null : await objects.put(change.lockAfterText),
    history: change.history,
  };
  const memory = new Map(known);
  if (journal.lockAfter !== null && change.lockAfterText !== null) memory.set(journal.lockAfter, change.lockAfterText);
  await writeJournal(paths, journal);
  stepHook?.({ kind: 'journal-written' });
  const outcome = await carryOut(paths, outDir, journal, objects, onFile, {}, memory);
  // A fresh apply that cannot write a file stops here: the journal stays pending and the next command rolls
  // it forward (or, if the file still cannot be written, settles it and says so).
  if (outcome.failed.length > 0) throw outcome.failed[0]!.error;
}

interface CarryOutcome {
  written: string[];
  /** Files someone changed since the journal was written: left as they are. */
  skipped: string[];
  failed: { path: string; error: unknown }[];
}

async function carryOut(
  paths: StatePaths,
  outDir: string,
  journal: Journal,
  objects: ObjectStore,
  onFile?: (file: JournalFile) => void,
  options: { settleFailures?: boolean } = {},
  known?: ReadonlyMap<string, string>,
): Promise<CarryOutcome> {
  const outcome: CarryOutcome = { written: [], skipped: [], failed: [] };
  const queue = new PQueue({ concurrency: WRITE_CONCURRENCY });
  await Promise.all(
    journal.files.map((file, index) =>
      queue.add(async () => {
        try {
          const current = await readOutputText(outDir, file.path);
          const currentHash = current === undefined ? null : current.hash;
          if (currentHash === file.after) return;
          if (currentHash !== file.before) {
            // Someone changed the file between the crash and now: leave their version alone.
            outcome.skipped.push(file.path);
            return;
          }
          if (file.after === null) {
            await removeOutputFile(outDir, file.path);
          } else {
            const content = known?.get(file.after) ?? (await objects.get(file.after));
            if (content === undefined) throw new Error(`the content for ${file.path} is missing from .smol/objects`);
            await writeOutputFile(outDir, file.path, content);
          }
          outcome.written.push(file.path);
          onFile?.(file);
          stepHook?.({ kind: 'file-written', index });
        } catch (error) {
          outcome.failed.push({ path: file.path, error });
        }
      }),
    ),
  );
  if (outcome.failed.length > 0 && options.settleFailures !== true) return outcome;

  let lockText = journal.lockAfter === null ? null : (known?.get(journal.lockAfter) ?? (await objects.get(journal.lockAfter)) ?? null);
  if (journal.lockAfter !== null && lockText === null) throw new Error('the new smol.lock is missing from .smol/objects');
  const unsettled = [...outcome.failed.map((failure) => failure.path), ...outcome.skipped];
  if (unsettled.length > 0 && lockText !== null) {
    // Files left as they were keep their old lock entries, so the lock stays true to the disk.
    const before = journal.lockBefore === null ? undefined : await objects.get(journal.lockBefore);
    lockText = lockWithEntriesFrom(lockText, before, unsettled);
  }
  if (lockText === null) await removeStateFile(paths.lockFile);
  else await writeStateFile(paths.lockFile, lockText, { root: paths.root });
  stepHook?.({ kind: 'lock-written' });
  await recordWrites(
    paths,
    outDir,
    journal.files.filter((file) => !unsettled.includes(file.path)).map((file) => ({ path: file.path, hash: file.after })),
  );
  await commitHistory(paths, journal.history, journal.id);
  stepHook?.({ kind: 'history-written' });
  await writeJournal(paths, { ...journal, state: 'done' });
  return outcome;
}

/** `lockText` with the entries of `files` taken from `beforeText` (or dropped when it had none). */
function lockWithEntriesFrom(lockText: string, beforeText: string | undefined, files: readonly string[]): string {
  const after = parseAnyLockText(lockText);
  if (after === undefined) return lockText;
  const before = beforeText === undefined ? undefined : parseAnyLockText(beforeText);
  const entries = { ...after.files };
  for (const file of files) {
    const previous = before?.files[file];
    if (previous === undefined) delete entries[file];
    else entries[file] = previous;
  }
  return serializeLock({ ...after, files: entries });
}

export interface Recovery {
  /** Files written to finish the interrupted apply. */
  files: string[];
  /** Files left as they were (changed since, or they could not be written): their lock entries were kept. */
  skipped: string[];
  failed: { path: string; message: string }[];
  /** Set when the journal was not carried out at all, and why (it named another folder). */
  refused?: string;
}

/**
 * Finishes an apply a crash interrupted, before anything else runs. Returns what was done, or undefined
 * when there was nothing to recover. A journal that names another output folder than this spec's is never
 * carried out: it is set aside (`.smol/journal.refused.json`) and reported.
 */
export async function recoverJournal(paths: StatePaths, outDir: string): Promise<Recovery | undefined> {
  // `.smol` a link to a folder elsewhere (a cloned repository can carry one): refused before anything in it is read.
  if (!(await realFolderOrMissing(paths.stateDir, paths.root))) return undefined;
  const raw = await readStateFile(paths.journal).catch(() => undefined);
  if (raw === undefined) return undefined;
  const journal = await readJournal(paths);
  if (journal === undefined) {
    // Not a journal smol can read: nothing in it is trusted or carried out.
    await setAside(paths, raw);
    return { files: [], skipped: [], failed: [], refused: '.smol/journal.json could not be read as a smol journal' };
  }
  if (journal.state !== 'pending') return undefined;
  // A live smol is mid-apply: the journal is its work in progress, not a crash to recover.
  if ((await lockHeldElsewhere(paths)) !== undefined) return undefined;
  const named = path.resolve(paths.root, journal.outDir);
  if (!(await sameFolder(named, outDir))) {
    await setAside(paths, raw);
    return {
      files: [],
      skipped: [],
      failed: [],
      refused: `.smol/journal.json names the output folder ${JSON.stringify(journal.outDir)}, not this spec's (${toPortable(path.relative(paths.root, outDir)) || '.'})`,
    };
  }
  const objects = new ObjectStore(paths.objects);
  const outcome = await carryOut(paths, outDir, journal, objects, undefined, { settleFailures: true });
  await removeLeftovers(outDir, journal, objects);
  return {
    files: outcome.written,
    skipped: [...outcome.skipped, ...outcome.failed.map((failure) => failure.path)],
    failed: outcome.failed.map((failure) => ({ path: failure.path, message: failure.error instanceof Error ? failure.error.message : String(failure.error) })),
  };
}

/** The temp files of writes the crash cut short (they would sit beside the user's files otherwise). */
async function removeLeftovers(outDir: string, journal: Journal, objects: ObjectStore): Promise<void> {
  for (const file of journal.files) {
    if (file.after === null) continue;
    const content = await objects.get(file.after);
    if (content !== undefined) await removeWriteLeftovers(outDir, file.path, content).catch(() => {});
  }
}

async function setAside(paths: StatePaths, raw: string): Promise<void> {
  await writeStateFile(path.join(paths.stateDir, 'journal.refused.json'), raw, { root: paths.root });
  await removeStateFile(paths.journal);
}

async function sameFolder(a: string, b: string): Promise<boolean> {
  if (path.resolve(a) === path.resolve(b)) return true;
  const [realA, realB] = await Promise.all([realpath(a).catch(() => undefined), realpath(b).catch(() => undefined)]);
  return realA !== undefined && realA === realB;
}

function toPortable(relative: string): string {
  return relative.split(path.sep).join('/');
}
