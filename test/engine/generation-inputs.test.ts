import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileGeneration, generationSettings, planInputHash, specInputs } from '../../src/engine/generation-inputs.js';
import { staleReasons } from '../../src/engine/fingerprint.js';
import type { Plan } from '../../src/plan/plan-markdown.js';
import type { PlannedFile } from '../../src/plan/stages.js';

/**
 * What a generation sees (design.md 4.2), from the spec's side: whitespace-only edits change nothing, an
 * edit of one file's section makes only that file stale, and `context: full` makes every file see the
 * whole spec.
 */

interface SpecShape {
  globalText: string;
  includes: { path: string; text: string }[];
  sections: { path: string; text: string }[];
  context: 'section' | 'full';
}

const FILES: PlannedFile[] = [
  { path: 'src/a.ts', purpose: 'a', dependsOn: [] },
  { path: 'src/b.ts', purpose: 'b', dependsOn: ['src/a.ts'] },
];
const PLAN: Plan = {
  global: 'Shared plan.',
  sections: FILES.map((file) => ({ path: file.path, text: `Plan of ${file.path}.` })),
};
const SETTINGS = generationSettings('openai', { settings: { model: 'gpt-4o', temperature: 0 } });

function base(context: 'section' | 'full' = 'section'): SpecShape {
  return {
    globalText: '# App\n\nA small app.\n\n  - indented item\n  - another',
    includes: [{ path: 'notes.md', text: 'Use tabs.' }],
    sections: [
      { path: 'src/a.ts', text: 'Exports a.\nTwo lines.' },
      { path: 'src/b.ts', text: 'Uses a.' },
    ],
    context,
  };
}

const inputsOf = (spec: SpecShape) =>
  specInputs({
    globalText: spec.globalText,
    includes: spec.includes.map((include) => ({ ...include, absolutePath: `/x/${include.path}` })),
    sections: spec.sections.map((section) => ({ ...section, line: 1 })),
    settings: { context: spec.context },
  });
const fingerprints = (spec: SpecShape) =>
  FILES.map((file) => fileGeneration(file, FILES, PLAN, inputsOf(spec), SETTINGS).fingerprint);

/** Whitespace an editor adds without changing a word: trailing spaces, runs of inner spaces, more blank lines. */
function rewhitespace(text: string, seed: readonly number[]): string {
  return text
    .split('\n')
    .map((line, index) => {
      const pick = seed[index % seed.length]! % 4;
      if (pick === 1) return `${line}   `;
      if (pick === 2) return line.replace(/(\S) (\S)/, '$1   $2');
      // More blank lines where there is one (a blank line where there was none starts a new paragraph).
      if (pick === 3 && line === '') return '\n\n';
      return line;
    })
    .join('\n');
}

describe('generation inputs from the spec', () => {
  it('property: whitespace-only edits of any part change no hash and no fingerprint', () => {
    for (const context of ['section', 'full'] as const) {
      const before = inputsOf(base(context));
      const prints = fingerprints(base(context));
      fc.assert(
        fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (seed) => {
          const edited = base(context);
          edited.globalText = rewhitespace(edited.globalText, seed);
          edited.includes = edited.includes.map((include) => ({ ...include, text: rewhitespace(include.text, seed) }));
          edited.sections = edited.sections.map((section) => ({
            ...section,
            text: rewhitespace(section.text, [...seed].reverse()),
          }));
          const after = inputsOf(edited);
          expect(after.specHash).toBe(before.specHash);
          expect(after.rendered).toBe(before.rendered);
          expect(fingerprints(edited)).toEqual(prints);
        }),
        { numRuns: 100 },
      );
    }
  });

  it('indentation is a change (it can be meaning, as in YAML or Python examples)', () => {
    const edited = base();
    edited.globalText = edited.globalText.replace('  - indented', '- indented');
    expect(inputsOf(edited).specHash).not.toBe(inputsOf(base()).specHash);
  });

  it("an edit of one file's section makes only that file stale, for its spec section", () => {
    const edited = base();
    edited.sections[0] = { path: 'src/a.ts', text: 'Exports a and A.' };
    const [a, b] = FILES.map((file) => {
      const before = fileGeneration(file, FILES, PLAN, inputsOf(base()), SETTINGS);
      const after = fileGeneration(file, FILES, PLAN, inputsOf(edited), SETTINGS);
      return staleReasons(
        { fingerprint: before.fingerprint, inputs: before.hashes, generated: null, written: null },
        after.hashes,
      );
    });
    expect(a).toEqual([{ kind: 'spec-section-changed' }]);
    // b depends on a, but on a's plan, not on a's spec section.
    expect(b).toEqual([]);
    // The planner sees the whole spec: its input changed.
    expect(inputsOf(edited).specHash).not.toBe(inputsOf(base()).specHash);
  });

  it('an edit of the global text or an include leaves file fingerprints alone (the plan carries it), unless context is full', () => {
    for (const edit of [
      (spec: SpecShape) => void (spec.globalText += '\nMore.'),
      (spec: SpecShape) => void (spec.includes[0]!.text = 'Use spaces.'),
    ]) {
      const section = base();
      edit(section);
      expect(fingerprints(section)).toEqual(fingerprints(base()));
      const full = base('full');
      edit(full);
      const before = fingerprints(base('full'));
      expect(fingerprints(full).every((print, index) => print !== before[index])).toBe(true);
    }
  });

  it('with context: full every file is sent the whole rendered spec; otherwise none is', () => {
    expect(inputsOf(base('full')).fullSpec).toBe(inputsOf(base('full')).rendered);
    expect(inputsOf(base()).fullSpec).toBeUndefined();
    const generation = fileGeneration(FILES[1]!, FILES, PLAN, inputsOf(base('full')), SETTINGS);
    expect(generation.inputs.fullSpec).toContain('Use tabs.');
    expect(generation.inputs.specSection).toBe('Uses a.');
  });

  it('a file without a spec section has an empty one', () => {
    const spec = base();
    spec.sections = [];
    expect(fileGeneration(FILES[0]!, FILES, PLAN, inputsOf(spec), SETTINGS).inputs.specSection).toBe('');
  });

  it('the plan depends on the rendered spec and the generation settings, and on nothing else', () => {
    const rendered = inputsOf(base()).rendered;
    const hash = planInputHash(SETTINGS, rendered);
    expect(planInputHash({ ...SETTINGS }, rendered)).toBe(hash);
    expect(planInputHash({ ...SETTINGS, model: 'gpt-4.1' }, rendered)).not.toBe(hash);
    expect(planInputHash({ ...SETTINGS, temperature: 1 }, rendered)).not.toBe(hash);
    expect(planInputHash({ ...SETTINGS, provider: 'anthropic' }, rendered)).not.toBe(hash);
    expect(planInputHash(SETTINGS, `${rendered}\n\nMore.`)).not.toBe(hash);
  });
});
