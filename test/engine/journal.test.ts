import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listHistory, pushOp, readHistoryState } from '../../src/engine/history.js';
import { executeJournaled } from '../../src/engine/journal-carry.js';
import {
  readJournal,
  recoverJournal,
  setJournalStepHook,
  type JournalFile,
  type JournalStep,
} from '../../src/engine/journal.js';
import { setDurableWrites } from '../../src/workspace/durability.js';
import { entry, HASH, lockText, specFolder, type Folder } from './fixtures.js';

/**
 * The apply journal (design.md 5) in one process: the step hook stops `executeJournaled` at a chosen
 * step (as a crash would: the journal stays pending), then `recoverJournal` must finish the job exactly
 * once. The subprocess crash tests (test/reliability/crash.test.ts) prove the same with SIGKILL.
 */

const NAMES = ['a.txt', 'dir/b.txt', 'c.txt', 'deep/er/d.txt', 'e.txt'];

/** One file of an apply: its content before and after (undefined: no file). */
interface FileCase {
  path: string;
  before: string | undefined;
  after: string | undefined;
}

const version = fc.option(fc.constantFrom('one\n', 'two\n', 'three\nlines\nhere\n', ''), { nil: undefined });
const files: fc.Arbitrary<FileCase[]> = fc
  .uniqueArray(fc.record({ path: fc.constantFrom(...NAMES), before: version, after: version }), {
    selector: (file) => file.path,
    minLength: 1,
    maxLength: NAMES.length,
  })
  .map((list) => list.filter((file) => file.before !== file.after))
  .filter((list) => list.length > 0);

type Crash =
  | { at: 'journal-written' | 'lock-written' | 'history-written' }
  | { at: 'file-written'; nth: number }
  | undefined;
const crash = (count: number): fc.Arbitrary<Crash> =>
  fc.oneof(
    fc.constant(undefined),
    fc.constantFrom('journal-written', 'lock-written', 'history-written').map((at) => ({ at }) as Crash),
    fc.integer({ min: 1, max: count }).map((nth) => ({ at: 'file-written', nth }) as Crash),
  );

class Stopped extends Error {}

/** Stops the journal at `point` (throws from the step hook); returns whether it got there. */
function stopAt(point: Crash): { hit: () => boolean } {
  let hit = false;
  let filesWritten = 0;
  setJournalStepHook((step: JournalStep) => {
    if (point === undefined || step.kind !== point.at) return;
    if (step.kind === 'file-written' && point.at === 'file-written' && (filesWritten += 1) !== point.nth) return;
    hit = true;
    throw new Stopped(`stopped at ${step.kind}`);
  });
  return { hit: () => hit };
}

/** Sets up the disk before an apply of `cases` and runs it through the journal, stopping at `point`. */
async function applyStoppedAt(
  folder: Folder,
  cases: readonly FileCase[],
  point: Crash,
): Promise<{ lockAfter: string; journalFiles: JournalFile[]; hit: boolean }> {
  await folder.writeOutputs(Object.fromEntries(cases.map((file) => [file.path, file.before])));
  const before = Object.fromEntries(
    cases.filter((file) => file.before !== undefined).map((file) => [file.path, entry(file.before!)]),
  );
  await writeFile(folder.paths.lockFile, lockText({ ...before, 'untouched.txt': entry('kept\n') }));
  const after = Object.fromEntries(
    cases.filter((file) => file.after !== undefined).map((file) => [file.path, entry(file.after!)]),
  );
  const lockAfter = lockText({ ...after, 'untouched.txt': entry('kept\n') });
  for (const file of cases) if (file.after !== undefined) await folder.objects.put(file.after);
  const journalFiles = cases.map((file) => ({
    path: file.path,
    before: file.before === undefined ? null : HASH(file.before),
    after: file.after === undefined ? null : HASH(file.after),
  }));
  const history = await pushOp(folder.paths, {
    command: 'test',
    createdAt: 'now',
    summary: 'test',
    files: journalFiles,
    lockBefore: null,
    lockAfter: HASH(lockAfter),
  });
  const stop = stopAt(point);
  try {
    await executeJournaled(folder.paths, folder.outDir, { files: journalFiles, lockAfterText: lockAfter, history });
    expect(point, 'the apply ran to the end although a stop was asked').toBeUndefined();
  } catch (error) {
    if (!(error instanceof Stopped)) throw error;
  } finally {
    setJournalStepHook(undefined);
  }
  return { lockAfter, journalFiles, hit: stop.hit() };
}

