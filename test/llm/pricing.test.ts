import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodingFor,
  estimatePromptTokens,
  estimateTokens,
  estimateUsage,
  worstCaseTokens,
} from '../../src/llm/estimate.js';
import { costOf, formatUsd, priceFor, PRICE_TABLE, tableEntry } from '../../src/llm/pricing.js';

describe('price table', () => {
  it.each([
    ['gpt-4o', 'gpt-4o'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4.1-nano', 'gpt-4.1-nano'],
    ['gpt-4.1-2025-04-14', 'gpt-4.1'],
    ['o1-mini', 'o1-mini'],
    ['o3-mini-2025-01-31', 'o3-mini'],
    ['o4-mini', 'o4-mini'],
    ['gpt-5-mini', 'gpt-5-mini'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-opus-4-5', 'claude-opus-4-5'],
    ['claude-opus-4-1-20250805', 'claude-opus-4-1'],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku'],
    ['openai/gpt-4o', 'gpt-4o'],
    ['anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-3-5-sonnet'],
    ['claude-3-5-sonnet@20240620', 'claude-3-5-sonnet'],
    ['claude-opus-4-6', 'claude-opus-4-6'],
    ['claude-opus-4-20250514', 'claude-opus-4'],
    ['claude-opus-4-6-20260205', 'claude-opus-4-6'],
    ['claude-sonnet-5-5', 'claude-sonnet-5-5'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4-5'],
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet'],
    ['claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet'],
    ['gpt-5.1', 'gpt-5.1'],
    ['gpt-5.1-2025-11-13', 'gpt-5.1'],
    ['gpt-5.2', 'gpt-5.2'],
    ['gpt-4-0613', 'gpt-4'],
    ['gpt-4-turbo-2024-04-09', 'gpt-4-turbo'],
  ])('%s prices as %s', (model, entry) => {
    expect(tableEntry(model)).toBe(entry);
  });

  it.each([
    'gpt-4oo',
    'o10',
    'llama3.1:8b',
    'qwen2.5-coder',
    'gpt-oss:20b',
    // Other models of a family, not snapshots of it: never priced as the family.
    'claude-opus-4-9',
    'claude-sonnet-4-7',
    'gpt-5.3',
    'gpt-5-pro',
    'gpt-5.2-pro',
    'gpt-5.1-codex',
    'gpt-4-32k',
    'claude-fable-5-2',
  ])('%s has no price', (model) => {
    expect(tableEntry(model)).toBeUndefined();
  });

  it('claude-opus-4-6 costs what Anthropic lists ($5 / $25), not the claude-opus-4 price ($15 / $75)', () => {
    expect(priceFor('anthropic', 'claude-opus-4-6')).toMatchObject({ input: 5, output: 25, entry: 'claude-opus-4-6' });
    expect(priceFor('anthropic', 'claude-opus-4-20250514')).toMatchObject({ input: 15, output: 75 });
    expect(priceFor('openai', 'gpt-5.1')).toMatchObject({ input: 1.25, output: 10 });
    expect(priceFor('openai', 'gpt-5.2')).toMatchObject({ input: 1.75, output: 14 });
  });

  it('property: a snapshot suffix never changes the entry; any other suffix never borrows the family price', () => {
    const entries = Object.keys(PRICE_TABLE);
    const snapshot = fc.oneof(
      fc.integer({ min: 2023, max: 2030 }).map((year) => `-${year}0101`),
      fc.constant('-latest'),
      fc.integer({ min: 1, max: 9 }).map((version) => `-v${version}:0`),
      fc.stringMatching(/^[0-9]{8}$/).map((date) => `@${date}`),
    );
    fc.assert(
      fc.property(fc.constantFrom(...entries), snapshot, (entry, suffix) => {
        expect(tableEntry(entry + suffix)).toBe(entry);
      }),
    );
    fc.assert(
      // (Entries that are themselves dated snapshots, like gpt-4o-2024-05-13, are their family's snapshots.)
      fc.property(
        fc.constantFrom(...entries.filter((entry) => !/-\d{4}-/.test(entry))),
        fc.stringMatching(/^-([0-9]{1,3}|[a-z]{2,8})$/),
        (entry, suffix) => {
          fc.pre(suffix !== '-latest' && !/^-v[0-9]+$/.test(suffix));
          const found = tableEntry(entry + suffix);
          // Either unknown, or a longer entry that really names that model (gpt-4o-mini for gpt-4o + -mini).
          expect(
            found === undefined ||
              found === entry + suffix ||
              (found.length > entry.length && (entry + suffix).startsWith(found)),
          ).toBe(true);
        },
      ),
    );
  });

  it('Claude Haiku 5.5 costs more per token when the prompt is over 100,000 tokens', () => {
    const price = PRICE_TABLE['claude-haiku-5-5']!;
    expect(costOf({ inputTokens: 100_000, outputTokens: 1_000_000 }, price)).toBeCloseTo(0.01 + 0.5);
    expect(costOf({ inputTokens: 100_001, outputTokens: 1_000_000 }, price)).toBeCloseTo(0.0500005 + 2.5);
  });

  it('priceFor: the spec wins, local providers are free, unknown models have no price', () => {
    expect(priceFor('openai', 'gpt-4o')).toEqual({ ...PRICE_TABLE['gpt-4o'], source: 'table', entry: 'gpt-4o' });
    expect(priceFor('openai', 'gpt-4o', { input: 1, output: 2 })).toEqual({ input: 1, output: 2, source: 'spec' });
    expect(priceFor('ollama', 'gpt-oss:20b')).toEqual({ input: 0, output: 0, source: 'local' });
    expect(priceFor('ollama', 'gpt-4o')).toMatchObject({ input: 0, output: 0 });
    expect(priceFor('openai-compatible', 'llama3.1:8b')).toBeUndefined();
    expect(priceFor('openai-compatible', 'gpt-4o-mini')).toMatchObject({ source: 'table' });
  });

  it('costOf and formatUsd', () => {
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 500_000 }, { input: 2.5, output: 10 })).toBeCloseTo(7.5);
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(12.345)).toBe('$12.35');
    expect(formatUsd(0.0421)).toBe('$0.042');
    expect(formatUsd(0.00123)).toBe('$0.0012');
    expect(formatUsd(0.00000123)).toBe('<$0.0001');
  });
});

