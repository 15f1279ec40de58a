import { describe, expect, it } from 'vitest';
import { mergeReplan, parsePlan, renderPlan } from '../../src/plan/plan-markdown.js';

const PLAN = `## Global

TypeScript, ESM. Items are \`{ id: number; text: string }\`.

### \`src/store.ts\`

Exports \`load()\` and \`save(items)\`.

\`\`\`ts
### \`not/a/section.ts\`
\`\`\`

### \`src/cli.ts\`

Uses \`load\` from src/store.ts.
`;

describe('parsePlan', () => {
  it('splits the global part from per-file sections and ignores headings inside fences', () => {
    const plan = parsePlan(PLAN);
    expect(plan.global).toBe('TypeScript, ESM. Items are `{ id: number; text: string }`.');
    expect(plan.sections.map((section) => section.path)).toEqual(['src/store.ts', 'src/cli.ts']);
    expect(plan.sections[0]!.text).toContain('### `not/a/section.ts`');
  });

  it('round-trips through renderPlan', () => {
    const plan = parsePlan(PLAN);
    expect(parsePlan(renderPlan(plan))).toEqual(plan);
  });
});

describe('mergeReplan', () => {
  const previous = parsePlan(PLAN);

  it('keeps sections the answer does not return byte for byte', () => {
    const merged = mergeReplan(previous, 'Only the CLI changes:\n\n### `src/cli.ts`\n\nUses `load` and `save`.\n');
    expect(merged.global).toBe(previous.global);
    expect(merged.sections[0]).toEqual(previous.sections[0]);
    expect(merged.sections[1]).toEqual({ path: 'src/cli.ts', text: 'Uses `load` and `save`.' });
  });

  it('adds new sections, removes REMOVED ones, and replaces the global part only under ## Global', () => {
    const merged = mergeReplan(
      previous,
      '## Global\n\nNow with dates.\n\n### `src/store.ts`\n\nREMOVED\n\n### `src/date.ts`\n\nExports `today()`.',
    );
    expect(merged.global).toBe('Now with dates.');
    expect(merged.sections.map((section) => section.path)).toEqual(['src/cli.ts', 'src/date.ts']);
  });

  it('treats NO CHANGES as the previous plan', () => {
    expect(mergeReplan(previous, 'NO CHANGES')).toBe(previous);
  });
});