const expectedOutputs = (cases: readonly FileCase[]): Record<string, string> =>
  Object.fromEntries(cases.filter((file) => file.after !== undefined).map((file) => [file.path, file.after!]));

let workspace: string;
beforeAll(async () => {
  setDurableWrites(false);
  workspace = await mkdtemp(path.join(os.tmpdir(), 'smol-journal-'));
});
afterAll(async () => {
  setDurableWrites(true);
  await rm(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});
afterEach(() => setJournalStepHook(undefined));

describe('the apply journal', () => {
  it('property: stopped at any step, recovery finishes the apply exactly once (files, lock, history); uninterrupted, there is nothing to recover', async () => {
    await fc.assert(
      fc.asyncProperty(
        files.chain((cases) => fc.tuple(fc.constant(cases), crash(cases.length))),
        async ([cases, point]) => {
          const folder = await specFolder(workspace);
          try {
            const { lockAfter, hit } = await applyStoppedAt(folder, cases, point);
            // The stop landed where asked, with the journal still pending.
            expect(hit).toBe(point !== undefined);
            expect((await readJournal(folder.paths))?.state).toBe(point === undefined ? 'done' : 'pending');
            const recovery = await recoverJournal(folder.paths, folder.outDir);
            if (point === undefined) expect(recovery).toBeUndefined();
            else expect(recovery).toMatchObject({ skipped: [], failed: [] });
            expect(await folder.outputs()).toEqual(expectedOutputs(cases));
            expect(await folder.readLock()).toBe(lockAfter);
            expect((await readJournal(folder.paths))?.state).toBe('done');
            // One history entry, in effect: recovery replays the step, never adds one.
            expect(await readHistoryState(folder.paths)).toMatchObject({ head: 1, last: 1 });
            expect((await listHistory(folder.paths)).map((item) => item.entry.command)).toEqual(['test']);
            // A second look finds nothing to do.
            expect(await recoverJournal(folder.paths, folder.outDir)).toBeUndefined();
          } finally {
            await folder.cleanup();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a file someone changed between the crash and the recovery is left alone, and keeps its old lock entry', async () => {
    const folder = await specFolder(workspace);
    try {
      const cases: FileCase[] = [
        { path: 'a.txt', before: 'a1\n', after: 'a2\n' },
        { path: 'b.txt', before: 'b1\n', after: 'b2\n' },
      ];
      const { hit } = await applyStoppedAt(folder, cases, { at: 'journal-written' });
      expect(hit).toBe(true);
      await folder.writeOutputs({ 'b.txt': 'the user wrote this\n' });
      const recovery = await recoverJournal(folder.paths, folder.outDir);
      expect(recovery).toMatchObject({ files: ['a.txt'], skipped: ['b.txt'], failed: [] });
      expect(await folder.outputs()).toEqual({ 'a.txt': 'a2\n', 'b.txt': 'the user wrote this\n' });
      const lock = JSON.parse((await folder.readLock())!) as { files: Record<string, { written: string }> };
      expect(lock.files['a.txt']!.written).toBe(HASH('a2\n'));
      expect(lock.files['b.txt']!.written).toBe(HASH('b1\n'));
      expect(lock.files['untouched.txt']!.written).toBe(HASH('kept\n'));
    } finally {
      await folder.cleanup();
    }
  });

  it('a pending journal naming another output folder is set aside, never carried out', async () => {
    const folder = await specFolder(workspace);
    try {
      await applyStoppedAt(folder, [{ path: 'a.txt', before: 'a1\n', after: 'a2\n' }], { at: 'journal-written' });
      const journal = JSON.parse(await readFile(folder.paths.journal, 'utf8')) as { outDir: string };
      await writeFile(folder.paths.journal, JSON.stringify({ ...journal, outDir: '../elsewhere' }));
      const recovery = await recoverJournal(folder.paths, folder.outDir);
      expect(recovery?.refused).toMatch(/names the output folder "..\/elsewhere"/);
      expect(await folder.outputs()).toEqual({ 'a.txt': 'a1\n' });
      expect(await readFile(path.join(folder.paths.stateDir, 'journal.refused.json'), 'utf8')).toContain('elsewhere');
      expect(await readJournal(folder.paths)).toBeUndefined();
    } finally {
      await folder.cleanup();
    }
  });
});
