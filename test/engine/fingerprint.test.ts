import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildFileInputs,
  fingerprintOf,
  hashInputs,
  staleReasons,
  type GenerationSettings,
} from '../../src/engine/fingerprint.js';
import type { LockedFile } from '../../src/engine/lock.js';
import type { StaleReason } from '../../src/engine/reasons.js';
import type { Plan } from '../../src/plan/plan-markdown.js';
import type { PlannedFile } from '../../src/plan/stages.js';

/**
 * Fingerprints and stale reasons (design.md 4.2): a file is regenerated exactly when an input of its
 * generation changed, and says which. The world here is one target file, `src/t.ts`, depending on
 * `src/d1.ts` and `src/d2.ts`, beside an unrelated `src/other.ts`.
 */

interface World {
  settings: GenerationSettings;
  files: PlannedFile[];
  plan: Plan;
  specSection: string;
  fullSpec: string | undefined;
}

const TARGET = 'src/t.ts';

function world(): World {
  return {
    settings: { provider: 'openai', model: 'gpt-4o', temperature: 0 },
    files: [
      { path: TARGET, purpose: 'the target', dependsOn: ['src/d1.ts', 'src/d2.ts'] },
      { path: 'src/d1.ts', purpose: 'first dependency', dependsOn: [] },
      { path: 'src/d2.ts', purpose: 'second dependency', dependsOn: [] },
      { path: 'src/other.ts', purpose: 'unrelated', dependsOn: [] },
    ],
    plan: {
      global: 'TypeScript, ESM.',
      sections: ['src/t.ts', 'src/d1.ts', 'src/d2.ts', 'src/other.ts'].map((path) => ({
        path,
        text: `Plan of ${path}.`,
      })),
    },
    specSection: 'The target does things.',
    fullSpec: undefined,
  };
}

const hashesOf = (w: World) =>
  hashInputs(
    buildFileInputs(w.files.find((file) => file.path === TARGET)!, w.files, w.plan, w.specSection, w.fullSpec),
    w.settings,
  );

/** The lock entry the target got when it was generated in world `w`. */
function lockedIn(w: World): LockedFile {
  const inputs = hashesOf(w);
  return { fingerprint: fingerprintOf(inputs), inputs, generated: null, written: null };
}

const setSection = (w: World, path: string, text: string): void => {
  w.plan.sections = w.plan.sections.map((section) => (section.path === path ? { ...section, text } : section));
};
const setPurpose = (w: World, path: string, purpose: string): void => {
  w.files = w.files.map((file) => (file.path === path ? { ...file, purpose } : file));
};

/** One edit of the world, and the reasons it must give the target. */
interface Edit {
  name: string;
  apply: (w: World) => void;
  reasons: StaleReason[];
}

const EDITS: Edit[] = [
  {
    name: 'model',
    apply: (w) => void (w.settings = { ...w.settings, model: 'gpt-4.1' }),
    reasons: [{ kind: 'settings-changed' }],
  },
  {
    name: 'temperature',
    apply: (w) => void (w.settings = { ...w.settings, temperature: 0.5 }),
    reasons: [{ kind: 'settings-changed' }],
  },
  {
    name: 'provider',
    apply: (w) => void (w.settings = { ...w.settings, provider: 'anthropic' }),
    reasons: [{ kind: 'settings-changed' }],
  },
  {
    name: 'shared plan',
    apply: (w) => void (w.plan = { ...w.plan, global: 'TypeScript, CommonJS.' }),
    reasons: [{ kind: 'shared-plan-changed' }],
  },
  {
    name: 'own plan section',
    apply: (w) => setSection(w, TARGET, 'A new plan.'),
    reasons: [{ kind: 'plan-section-changed' }],
  },
  {
    name: 'own purpose',
    apply: (w) => setPurpose(w, TARGET, 'another purpose'),
    reasons: [{ kind: 'plan-section-changed' }],
  },
  {
    name: 'own spec section',
    apply: (w) => void (w.specSection = 'The target does other things.'),
    reasons: [{ kind: 'spec-section-changed' }],
  },
  {
    name: 'full spec',
    apply: (w) => void (w.fullSpec = '# Spec\n\nEverything.'),
    reasons: [{ kind: 'spec-section-changed' }],
  },
  {
    name: 'a new unrelated file',
    apply: (w) => void (w.files = [...w.files, { path: 'src/new.ts', purpose: 'new', dependsOn: [] }]),
    reasons: [{ kind: 'file-list-changed' }],
  },
  {
    name: "d1's plan section",
    apply: (w) => setSection(w, 'src/d1.ts', 'd1, replanned.'),
    reasons: [{ kind: 'dependency-changed', path: 'src/d1.ts' }],
  },
  {
    name: "d2's purpose",
    apply: (w) => setPurpose(w, 'src/d2.ts', 'd2, repurposed'),
    reasons: [{ kind: 'dependency-changed', path: 'src/d2.ts' }],
  },
  {
    name: 'd2 no longer a dependency',
    apply: (w) =>
      void (w.files = w.files.map((file) => (file.path === TARGET ? { ...file, dependsOn: ['src/d1.ts'] } : file))),
    reasons: [{ kind: 'dependency-changed', path: 'src/d2.ts' }],
  },
];

