import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileAssessment } from '../../src/engine/assess.js';
import { estimateRun, NEW_FILE_ANSWER_TOKENS } from '../../src/engine/estimate-run.js';
import { estimatePromptTokens, estimateTokens } from '../../src/llm/estimate.js';
import { PRICE_TABLE } from '../../src/llm/pricing.js';
import { codeMessages } from '../../src/plan/templates.js';

function assessment(path: string, current: string | undefined, regenerate: boolean): FileAssessment {
  const inputs = {
    path,
    purpose: `the ${path} file`,
    planGlobal: 'TypeScript.',
    planSection: `Exports ${path}.`,
    dependencies: [],
    fileList: [path],
    specSection: '',
    fullSpec: undefined,
  };
  const disk = {
    state: current === undefined ? ('absent' as const) : ('clean' as const),
    content: current,
    hash: undefined,
    recorded: false,
  };
  const generation = { inputs, hashes: {} as FileAssessment['generation']['hashes'], fingerprint: '' };
  return {
    path,
    planned: { path, purpose: inputs.purpose, dependsOn: [] },
    generation,
    locked: undefined,
    disk,
    reasons: regenerate ? [{ kind: 'new' }] : [],
    regenerate,
  };
}

const price = { input: 3, output: 15 };

describe('estimateRun (what a run would spend)', () => {
  it('counts only the files to regenerate; an existing file is expected back at its size, a new one at the median', () => {
    const big = 'export const x = 1;\n'.repeat(50);
    const small = 'export const y = 2;\n';
    const files = [
      assessment('big.ts', big, true),
      assessment('small.ts', small, false),
      assessment('new.ts', undefined, true),
    ];
    const estimate = estimateRun(files, { model: 'm', maxTokens: 8192, price });
    expect(estimate.calls).toBe(2);
    expect(estimate.paths).toEqual(['big.ts', 'new.ts']);
    const prompts =
      estimatePromptTokens({ model: 'm', messages: codeMessages(files[0]!.generation.inputs, big) }) +
      estimatePromptTokens({ model: 'm', messages: codeMessages(files[2]!.generation.inputs, undefined) });
    expect(estimate.inputTokens).toBe(prompts);
    const sizes = [estimateTokens(big, 'm'), estimateTokens(small, 'm')];
    expect(estimate.outputTokens).toBe(sizes[0]! + Math.round((sizes[0]! + sizes[1]!) / 2));
    expect(estimate.maxOutputTokens).toBe(2 * 8192);
    expect(estimate.costUsd).toBeCloseTo((prompts * 3 + estimate.outputTokens * 15) / 1e6);
    expect(estimate.maxCostUsd).toBeCloseTo((prompts * 3 + 2 * 8192 * 15) / 1e6);
  });

  it('a plan with no file yet expects the default size for each; no price means no cost', () => {
    const estimate = estimateRun([assessment('a.ts', undefined, true)], {
      model: 'm',
      maxTokens: 500,
      price: undefined,
    });
    expect(estimate.outputTokens).toBe(Math.min(500, NEW_FILE_ANSWER_TOKENS));
    expect(estimate.costUsd).toBeUndefined();
    expect(estimate.maxCostUsd).toBeUndefined();
  });

  it('prices each call on its own (a long prompt can change the rate)', () => {
    const long = 'word '.repeat(120_000);
    const estimate = estimateRun([assessment('a.txt', long, true)], {
      model: 'claude-haiku-5-5',
      maxTokens: 1000,
      price: PRICE_TABLE['claude-haiku-5-5'],
    });
    expect(estimate.inputTokens).toBeGreaterThan(100_000);
    expect(estimate.costUsd).toBeCloseTo((estimate.inputTokens * 0.5 + estimate.outputTokens * 2.5) / 1e6);
  });

  it('property: the expected cost never exceeds the bound, and calls = files to regenerate', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            current: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
            regenerate: fc.boolean(),
          }),
          { maxLength: 8 },
        ),
        fc.integer({ min: 1, max: 4000 }),
        (specs, maxTokens) => {
          const files = specs.map((file, index) => assessment(`f${index}.ts`, file.current, file.regenerate));
          const estimate = estimateRun(files, { model: 'm', maxTokens, price });
          expect(estimate.calls).toBe(specs.filter((file) => file.regenerate).length);
          expect(estimate.outputTokens).toBeLessThanOrEqual(estimate.maxOutputTokens);
          expect(estimate.costUsd!).toBeLessThanOrEqual(estimate.maxCostUsd! + 1e-12);
        },
      ),
      { numRuns: 60 },
    );
  });
});
