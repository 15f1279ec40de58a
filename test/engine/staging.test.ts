import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskViewOf, type FileAssessment } from '../../src/engine/assess.js';
import type { FileChange } from '../../src/engine/changes.js';
import type { FileAction } from '../../src/engine/events.js';
import { fileGeneration, generationSettings, specInputs } from '../../src/engine/generation-inputs.js';
import type { LockedFile } from '../../src/engine/lock.js';
import { clearStaged, loadStaged, saveStaged, stageRun, type StagedRun } from '../../src/engine/staging.js';
import type { PlannedFile } from '../../src/plan/stages.js';
import { entry, HASH, LOCK_HEAD, specFolder, type Folder } from './fixtures.js';

/**
 * Staging (`.smol/staging/changes.json`): what a run proposes, saved for review. Contents go to the object
 * store by hash; files with nothing to write keep a lock entry that stays true; and what is read back is
 * trusted only when it is exactly what smol writes.
 */

const FILES: PlannedFile[] = [
  'new.txt',
  'upd.txt',
  'del.txt',
  'conflict.txt',
  'same.txt',
  'regen-same.txt',
  'edited.txt',
  'missing.txt',
  'failed.txt',
  'left.txt',
].map((file) => ({
  path: file,
  purpose: file,
  dependsOn: [],
}));
const SPEC = specInputs({ globalText: 'Spec.', includes: [], sections: [], settings: { context: 'section' } });
const SETTINGS = generationSettings('fake', { settings: { model: 'm', temperature: 0 } });
const generationOf = (file: string) =>
  fileGeneration(
    FILES.find((planned) => planned.path === file)!,
    FILES,
    { global: 'Plan.', sections: [] },
    SPEC,
    SETTINGS,
  );

const PREVIOUS: Record<string, LockedFile> = {
  'upd.txt': entry('upd old\n'),
  'del.txt': entry('del old\n'),
  'conflict.txt': entry('conflict base\n', 'conflict mine\n'),
  'same.txt': entry('same\n'),
  'regen-same.txt': entry('regen old\n', 'regen merged\n'),
  'edited.txt': entry('edited base\n'),
  'missing.txt': entry('missing\n'),
  'failed.txt': entry('failed\n'),
  'left.txt': entry('left\n'),
  'other.txt': entry('other\n'),
};

function change(file: string, action: FileAction, fields: Partial<FileChange> = {}): FileChange {
  return {
    path: file,
    action,
    reasons: [{ kind: 'plan-section-changed' }],
    before: undefined,
    after: undefined,
    merged: false,
    ...fields,
  };
}

const CHANGES: FileChange[] = [
  change('new.txt', 'create', { after: 'new\n', generated: 'new\n' }),
  change('upd.txt', 'update', { before: 'upd old\n', after: 'upd new\n', generated: 'upd new\n' }),
  change('del.txt', 'delete', { before: 'del old\n', reasons: [{ kind: 'removed-from-plan' }] }),
  change('conflict.txt', 'conflict', {
    before: 'conflict mine\n',
    generated: 'conflict theirs\n',
    markers: '<<<<<<<\nmine\n=======\ntheirs\n>>>>>>>\n',
    noBase: true,
  }),
  change('same.txt', 'unchanged', { before: 'same\n', after: 'same\n', reasons: [] }),
  // Regenerated, and the merge of the hand edit came out as what is on disk: the new generation is the next base.
  change('regen-same.txt', 'unchanged', {
    before: 'regen merged\n',
    after: 'regen merged\n',
    generated: 'regen new\n',
    merged: true,
  }),
  change('edited.txt', 'edited', { before: 'edited by hand\n', after: 'edited by hand\n' }),
  change('missing.txt', 'missing'),
  change('failed.txt', 'failed', { error: 'the model said no' }),
  change('left.txt', 'kept', {
    before: 'left\n',
    after: 'left\n',
    kept: 'edited',
    reasons: [{ kind: 'removed-from-plan' }],
  }),
];

function assessments(): FileAssessment[] {
  return FILES.filter((file) => file.path !== 'del.txt' && file.path !== 'left.txt').map((planned) => ({
    path: planned.path,
    planned,
    generation: generationOf(planned.path),
    locked: PREVIOUS[planned.path],
    disk: diskViewOf(PREVIOUS[planned.path], undefined),
    reasons: [],
    regenerate: true,
  }));
}

let workspace: string;
let folder: Folder;
let staged: StagedRun;
beforeAll(async () => {
  workspace = await mkdtemp(path.join(os.tmpdir(), 'smol-staging-'));
  folder = await specFolder(workspace);
  staged = await stageRun({
    command: 'run',
    lockHash: HASH('lock'),
    lockHead: LOCK_HEAD,
    previous: PREVIOUS,
    untouched: ['other.txt'],
    assessments: assessments(),
    changes: CHANGES,
    objects: folder.objects,
  });
});
afterAll(async () => rm(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));