/** The order staleReasons reports in: settings, shared plan, own section, spec, file list, dependencies by path. */
const ORDER = [
  'settings-changed',
  'shared-plan-changed',
  'plan-section-changed',
  'spec-section-changed',
  'file-list-changed',
  'dependency-changed',
];
function expected(edits: readonly Edit[]): StaleReason[] {
  const all = edits.flatMap((edit) => edit.reasons);
  const unique = [...new Map(all.map((reason) => [JSON.stringify(reason), reason])).values()];
  return unique.sort(
    (a, b) =>
      ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind) || ('path' in a && 'path' in b ? a.path.localeCompare(b.path) : 0),
  );
}

describe('stale reasons', () => {
  it('a file the lock does not know is new; one whose inputs hash the same is up to date', () => {
    expect(staleReasons(undefined, hashesOf(world()))).toEqual([{ kind: 'new' }]);
    expect(staleReasons(lockedIn(world()), hashesOf(world()))).toEqual([]);
  });

  it.each(EDITS.map((edit) => [edit.name, edit] as const))(
    '%s: exactly its reason, and a new fingerprint',
    (_name, edit) => {
      const before = world();
      const after = world();
      edit.apply(after);
      expect(staleReasons(lockedIn(before), hashesOf(after))).toEqual(edit.reasons);
      expect(fingerprintOf(hashesOf(after))).not.toBe(fingerprintOf(hashesOf(before)));
    },
  );

  it('property: any set of edits gives exactly their reasons, in a fixed order; none gives none', () => {
    fc.assert(
      fc.property(fc.subarray(EDITS), (edits) => {
        const before = world();
        const after = world();
        for (const edit of edits) edit.apply(after);
        expect(staleReasons(lockedIn(before), hashesOf(after))).toEqual(expected(edits));
        expect(fingerprintOf(hashesOf(after)) === fingerprintOf(hashesOf(before))).toBe(edits.length === 0);
      }),
      { numRuns: 300 },
    );
  });

  it('a fingerprint that disagrees with unchanged input hashes (a lock from another prompt version) says "inputs changed"', () => {
    const locked = { ...lockedIn(world()), fingerprint: 'f'.repeat(64) };
    expect(staleReasons(locked, hashesOf(world()))).toEqual([{ kind: 'inputs-changed' }]);
  });
});

describe('what is not an input', () => {
  it('property: the order of the file list and of dependsOn, repeated, unknown and self dependencies change nothing', () => {
    const base = fingerprintOf(hashesOf(world()));
    const inputsOf = (w: World) =>
      buildFileInputs(w.files.find((file) => file.path === TARGET)!, w.files, w.plan, w.specSection, w.fullSpec);
    const seen = inputsOf(world());
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (filesSeed, depsSeed, repeat, unknown, self) => {
          const w = world();
          w.files = shuffle(w.files, filesSeed);
          w.files = w.files.map((file) => {
            if (file.path !== TARGET) return file;
            const dependsOn = shuffle(
              [
                ...file.dependsOn,
                ...(repeat ? file.dependsOn : []),
                ...(unknown ? ['src/nowhere.ts'] : []),
                ...(self ? [TARGET] : []),
              ],
              depsSeed,
            );
            return { ...file, dependsOn };
          });
          expect(fingerprintOf(hashesOf(w))).toBe(base);
          // Nor what the model is sent.
          expect(inputsOf(w)).toEqual(seen);
        },
      ),
    );
  });

  it("another file's purpose, plan section or spec text (not a dependency) changes nothing", () => {
    const base = fingerprintOf(hashesOf(world()));
    const w = world();
    setPurpose(w, 'src/other.ts', 'still unrelated');
    setSection(w, 'src/other.ts', 'Replanned.');
    expect(fingerprintOf(hashesOf(w))).toBe(base);
  });

  it('the first plan section of a path counts, as the planner reads it', () => {
    const w = world();
    w.plan.sections.push({ path: TARGET, text: 'A second section for the same path.' });
    expect(fingerprintOf(hashesOf(w))).toBe(fingerprintOf(hashesOf(world())));
    const inputs = buildFileInputs(w.files[0]!, w.files, w.plan, w.specSection, w.fullSpec);
    expect(inputs.planSection).toBe(`Plan of ${TARGET}.`);
    expect(inputs.dependencies.map((dependency) => dependency.path)).toEqual(['src/d1.ts', 'src/d2.ts']);
    expect(inputs.fileList).toEqual(['src/d1.ts', 'src/d2.ts', 'src/other.ts', TARGET]);
  });
});

/** A deterministic permutation of `items` from `seed`. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const result = [...items];
  let state = seed + 1;
  for (let index = result.length - 1; index > 0; index -= 1) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const other = state % (index + 1);
    [result[index], result[other]] = [result[other]!, result[index]!];
  }
  return result;
}
