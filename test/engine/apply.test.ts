import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyStaged, type ConflictResolution } from '../../src/engine/apply.js';
import { readHistoryState } from '../../src/engine/history.js';
import type { LockedFile } from '../../src/engine/lock.js';
import { loadStaged, saveStaged, type StagedChange, type StagedRun } from '../../src/engine/staging.js';
import { undoLast } from '../../src/engine/undo.js';
import { isSmolError } from '../../src/errors.js';
import { setDurableWrites } from '../../src/workspace/durability.js';
import { entry, HASH, LOCK_HEAD, lockText, specFolder, type Folder } from './fixtures.js';

/**
 * `applyStaged` (design.md 5) over random staged runs: each change accepted or declined, each conflict
 * resolved one of three ways or left, each file maybe changed on disk since it was staged. Afterwards every
 * file and lock entry is what the change and the choice say, what is left stays staged and applicable, and
 * undo puts back exactly what the apply changed.
 */

type Action = StagedChange['action'];
interface Case {
  path: string;
  action: Action;
  /** Non-conflicts: accepted in the review. */
  accepted: boolean;
  resolution: ConflictResolution | undefined;
  /** The file changed on disk after it was staged. */
  drifted: boolean;
}

const NAMES = ['a.txt', 'b.txt', 'dir/c.txt', 'dir/deeper/d.txt', 'e.txt', 'f.txt'];
const caseOf = (file: string): fc.Arbitrary<Case> =>
  fc.record({
    path: fc.constant(file),
    action: fc.constantFrom<Action>('create', 'update', 'delete', 'conflict'),
    accepted: fc.boolean(),
    resolution: fc.constantFrom<ConflictResolution | undefined>(undefined, 'theirs', 'ours', 'markers'),
    drifted: fc.boolean(),
  });
const cases = fc.subarray(NAMES, { minLength: 1 }).chain((files) => fc.tuple(...files.map(caseOf)));

/** The contents around one change. */
const before = (c: Case): string | undefined =>
  c.action === 'create' ? undefined : c.action === 'conflict' ? `${c.path}: mine\n` : `${c.path}: old\n`;
const generated = (c: Case): string | undefined => (c.action === 'delete' ? undefined : `${c.path}: new\n`);
const markers = (c: Case): string =>
  `<<<<<<< yours\n${c.path}: mine\n=======\n${c.path}: new\n>>>>>>> new generation\n`;
const previous = (c: Case): LockedFile | null =>
  c.action === 'create'
    ? null
    : c.action === 'conflict'
      ? entry(`${c.path}: old\n`, `${c.path}: old\n`, c.path)
      : entry(`${c.path}: old\n`, `${c.path}: old\n`, c.path);
const fresh = (c: Case) => {
  const next = entry(null, null, `${c.path} v2`);
  return { fingerprint: next.fingerprint, inputs: next.inputs };
};
const DRIFT = 'changed by hand after staging\n';

function stagedChange(c: Case): StagedChange {
  const after = c.action === 'conflict' || c.action === 'delete' ? undefined : generated(c);
  const change: StagedChange = {
    path: c.path,
    action: c.action,
    reasons: [{ kind: 'plan-section-changed' }],
    merged: false,
    before: before(c) === undefined ? null : HASH(before(c)!),
    after: after === undefined ? null : HASH(after),
    generated: generated(c) === undefined ? null : HASH(generated(c)!),
    fresh: c.action === 'delete' ? null : fresh(c),
    previous: previous(c),
  };
  if (c.action === 'conflict') change.markers = HASH(markers(c));
  return change;
}

/** What the disk holds for the file after the apply. */
function expectedContent(c: Case): string | undefined {
  if (!wanted(c)) return c.drifted ? DRIFT : before(c);
  if (c.drifted) return DRIFT;
  if (c.action === 'conflict')
    return c.resolution === 'theirs' ? generated(c) : c.resolution === 'markers' ? markers(c) : before(c);
  return c.action === 'delete' ? undefined : generated(c);
}

const wanted = (c: Case): boolean => (c.action === 'conflict' ? c.resolution !== undefined : c.accepted);

/** The lock entry after the apply. */
function expectedEntry(c: Case): LockedFile | undefined {
  if (!wanted(c) || c.drifted) return previous(c) ?? undefined;
  if (c.action === 'delete') return undefined;
  const content = expectedContent(c)!;
  const result: LockedFile = { ...fresh(c), generated: HASH(generated(c)!), written: HASH(content) };
  if (c.action === 'conflict' && c.resolution === 'markers') result.conflict = true;
  return result;
}