describe('token estimates (js-tiktoken, offline)', () => {
  it('uses o200k_base for current OpenAI families and cl100k_base for the rest', () => {
    expect(encodingFor('gpt-4o-mini')).toBe('o200k_base');
    expect(encodingFor('o3')).toBe('o200k_base');
    expect(encodingFor('openai/gpt-4.1')).toBe('o200k_base');
    expect(encodingFor('claude-sonnet-4-5')).toBe('cl100k_base');
    expect(encodingFor('llama3')).toBe('cl100k_base');
  });

  it('counts real tokens, not characters', () => {
    expect(estimateTokens('hello world!')).toBe(3);
    expect(estimateTokens('hello world!', 'gpt-4o')).toBe(3);
    expect(estimateTokens('')).toBe(0);
    // Special-token text in a prompt is plain text, never an error.
    expect(estimateTokens('<|endoftext|>')).toBeGreaterThan(1);
  });

  it('adds message framing and tool definitions; worst case adds maxTokens', () => {
    const messages = [{ role: 'user' as const, content: 'hello world!' }];
    expect(estimatePromptTokens({ messages })).toBe(3 + 3 + 3);
    const tools = [{ name: 'submit', description: 'Submit files', parameters: { type: 'object' } }];
    expect(estimatePromptTokens({ messages, tools })).toBeGreaterThan(9);
    expect(worstCaseTokens({ stage: 'code', model: 'm', messages, maxTokens: 500 })).toEqual({ input: 9, output: 500 });
    expect(estimateUsage({ messages }, { text: 'hello world!', toolCalls: [] })).toEqual({
      inputTokens: 9,
      outputTokens: 3,
      estimated: true,
    });
  });
});
