import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSmolError } from '../../src/errors.js';
import { withBudget } from '../../src/llm/budget.js';
import { createProvider } from '../../src/llm/create.js';
import { createFakeProvider } from '../../src/llm/fake.js';
import { mapFailure, type ErrorContext } from '../../src/llm/sdk-failures.js';
import type { CompletionRequest } from '../../src/llm/types.js';

// The run stops on errors that fail every call alike (`runWide`), decided where the error is made; these
// are the codes engine/generate.ts used to list by hand.
const STOP_CALLS = [
  'PROVIDER_AUTH',
  'PROVIDER_QUOTA',
  'PROVIDER_NO_KEY',
  'PROVIDER_NOT_CONFIGURED',
  'PROVIDER_MODEL_NOT_FOUND',
  'PROVIDER_ENDPOINT_NOT_FOUND',
];

const context: ErrorContext = {
  providerName: 'openai',
  baseURL: 'http://127.0.0.1:1/v1',
  model: 'm',
  apiKeyVariable: 'OPENAI_API_KEY',
  maxRetries: 2,
  timeoutMs: 1000,
  apiKey: undefined,
  signal: undefined,
};
const request: CompletionRequest = { stage: 'code', model: 'm', messages: [{ role: 'user', content: 'hi' }] };

describe('run-wide errors', () => {
  it('marks a mapped HTTP failure run-wide exactly when its code is one that fails every call', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 400, max: 599 }), { nil: undefined }),
        fc.constantFrom('model not found', 'nope', 'credit balance is too low', 'context length exceeded'),
        fc.option(fc.constantFrom('insufficient_quota', 'model_not_found', 'overloaded_error', 'billing_error'), {
          nil: undefined,
        }),
        (status, message, code) => {
          const error = mapFailure(
            { kind: 'status', status, headers: undefined, message, type: undefined, code },
            new Error(message),
            context,
          );
          if (!isSmolError(error)) throw new Error('not mapped');
          expect(error.runWide).toBe(STOP_CALLS.includes(error.code) ? 'stop-calls' : undefined);
        },
      ),
    );
  });

  it('stops calls in flight for a missing key or provider', () => {
    const missing = (() => {
      try {
        createProvider({ provider: 'openai' }, {});
      } catch (error) {
        return error;
      }
    })();
    expect(missing).toMatchObject({ code: 'PROVIDER_NO_KEY', runWide: 'stop-calls' });
    expect(() => createProvider({}, {})).toThrow(
      expect.objectContaining({ code: 'PROVIDER_NOT_CONFIGURED', runWide: 'stop-calls' }),
    );
  });

  it('lets calls in flight finish when the budget is reached or has no price', async () => {
    const inner = createFakeProvider(() => ({ text: 'ok' }));
    const noPrice = withBudget(inner, { usd: 1, price: undefined, model: 'm', providerName: 'fake' });
    await expect(noPrice.complete(request)).rejects.toMatchObject({ code: 'BUDGET_NO_PRICE', runWide: 'finish-calls' });
    const tiny = withBudget(inner, { usd: 0, price: { input: 1000, output: 1000 }, model: 'm', providerName: 'fake' });
    await expect(tiny.complete(request)).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED', runWide: 'finish-calls' });
  });
});
