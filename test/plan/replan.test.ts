import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFakeProvider } from '../../src/llm/fake.js';
import { readReplan, type Plan } from '../../src/plan/plan-markdown.js';
import { planStage } from '../../src/plan/stages.js';

const PREVIOUS: Plan = {
  global: 'Node, ESM.',
  sections: [
    { path: 'src/a.ts', text: 'Exports a().' },
    { path: 'src/b.ts', text: 'Exports b().' },
  ],
};
const SPEC = { globalText: 'Two files.', includes: [], sections: [] };
const previous = { plan: PREVIOUS, rendered: '## Global\n\nNode, ESM.\n', specDiff: '-old\n+new' };

describe('readReplan (issue 16.3: an answer that is not a plan is never "no changes")', () => {
  it.each([
    ['NO CHANGES'],
    ['no changes.'],
    ['**NO CHANGES**'],
    ['`NO CHANGES`'],
    ['I looked at the diff carefully.\n\nNO CHANGES'],
  ])('%j keeps the previous plan', (answer) => {
    expect(readReplan(PREVIOUS, answer)).toEqual({ ok: true, plan: PREVIOUS, changed: false });
  });

  it('sections and a global part are merged', () => {
    const reading = readReplan(
      PREVIOUS,
      '## Global\n\nNode 22.\n\n### `src/b.ts`\n\nREMOVED\n\n### `src/c.ts`\n\nNew.',
    );
    expect(reading).toEqual({
      ok: true,
      changed: true,
      plan: {
        global: 'Node 22.',
        sections: [
          { path: 'src/a.ts', text: 'Exports a().' },
          { path: 'src/c.ts', text: 'New.' },
        ],
      },
    });
  });

  it('prose, an empty answer, or a plan-less "changes" list is refused with the reason', () => {
    for (const answer of [
      '',
      'The spec now asks for logging, so src/a.ts should log calls.',
      'Changes:\n- src/a.ts: add logging',
    ]) {
      const reading = readReplan(PREVIOUS, answer);
      expect(reading.ok).toBe(false);
      expect(reading.ok === false && reading.problem).toMatch(
        answer === '' ? /empty/ : /no `## Global` part, no `### `path`` section and does not say `NO CHANGES`/,
      );
    }
  });

  it('property: any answer without a section, a global part or a NO CHANGES line is refused', () => {
    const line = fc
      .string({ maxLength: 60 })
      .filter((text) => !/no changes/i.test(text) && !/^\s{0,3}#/.test(text) && !text.includes('\n'));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        expect(readReplan(PREVIOUS, lines.join('\n')).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('planStage re-plans', () => {
  it('a prose answer gets ONE more request quoting the problem; a usable second answer is taken', async () => {
    const provider = createFakeProvider((_request, index) => ({
      text: index === 0 ? 'Logging should be added to a.' : '### `src/a.ts`\n\nExports a(); logs each call.',
    }));
    const result = await planStage({ provider, model: 'small', temperature: 0, maxTokens: 1000 }, SPEC, previous);
    expect(result.value.sections[0]).toEqual({ path: 'src/a.ts', text: 'Exports a(); logs each call.' });
    expect(provider.calls).toHaveLength(2);
    const retry = provider.calls[1]!.messages;
    expect(retry.at(-2)).toEqual({ role: 'assistant', content: 'Logging should be added to a.' });
    expect(retry.at(-1)?.content).toMatch(
      /^That answer could not be used: it has no `## Global` part.*\n\nAnswer in the re-plan format only/s,
    );
  });

  it('two unusable answers fail with REPLAN_INVALID, naming the model and what it said', async () => {
    const provider = createFakeProvider(() => ({ text: 'Sure, I will update the plan for you.' }));
    await expect(
      planStage({ provider, model: 'tiny-1b', temperature: 0, maxTokens: 1000 }, SPEC, previous),
    ).rejects.toMatchObject({
      code: 'REPLAN_INVALID',
      message: expect.stringMatching(/tiny-1b.*It answered: Sure, I will update the plan for you\./),
      hint: expect.stringContaining('Nothing was changed'),
    });
    expect(provider.calls).toHaveLength(2);
  });

  it('NO CHANGES costs one call and keeps the plan', async () => {
    const provider = createFakeProvider(() => ({ text: 'NO CHANGES' }));
    const result = await planStage({ provider, model: 'm', temperature: 0, maxTokens: 1000 }, SPEC, previous);
    expect(result.value).toBe(PREVIOUS);
    expect(provider.calls).toHaveLength(1);
  });
});
