import { describe, expect, it } from 'vitest';
import { withBudget } from '../../src/llm/budget.js';
import { createFakeProvider } from '../../src/llm/fake.js';
import { emptyLedger, meterUsage, type CallRecord } from '../../src/llm/usage.js';
import type { CompletionRequest } from '../../src/llm/types.js';
import type { CachedCompletion } from '../../src/llm/cache.js';

const request = (file?: string, maxTokens = 1000): CompletionRequest => ({
  stage: file === undefined ? 'plan' : 'code',
  ...(file === undefined ? {} : { file }),
  model: 'gpt-4o',
  maxTokens,
  messages: [{ role: 'user', content: 'hello world!' }],
});
const usage = (inputTokens: number, outputTokens: number, estimated = false) => ({
  inputTokens,
  outputTokens,
  estimated,
});

describe('meterUsage', () => {
  it('counts calls, tokens and dollars per run and per file; cache hits are free', async () => {
    const fake = createFakeProvider((req) => ({
      text: 'x',
      usage: req.file === 'b.ts' ? usage(1000, 0, true) : usage(1_000_000, 100_000),
    }));
    let hit = false;
    const maybeCached = {
      name: fake.name,
      complete: async (req: CompletionRequest): Promise<CachedCompletion> => ({
        ...(await fake.complete(req)),
        ...(hit ? { cached: true } : {}),
      }),
    };
    const ledger = emptyLedger();
    const calls: CallRecord[] = [];
    const metered = meterUsage(maybeCached, ledger, {
      price: { input: 2.5, output: 10 },
      onCall: (call) => calls.push(call),
    });
    await metered.complete(request());
    await metered.complete(request('a.ts'));
    await metered.complete(request('b.ts'));
    hit = true;
    await metered.complete(request('a.ts'));
    expect(ledger).toMatchObject({
      calls: 3,
      cachedCalls: 1,
      inputTokens: 2_001_000,
      outputTokens: 200_000,
      estimated: true,
      costKnown: true,
    });
    expect(ledger.costUsd).toBeCloseTo(2 * 3.5 + 0.0025);
    expect(ledger.files['a.ts']).toMatchObject({ calls: 1, cachedCalls: 1, inputTokens: 1_000_000 });
    expect(ledger.files['a.ts']!.costUsd).toBeCloseTo(3.5);
    expect(Object.keys(ledger.files)).toEqual(['a.ts', 'b.ts']);
    expect(calls.map((call) => [call.stage, call.file, call.cached])).toEqual([
      ['plan', undefined, false],
      ['code', 'a.ts', false],
      ['code', 'b.ts', false],
      ['code', 'a.ts', true],
    ]);
    expect(calls[3]!.costUsd).toBe(0);
  });

  it('without a price the cost is unknown, not zero', async () => {
    const ledger = emptyLedger();
    const calls: CallRecord[] = [];
    await meterUsage(
      createFakeProvider(() => ({ text: 'x' })),
      ledger,
      { price: undefined, onCall: (call) => calls.push(call) },
    ).complete(request());
    expect(ledger).toMatchObject({ calls: 1, costUsd: 0, costKnown: false });
    expect(calls[0]!.costUsd).toBeUndefined();
  });

  it('passes onWait down to the provider, with the request', async () => {
    const waits: string[] = [];
    const provider = {
      name: 'p',
      complete: async (
        _req: CompletionRequest,
        options?: { onWait?: ((wait: { reason: 'rpm'; ms: number }) => void) | undefined },
      ) => {
        options?.onWait?.({ reason: 'rpm', ms: 5 });
        return { text: '', toolCalls: [], usage: usage(1, 1), finishReason: 'stop' as const };
      },
    };
    await meterUsage(provider, emptyLedger(), {
      price: undefined,
      onWait: (wait, req) => waits.push(`${wait.reason} ${wait.ms} ${req.file}`),
    }).complete(request('x.ts'));
    expect(waits).toEqual(['rpm 5 x.ts']);
  });
});

describe('withBudget', () => {
  const price = { input: 10, output: 100 };

  it('stops BEFORE a call whose worst case (prompt + maxTokens) would pass the budget, and says so', async () => {
    const fake = createFakeProvider(() => ({ text: 'x', usage: usage(10, 1000) }));
    // Worst case of one call: 9 prompt tokens * $10/M + 1000 * $100/M = $0.10009.
    const budget = withBudget(fake, { usd: 0.25, price, model: 'gpt-4o', providerName: 'openai' });
    await budget.complete(request('a.ts'));
    await budget.complete(request('b.ts'));
    expect(budget.spentUsd()).toBeCloseTo(0.2002);
    const error = await budget.complete(request('c.ts')).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'BUDGET_EXCEEDED', exitCode: 1 });
    expect((error as Error).message).toMatch(
      /stopped before the call for c\.ts, which could cost up to \$0\.100 .*spent \$0\.200 and `budget\.usd` is \$0\.250/,
    );
    expect((error as { hint: string }).hint).toMatch(/cached/);
    expect(fake.calls).toHaveLength(2);
  });

  it('counts the worst case of calls in flight', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fake = createFakeProvider(async () => {
      await gate;
      return { text: 'x', usage: usage(10, 10) };
    });
    const budget = withBudget(fake, { usd: 0.15, price, model: 'gpt-4o', providerName: 'openai' });
    const first = budget.complete(request('a.ts'));
    const error = await budget.complete(request('b.ts')).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect((error as Error).message).toMatch(/calls in flight may spend \$0\.100 more/);
    release();
    await first;
    // Once the first call reports what it really cost, there is room again.
    await budget.complete(request('b.ts'));
    expect(fake.calls).toHaveLength(2);
  });

  it('a lower maxTokens fits where the default would not', async () => {
    const fake = createFakeProvider(() => ({ text: 'x', usage: usage(1, 1) }));
    const budget = withBudget(fake, { usd: 0.01, price, model: 'gpt-4o', providerName: 'openai' });
    await expect(budget.complete(request('a.ts', 1000))).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    await budget.complete(request('a.ts', 50));
    expect(fake.calls).toHaveLength(1);
  });

  it('refuses to run with a budget but no price', async () => {
    const fake = createFakeProvider(() => ({ text: 'x' }));
    const budget = withBudget(fake, { usd: 1, price: undefined, model: 'llama3', providerName: 'openai-compatible' });
    const error = await budget.complete(request()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'BUDGET_NO_PRICE', exitCode: 2 });
    expect((error as { hint: string }).hint).toContain('price:');
    expect(fake.calls).toHaveLength(0);
  });

  it('a free local model never reaches the budget', async () => {
    const fake = createFakeProvider(() => ({ text: 'x', usage: usage(1e6, 1e6) }));
    const budget = withBudget(fake, {
      usd: 0.01,
      price: { input: 0, output: 0 },
      model: 'llama3',
      providerName: 'ollama',
    });
    for (let index = 0; index < 3; index += 1) await budget.complete(request());
    expect(fake.calls).toHaveLength(3);
  });
});