describe('stageRun', () => {
  it('stages what an apply writes, by content hash, with the new fingerprint and the entry to fall back to', () => {
    expect(staged.changes.map((staged) => [staged.path, staged.action])).toEqual([
      ['new.txt', 'create'],
      ['upd.txt', 'update'],
      ['del.txt', 'delete'],
      ['conflict.txt', 'conflict'],
    ]);
    const [created, updated, deleted, conflict] = staged.changes;
    expect(created).toMatchObject({
      before: null,
      after: HASH('new\n'),
      generated: HASH('new\n'),
      previous: null,
      fresh: { fingerprint: generationOf('new.txt').fingerprint },
    });
    expect(updated).toMatchObject({
      before: HASH('upd old\n'),
      after: HASH('upd new\n'),
      previous: PREVIOUS['upd.txt'],
    });
    // A file that left the plan has no new fingerprint.
    expect(deleted).toMatchObject({
      before: HASH('del old\n'),
      after: null,
      generated: null,
      fresh: null,
      reasons: [{ kind: 'removed-from-plan' }],
    });
    expect(conflict).toMatchObject({
      after: null,
      generated: HASH('conflict theirs\n'),
      markers: HASH(CHANGES[3]!.markers!),
      noBase: true,
    });
    expect(created!.noBase).toBeUndefined();
  });

  it('puts every content a change refers to in the object store', async () => {
    for (const content of [
      'new\n',
      'upd old\n',
      'upd new\n',
      'del old\n',
      'conflict mine\n',
      'conflict theirs\n',
      CHANGES[3]!.markers!,
      'regen new\n',
    ]) {
      expect(await folder.objects.get(HASH(content)), content).toBe(content);
    }
  });

  it('keeps lock entries true for files with nothing to write', () => {
    // Up to date: as it was. Regenerated to what is on disk: the new generation is the base, the disk stays written.
    expect(staged.keep['same.txt']).toEqual(PREVIOUS['same.txt']);
    expect(staged.keep['regen-same.txt']).toEqual({
      fingerprint: generationOf('regen-same.txt').fingerprint,
      inputs: generationOf('regen-same.txt').hashes,
      generated: HASH('regen new\n'),
      written: HASH('regen merged\n'),
    });
    // Edited and kept, deleted by hand, failed: what was true stays (so they stay stale or edited).
    for (const file of ['edited.txt', 'missing.txt', 'failed.txt'])
      expect(staged.keep[file], file).toEqual(PREVIOUS[file]);
    // Files this run does not touch (`smol regen PATH` names others) keep their entries.
    expect(staged.keep['other.txt']).toEqual(PREVIOUS['other.txt']);
    // A file that left the plan and stays on disk is no longer smol's.
    expect(staged.keep['left.txt']).toBeUndefined();
  });
});

describe('saved and loaded', () => {
  it('reads back exactly what was saved; cleared, there is nothing', async () => {
    await saveStaged(folder.paths, staged);
    expect(await loadStaged(folder.paths)).toEqual(staged);
    await clearStaged(folder.paths);
    expect(await loadStaged(folder.paths)).toBeUndefined();
  });

  const tampered: [string, (run: StagedRun) => unknown][] = [
    ['a path out of outDir', (run) => ({ ...run, changes: [{ ...run.changes[0]!, path: '../outside.txt' }] })],
    ['an absolute path', (run) => ({ ...run, changes: [{ ...run.changes[0]!, path: '/etc/passwd' }] })],
    ['a kept path into .git', (run) => ({ ...run, keep: { '.git/config': entry('x') } })],
    ['a hash that is not one', (run) => ({ ...run, changes: [{ ...run.changes[0]!, after: 'not-a-hash' }] })],
    ['an unknown action', (run) => ({ ...run, changes: [{ ...run.changes[0]!, action: 'chmod' }] })],
    ['an unknown reason', (run) => ({ ...run, changes: [{ ...run.changes[0]!, reasons: [{ kind: 'because' }] }] })],
    ['another version', (run) => ({ ...run, version: 3 })],
    ['not an object', () => ['changes']],
  ];
  it.each(tampered)("a staging file with %s is not smol's: nothing in it is used", async (_name, tamper) => {
    await mkdir(folder.paths.staging, { recursive: true });
    await writeFile(path.join(folder.paths.staging, 'changes.json'), JSON.stringify(tamper(staged)));
    expect(await loadStaged(folder.paths)).toBeUndefined();
  });

  it("a staging file that is not JSON is not smol's either", async () => {
    await mkdir(folder.paths.staging, { recursive: true });
    await writeFile(path.join(folder.paths.staging, 'changes.json'), '{"version": 2, ');
    expect(await loadStaged(folder.paths)).toBeUndefined();
  });
});
