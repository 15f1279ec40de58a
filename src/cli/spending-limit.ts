import type { FileAssessment } from '../engine/assess.js';
import { estimateRun } from '../engine/estimate-run.js';
import { SmolError } from '../errors.js';
import { formatUsd, priceFor } from '../llm/pricing.js';
import type { Spec } from '../spec/types.js';
import { describeEstimate } from './estimate-text.js';
import { count } from './words.js';

/** `smol run --max-calls N --max-cost USD`. */
export interface LimitFlags {
  maxCalls?: number | undefined;
  maxCost?: number | undefined;
}

/**
 * The check `run` makes once it knows what it would regenerate and before any generation call: with
 * `--max-calls` or `--max-cost`, it estimates the calls (see estimate-run.ts) and refuses, with the numbers,
 * when they exceed the limit. Planning calls come first and are not counted. `--max-cost` is checked
 * against the estimate; `budget` in the spec is the hard limit while calls are made.
 * Undefined when no limit was given (nothing to check, nothing tokenized).
 */
export function spendingGuard(
  flags: LimitFlags,
  spec: Spec,
  providerName: string,
): ((assessments: readonly FileAssessment[]) => void) | undefined {
  const { maxCalls, maxCost } = flags;
  if (maxCalls === undefined && maxCost === undefined) return undefined;
  return (assessments) => {
    const { model, maxTokens } = spec.settings;
    const price = priceFor(providerName, model, spec.settings.price);
    const estimate = estimateRun(assessments, { model, maxTokens, price });
    const what = `This run would make ${describeEstimate(estimate, model)}`;
    const refuse = (limit: string, hint: string): never => {
      throw new SmolError('RUN_LIMIT', `${what}; ${limit}. Nothing was generated.`, { hint });
    };
    if (maxCalls !== undefined && estimate.calls > maxCalls) {
      refuse(
        `--max-calls is ${maxCalls}`,
        `Raise --max-calls, or regenerate fewer files at once (\`smol regen PATH\`; \`smol plan\` shows why each is stale).`,
      );
    }
    if (maxCost !== undefined && estimate.calls > 0) {
      if (estimate.costUsd === undefined) {
        refuse(
          `--max-cost is ${formatUsd(maxCost)}, and smol has no price for ${model} to check it against`,
          'Add `price: { input: 3, output: 15 }` (USD per million prompt / answer tokens) to the frontmatter.',
        );
      } else if (estimate.costUsd > maxCost) {
        refuse(
          `--max-cost is ${formatUsd(maxCost)}`,
          `Raise --max-cost, or regenerate fewer files (${count(estimate.calls, 'file')} to regenerate; \`smol plan\` shows why each is stale).`,
        );
      }
    }
  };
}