async function stage(
  folder: Folder,
  list: readonly Case[],
): Promise<{ staged: StagedRun; lockBefore: string; disk: Record<string, string> }> {
  await folder.writeOutputs(Object.fromEntries(list.map((c) => [c.path, before(c)])));
  await folder.writeOutputs({ 'kept.txt': 'kept\n', 'hand-made.txt': "not smol's\n" });
  const lockBefore = lockText({
    ...Object.fromEntries(list.flatMap((c) => (previous(c) === null ? [] : [[c.path, previous(c)!]]))),
    'kept.txt': entry('kept\n'),
  });
  await writeFile(folder.paths.lockFile, lockBefore);
  for (const c of list) {
    for (const content of [before(c), generated(c), c.action === 'conflict' ? markers(c) : undefined])
      if (content !== undefined) await folder.objects.put(content);
  }
  const staged: StagedRun = {
    version: 2,
    createdAt: 'then',
    command: 'run',
    lockHash: HASH(lockBefore),
    lockHead: LOCK_HEAD,
    keep: { 'kept.txt': entry('kept\n') },
    changes: list.map(stagedChange),
  };
  await saveStaged(folder.paths, staged);
  // Drift: the user edits some files after the review was staged.
  await folder.writeOutputs(Object.fromEntries(list.filter((c) => c.drifted).map((c) => [c.path, DRIFT])));
  return { staged, lockBefore, disk: await folder.outputs() };
}

let workspace: string;
beforeAll(async () => {
  setDurableWrites(false);
  workspace = await mkdtemp(path.join(os.tmpdir(), 'smol-apply-'));
});
afterAll(async () => {
  setDurableWrites(true);
  await rm(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
});

describe('applyStaged', () => {
  it('property: files, lock entries, what is left staged and undo follow each change and choice', async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (list) => {
        const folder = await specFolder(workspace);
        try {
          const { staged, lockBefore, disk } = await stage(folder, list);
          const resolutions = new Map(
            list.flatMap((c) =>
              c.action === 'conflict' && c.resolution !== undefined ? [[c.path, c.resolution] as const] : [],
            ),
          );
          // Applied as `smol apply` does: from what was saved for review.
          const saved = await loadStaged(folder.paths);
          expect(saved).toEqual(staged);
          const result = await applyStaged({
            paths: folder.paths,
            outDir: folder.outDir,
            staged: saved!,
            resolutions,
            accept: (change) => list.find((c) => c.path === change.path)!.accepted,
          });

          const byOutcome = (keep: (c: Case) => boolean) => list.filter(keep).map((c) => c.path);
          expect(result.applied.sort()).toEqual(byOutcome((c) => wanted(c) && !c.drifted).sort());
          expect(result.refused.map((refusal) => refusal.path).sort()).toEqual(
            byOutcome((c) => wanted(c) && c.drifted).sort(),
          );
          expect(result.pending.sort()).toEqual(byOutcome((c) => !wanted(c)).sort());
          expect(result.conflicts.sort()).toEqual(byOutcome((c) => !wanted(c) && c.action === 'conflict').sort());

          const outputs = await folder.outputs();
          expect(outputs['kept.txt']).toBe('kept\n');
          expect(outputs['hand-made.txt']).toBe("not smol's\n");
          const lock = JSON.parse((await folder.readLock())!) as { files: Record<string, LockedFile> };
          expect(lock.files['kept.txt']).toEqual(entry('kept\n'));
          for (const c of list) {
            expect(outputs[c.path], `${c.path} on disk`).toBe(expectedContent(c));
            expect(lock.files[c.path], `${c.path} in the lock`).toEqual(expectedEntry(c));
          }

          // What was left stays staged, on top of the lock just written.
          const left = await loadStaged(folder.paths);
          expect(left?.changes.map((change) => change.path).sort()).toEqual(
            result.pending.length === 0 ? undefined : result.pending.sort(),
          );
          if (left !== undefined) expect(left.lockHash).toBe(HASH((await folder.readLock())!));

          // Undo puts back exactly what the apply changed: the files and the lock.
          if ((await readHistoryState(folder.paths)).head > 0) {
            await undoLast(folder.paths, folder.outDir);
            expect(await folder.outputs()).toEqual(disk);
            expect(await folder.readLock()).toBe(lockBefore);
          } else {
            expect(
              result.applied.every((file) => expectedContent(list.find((c) => c.path === file)!) === disk[file]),
            ).toBe(true);
          }
        } finally {
          await folder.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('refuses changes staged against another smol.lock, writing nothing', async () => {
    const folder = await specFolder(workspace);
    try {
      const list: Case[] = [{ path: 'a.txt', action: 'update', accepted: true, resolution: undefined, drifted: false }];
      const { staged, disk } = await stage(folder, list);
      await writeFile(folder.paths.lockFile, lockText({}));
      const error = await applyStaged({ paths: folder.paths, outDir: folder.outDir, staged }).catch(
        (caught: unknown) => caught,
      );
      expect(isSmolError(error) && error.code).toBe('STAGED_STALE');
      expect(await folder.outputs()).toEqual(disk);
      expect(await folder.readLock()).toBe(lockText({}));
    } finally {
      await folder.cleanup();
    }
  });

  it('by default applies everything but conflicts, which stay staged', async () => {
    const folder = await specFolder(workspace);
    try {
      const list: Case[] = [
        { path: 'a.txt', action: 'update', accepted: true, resolution: undefined, drifted: false },
        { path: 'b.txt', action: 'conflict', accepted: true, resolution: undefined, drifted: false },
      ];
      const { staged } = await stage(folder, list);
      const result = await applyStaged({ paths: folder.paths, outDir: folder.outDir, staged });
      expect(result).toEqual({ applied: ['a.txt'], refused: [], pending: ['b.txt'], conflicts: ['b.txt'] });
    } finally {
      await folder.cleanup();
    }
  });
});
