import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slashPath } from '../../src/internal/slash-path.js';
import { parsePlan } from '../../src/plan/plan-markdown.js';
import { parseSections } from '../../src/spec/sections.js';

describe('slashPath', () => {
  it('spells a path with forward slashes, no doubled slashes and no leading ./', () => {
    expect(slashPath('.\\src\\\\a.ts')).toBe('src/a.ts');
    expect(slashPath('././src//b.ts')).toBe('src/b.ts');
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b.ts', '.', '..', '/', '\\', './'), { maxLength: 12 }), (parts) => {
        const spelt = slashPath(parts.join(''));
        expect(spelt).not.toContain('\\');
        expect(spelt).not.toContain('//');
        expect(spelt.startsWith('./')).toBe(false);
        expect(slashPath(spelt)).toBe(spelt);
      }),
    );
  });

  it('spells spec and plan section paths alike', () => {
    const spec = parseSections('## `./src\\\\a.ts`\nspec text\n', 1);
    const plan = parsePlan('### `./src\\\\a.ts`\nplan text\n');
    expect(spec.sections[0]?.path).toBe('src/a.ts');
    expect(plan.sections[0]?.path).toBe('src/a.ts');
  });
});
