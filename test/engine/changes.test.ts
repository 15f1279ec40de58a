import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskViewOf, type DiskState, type FileAssessment } from '../../src/engine/assess.js';
import { Bases } from '../../src/engine/bases.js';
import {
  changeForRemoved,
  changeFromGeneration,
  changeWithoutGeneration,
  type FileChange,
} from '../../src/engine/changes.js';
import { fileGeneration, generationSettings, specInputs } from '../../src/engine/generation-inputs.js';
import type { LockedFile } from '../../src/engine/lock.js';
import type { StaleReason } from '../../src/engine/reasons.js';
import type { PlannedFile } from '../../src/plan/stages.js';
import { mergeThreeWay } from '../../src/workspace/merge.js';
import { entry, specFolder, type Folder } from './fixtures.js';

/**
 * From a file's disk state and a new generation to a change (design.md 4.4), for every disk state: a clean
 * file is replaced, a hand edit is merged three ways or becomes a conflict, a file smol never wrote is never
 * silently replaced, and a hand edit is never lost.
 */

const BASE = Array.from({ length: 8 }, (_, index) => `line ${index + 1}`);
const text = (lines: readonly string[]): string => `${lines.join('\n')}\n`;
const withLine = (index: number, value: string, lines: readonly string[] = BASE): string[] =>
  lines.map((line, at) => (at === index ? value : line));
const G0 = text(BASE);
const HAND = text(withLine(0, 'HAND'));
/** The merge's result text: the merged file, or the file with conflict markers. */
const merged = (base: string, ours: string, theirs: string): string => {
  const result = mergeThreeWay(base, ours, theirs);
  return result.clean ? result.content : result.withMarkers;
};
const MARKERS = merged(G0, HAND, text(withLine(0, 'OTHER')));

const PLANNED: PlannedFile = { path: 'a.txt', purpose: 'a', dependsOn: [] };
const GENERATION = fileGeneration(
  PLANNED,
  [PLANNED],
  { global: 'Plan.', sections: [] },
  specInputs({ globalText: 'Spec.', includes: [], sections: [], settings: { context: 'section' } }),
  generationSettings('fake', { settings: { model: 'm', temperature: 0 } }),
);
const REASONS: StaleReason[] = [{ kind: 'spec-section-changed' }];

/** Each disk state, as the lock and the disk make it. */
const STATES: Record<DiskState, { locked: LockedFile | undefined; content: string | undefined }> = {
  absent: { locked: undefined, content: undefined },
  untracked: { locked: undefined, content: HAND },
  clean: { locked: entry(G0), content: G0 },
  edited: { locked: entry(G0), content: HAND },
  conflict: { locked: { ...entry(G0, MARKERS), conflict: true }, content: MARKERS },
  missing: { locked: entry(G0), content: undefined },
};

function assessment(state: DiskState, override: Partial<(typeof STATES)[DiskState]> = {}): FileAssessment {
  const { locked, content } = { ...STATES[state], ...override };
  const disk = diskViewOf(locked, content);
  expect(disk.state).toBe(state);
  return { path: 'a.txt', planned: PLANNED, generation: GENERATION, locked, disk, reasons: REASONS, regenerate: true };
}

let workspace: string;
let known: Folder;
let unknown: Folder;
let withBase: Bases;
let withoutBase: Bases;
beforeAll(async () => {
  workspace = await mkdtemp(path.join(os.tmpdir(), 'smol-changes-'));
  known = await specFolder(workspace);
  unknown = await specFolder(workspace);
  // This working copy's object store holds the last generation (the merge base); a fresh clone has none.
  await known.objects.put(G0);
  withBase = await Bases.open(known.paths);
  withoutBase = await Bases.open(unknown.paths);
});
afterAll(async () => rm(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 }));

const pick = (change: FileChange) => ({
  action: change.action,
  after: change.after,
  merged: change.merged,
  noBase: change.noBase,
  markers: change.markers !== undefined,
});

