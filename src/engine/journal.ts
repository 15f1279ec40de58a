import { realpath } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { ObjectStore } from '../workspace/object-store.js';
import { readStateFile, realFolderOrMissing, removeStateFile, writeStateFile } from '../workspace/state-file.js';
import { fileChangeSchema, historyOpSchema, type HistoryOp } from './history.js';
import type { StatePaths } from './paths.js';
import { lockHeldElsewhere } from './process-lock.js';

const hash = z.string().regex(/^[0-9a-f]{64}$/);
export type JournalFile = z.output<typeof fileChangeSchema>;

/** What writing a journal's file does to it, as `file-written` events say it. */
export function writtenAction(file: JournalFile): 'create' | 'update' | 'delete' {
  return file.after === null ? 'delete' : file.before === null ? 'create' : 'update';
}

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
    return text === undefined ? undefined : parseJournal(text);
  } catch {
    return undefined;
  }
}

function parseJournal(text: string): Journal | undefined {
  try {
    const parsed = journalSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeJournal(
  paths: StatePaths,
  journal: Journal,
  options: { durable?: boolean } = {},
): Promise<void> {
  await writeStateFile(paths.journal, `${JSON.stringify(journal, null, 2)}\n`, {
    root: paths.root,
    durable: options.durable ?? true,
  });
}

/** Test hook: called at each step of carrying out a journal, so crash tests can stop a process at a known point. */
export type JournalStep =
  | { kind: 'journal-written' }
  | { kind: 'file-written'; index: number }
  | { kind: 'lock-written' }
  | { kind: 'history-written' };
let stepHook: ((step: JournalStep) => void) | undefined;
export function setJournalStepHook(hook: ((step: JournalStep) => void) | undefined): void {
  stepHook = hook;
}
export function journalStepHook(): ((step: JournalStep) => void) | undefined {
  return stepHook;
}

export interface Recovery {
  /** Files written to finish the interrupted apply. */
  files: string[];
  /** Files left as they were (changed since, or they could not be written): their lock entries were kept. */
  skipped: string[];
  failed: { path: string; message: string }[];
  /** Set when the journal was not carried out at all, and why (it named another folder). */
  refused?: string | undefined;
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
  // Parsed from what was just read (a 2,000-file journal is worth reading once).
  const journal = parseJournal(raw);
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
  // Carrying a journal out writes files: that code is loaded only when there is one to finish (a status
  // with nothing to recover loads no writer).
  const { carryOut, removeLeftovers } = await import('./journal-carry.js');
  const objects = new ObjectStore(paths.objects);
  const outcome = await carryOut(paths, outDir, journal, objects, undefined, { settleFailures: true });
  await removeLeftovers(outDir, journal, objects);
  return {
    files: outcome.written,
    skipped: [...outcome.skipped, ...outcome.failed.map((failure) => failure.path)],
    failed: outcome.failed.map((failure) => ({
      path: failure.path,
      message: failure.error instanceof Error ? failure.error.message : String(failure.error),
    })),
  };
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

export function toPortable(relative: string): string {
  return relative.split(path.sep).join('/');
}
