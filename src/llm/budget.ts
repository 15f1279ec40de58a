import { SmolError } from '../errors.js';
import { worstCaseTokensAsync } from './estimate.js';
import { costOf, formatUsd, type ModelPrice } from './pricing.js';
import type { CompleteOptions, CompletionRequest, Provider } from './types.js';

export interface BudgetOptions {
  /** Most US dollars the calls through this provider may spend. */
  usd: number;
  /** Undefined when the model has no known price: the first call then fails with BUDGET_NO_PRICE. */
  price: ModelPrice | undefined;
  /** For messages. */
  model: string;
  providerName: string;
}

/**
 * Stops BEFORE a call that could take spending past `usd` (design.md 8), with `BUDGET_EXCEEDED`. The rule:
 * a call is sent only if what was spent, plus the worst case of every call in flight, plus this call's
 * worst case (its prompt counted with js-tiktoken, and `maxTokens` of answer) stays within the budget.
 * Sits below the response cache, so cached answers never count. Failed calls count nothing.
 */
export function withBudget(provider: Provider, options: BudgetOptions): Provider & { spentUsd(): number } {
  let spent = 0;
  let reserved = 0;
  return {
    name: provider.name,
    spentUsd: () => spent,
    async complete(request: CompletionRequest, callOptions?: CompleteOptions) {
      const { price } = options;
      if (price === undefined) {
        throw new SmolError(
          'BUDGET_NO_PRICE',
          `\`budget\` is set, but smol has no price for model "${options.model}" on ${options.providerName}, so it cannot keep to it.`,
          {
            exitCode: 2,
            runWide: 'finish-calls',
            hint: 'Add `price: { input: 3, output: 15 }` (USD per million prompt / answer tokens) to the frontmatter; use 0 for a free local server.',
          },
        );
      }
      const worst = await worstCaseTokensAsync(request, callOptions?.signal);
      const worstUsd = costOf({ inputTokens: worst.input, outputTokens: worst.output }, price);
      if (spent + reserved + worstUsd > options.usd) {
        const what = request.file === undefined ? `the ${request.stage} call` : `the call for ${request.file}`;
        const inFlight = reserved > 0 ? `, calls in flight may spend ${formatUsd(reserved)} more,` : '';
        throw new SmolError(
          'BUDGET_EXCEEDED',
          `Budget reached: stopped before ${what}, which could cost up to ${formatUsd(worstUsd)} (${worst.input} prompt + ${worst.output} answer tokens at most). ` +
            `This run has spent ${formatUsd(spent)}${inFlight} and \`budget.usd\` is ${formatUsd(options.usd)}.`,
          {
            runWide: 'finish-calls',
            hint: 'Raise `budget.usd`, or lower `maxTokens` (each call is counted as if it used all of it), and run again: answers already received are cached and cost nothing the second time.',
          },
        );
      }
      reserved += worstUsd;
      try {
        const result = await provider.complete(request, callOptions);
        spent += costOf(result.usage, price);
        return result;
      } finally {
        reserved -= worstUsd;
      }
    },
  };
}