describe('a new generation meets each disk state', () => {
  const bottom = text(withLine(7, 'NEW'));
  const top = text(withLine(0, 'OTHER'));
  const table: [DiskState, string, string, ReturnType<typeof pick>][] = [
    [
      'absent',
      'any generation',
      bottom,
      { action: 'create', after: bottom, merged: false, noBase: undefined, markers: false },
    ],
    [
      'missing',
      'any generation (a file deleted by hand that is regenerated on purpose)',
      bottom,
      { action: 'create', after: bottom, merged: false, noBase: undefined, markers: false },
    ],
    [
      'clean',
      'the same generation',
      G0,
      { action: 'unchanged', after: G0, merged: false, noBase: undefined, markers: false },
    ],
    [
      'clean',
      'a new generation',
      bottom,
      { action: 'update', after: bottom, merged: false, noBase: undefined, markers: false },
    ],
    [
      'edited',
      'the same generation: the hand edit stays',
      G0,
      { action: 'unchanged', after: HAND, merged: true, noBase: false, markers: false },
    ],
    [
      'edited',
      'a change elsewhere: merged',
      bottom,
      {
        action: 'update',
        after: text(withLine(7, 'NEW', withLine(0, 'HAND'))),
        merged: true,
        noBase: false,
        markers: false,
      },
    ],
    [
      'edited',
      'a change of the edited line: a conflict',
      top,
      { action: 'conflict', after: undefined, merged: false, noBase: false, markers: true },
    ],
    [
      'edited',
      'exactly the hand edit',
      HAND,
      { action: 'unchanged', after: HAND, merged: false, noBase: undefined, markers: false },
    ],
    [
      'conflict',
      'a change elsewhere: merged, the markers still there for the user',
      bottom,
      { action: 'update', after: merged(G0, MARKERS, bottom), merged: true, noBase: false, markers: false },
    ],
    [
      'conflict',
      'a change of the conflicting line: a conflict',
      top.replace('OTHER', 'THIRD'),
      { action: 'conflict', after: undefined, merged: false, noBase: false, markers: true },
    ],
    [
      'untracked',
      'a different file: a conflict with no base, never a silent replacement',
      bottom,
      { action: 'conflict', after: undefined, merged: false, noBase: true, markers: true },
    ],
    [
      'untracked',
      'the same content',
      HAND,
      { action: 'unchanged', after: HAND, merged: false, noBase: undefined, markers: false },
    ],
  ];
  it.each(table)('%s, %s', async (state, _name, generated, expected) => {
    const change = await changeFromGeneration(assessment(state), generated, withBase);
    expect(pick(change)).toEqual(expected);
    expect(change.generated).toBe(generated);
    expect(change.reasons).toEqual(REASONS);
    expect(change.before).toBe(STATES[state].content);
  });

  it('edited, in a fresh clone (no merge base): a conflict marked as having no base', async () => {
    const change = await changeFromGeneration(assessment('edited'), bottom, withoutBase);
    expect(pick(change)).toEqual({ action: 'conflict', after: undefined, merged: false, noBase: true, markers: true });
  });

  it('a file in the old outDir (outDir changed) is created in the new one, merged like any other', async () => {
    const moved = { ...assessment('edited'), disk: { ...diskViewOf(entry(G0), HAND), movedFrom: '/old/app' } };
    const change = await changeFromGeneration(moved, bottom, withBase);
    expect(change).toMatchObject({
      action: 'create',
      before: undefined,
      after: text(withLine(7, 'NEW', withLine(0, 'HAND'))),
      merged: true,
    });
  });

  it('property: a hand-edited line is never lost: it is in the result, or the change is a conflict showing it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 7 }),
        fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
        fc.constantFrom<DiskState>('edited', 'untracked'),
        async (hand, changed, state) => {
          const ours = text(withLine(hand, 'HAND'));
          const generated = changed === undefined ? G0 : text(withLine(changed, 'NEW'));
          const change = await changeFromGeneration(assessment(state, { content: ours }), generated, withBase);
          if (change.action === 'conflict') {
            expect(change.after).toBeUndefined();
            expect(change.markers).toContain('HAND');
          } else {
            expect(change.after).toContain('HAND');
            if (changed !== undefined && changed !== hand) expect(change.after).toContain('NEW');
          }
          // Far apart, the edits always merge (with a base to merge on).
          if (state === 'edited' && (changed === undefined || Math.abs(changed - hand) > 1))
            expect(change.action).not.toBe('conflict');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('a file this run does not generate', () => {
  it.each([
    ['clean', 'unchanged', []],
    ['edited', 'edited', REASONS],
    ['conflict', 'edited', REASONS],
    ['missing', 'missing', REASONS],
  ] as const)('%s: %s', (state, action, reasons) => {
    const change = changeWithoutGeneration(assessment(state));
    expect(change).toMatchObject({
      action,
      reasons,
      before: STATES[state].content,
      after: STATES[state].content,
      merged: false,
    });
  });

  it('a file of the old outDir is carried to the new one as it is (edits included), without a call', () => {
    const moved = { ...assessment('edited'), disk: { ...diskViewOf(entry(G0), HAND), movedFrom: '/old/app' } };
    expect(changeWithoutGeneration(moved)).toMatchObject({ action: 'create', before: undefined, after: HAND });
  });
});

describe('a file that left the plan', () => {
  it('is deleted when smol may, kept (with why) when not, and is nothing to do when already gone', () => {
    expect(changeForRemoved('a.txt', G0, undefined)).toMatchObject({
      action: 'delete',
      before: G0,
      after: undefined,
      reasons: [{ kind: 'removed-from-plan' }],
    });
    for (const kept of ['edited', 'not-written-here', 'ignored'] as const) {
      expect(changeForRemoved('a.txt', HAND, kept)).toMatchObject({ action: 'kept', kept, before: HAND, after: HAND });
    }
    expect(changeForRemoved('a.txt', undefined, undefined)).toMatchObject({
      action: 'unchanged',
      before: undefined,
      after: undefined,
    });
  });
});
