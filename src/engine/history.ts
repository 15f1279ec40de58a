import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { checkOutputPath } from '../workspace/output-path.js';
import { readStateFile, removeStateFile, writeStateFile } from '../workspace/state-file.js';
import type { StatePaths } from './paths.js';

/** How many applies `smol undo` can walk back through. */
const HISTORY_LIMIT = 100;

const hash = z.string().regex(/^[0-9a-f]{64}$/);
const outputPath = z.string().refine((value) => {
  const check = checkOutputPath(value);
  return check.ok && check.path === value;
});

/** One file an apply changed: content hashes before and after (null: no file). */
export const fileChangeSchema = z.object({ path: outputPath, before: hash.nullable(), after: hash.nullable() });

/** What one apply did (design.md 5): `smol undo` reverses it, `smol redo` does it again. */
const historyEntrySchema = z.object({
  /** What made it: `run`, `apply`, `regen`, `resolve`, `debug`, `accept`, … (shown by `smol undo --list`). */
  command: z.string(),
  createdAt: z.string(),
  /** One line for `smol undo --list`. */
  summary: z.string(),
  files: z.array(fileChangeSchema),
  lockBefore: hash.nullable(),
  lockAfter: hash.nullable(),
});
export type HistoryEntry = z.output<typeof historyEntrySchema>;

/** The history step a journal carries out once its files and lock are written. */
export const historyOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('push'), index: z.number().int().positive(), entry: historyEntrySchema }),
  z.object({ op: z.literal('undo'), index: z.number().int().positive() }),
  z.object({ op: z.literal('redo'), index: z.number().int().positive() }),
]);
export type HistoryOp = z.output<typeof historyOpSchema>;

const stateSchema = z.object({
  version: z.literal(1),
  /** Entries `first..head` are in effect; `head+1..last` were undone and can be redone. */
  first: z.number().int().nonnegative(),
  head: z.number().int().nonnegative(),
  last: z.number().int().nonnegative(),
});
export type HistoryState = z.output<typeof stateSchema>;

const EMPTY: HistoryState = { version: 1, first: 1, head: 0, last: 0 };

export async function readHistoryState(paths: StatePaths): Promise<HistoryState> {
  try {
    const text = await readStateFile(path.join(paths.history, 'state.json'));
    if (text === undefined) return EMPTY;
    const parsed = stateSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return EMPTY;
    const { first, head, last } = parsed.data;
    return first <= head + 1 && head <= last ? parsed.data : EMPTY;
  } catch {
    return EMPTY;
  }
}

export async function readHistoryEntry(paths: StatePaths, index: number): Promise<HistoryEntry | undefined> {
  try {
    const text = await readStateFile(entryFile(paths, index));
    if (text === undefined) return undefined;
    const parsed = historyEntrySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Every entry still kept, oldest first, with whether it is in effect (not undone). */
export async function listHistory(
  paths: StatePaths,
): Promise<{ index: number; entry: HistoryEntry; undone: boolean }[]> {
  const state = await readHistoryState(paths);
  const entries: { index: number; entry: HistoryEntry; undone: boolean }[] = [];
  for (let index = state.first; index <= state.last; index += 1) {
    const entry = await readHistoryEntry(paths, index);
    if (entry !== undefined) entries.push({ index, entry, undone: index > state.head });
  }
  return entries;
}

/** The step that records a new apply: it becomes the newest entry, and what was undone can no longer be redone. */
export async function pushOp(paths: StatePaths, entry: HistoryEntry): Promise<HistoryOp> {
  const state = await readHistoryState(paths);
  return { op: 'push', index: state.head + 1, entry };
}

/**
 * Carries out a history step. Idempotent (the journal may replay it after a crash): every value is set from
 * the step itself, never incremented.
 */
export async function commitHistory(paths: StatePaths, op: HistoryOp, _journalId: string): Promise<void> {
  const state = await readHistoryState(paths);
  let next: HistoryState;
  if (op.op === 'push') {
    await writeStateFile(entryFile(paths, op.index), `${JSON.stringify(op.entry)}\n`, { root: paths.root });
    const first = Math.max(state.first, op.index - HISTORY_LIMIT + 1);
    next = { version: 1, first: Math.min(first, op.index), head: op.index, last: op.index };
    await prune(paths, next);
  } else if (op.op === 'undo') {
    next = { ...state, head: Math.max(state.first - 1, op.index - 1) };
  } else {
    next = { ...state, head: Math.min(state.last, op.index) };
  }
  await writeStateFile(path.join(paths.history, 'state.json'), `${JSON.stringify(next)}\n`, { root: paths.root });
}

/** Removes entries outside `first..last` (undone ones a new apply replaced, and the oldest past the limit). */
async function prune(paths: StatePaths, state: HistoryState): Promise<void> {
  const names = await readdir(paths.history).catch(() => [] as string[]);
  for (const name of names) {
    const match = /^(\d+)\.json$/.exec(name);
    if (match === null) continue;
    const index = Number(match[1]);
    if (index < state.first || index > state.last)
      await removeStateFile(path.join(paths.history, name), { root: paths.root });
  }
}

function entryFile(paths: StatePaths, index: number): string {
  return path.join(paths.history, `${String(index).padStart(6, '0')}.json`);
}
