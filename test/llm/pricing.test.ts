import { describe, expect, it } from 'vitest';
import { encodingFor, estimatePromptTokens, estimateTokens, estimateUsage, worstCaseTokens } from '../../src/llm/estimate.js';
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
  ])('%s prices as %s', (model, entry) => {
    expect(tableEntry(model)).toBe(entry);
  });

  it.each(['gpt-4oo', 'o10', 'llama3.1:8b', 'qwen2.5-coder', 'gpt-oss:20b'])('%s has no price', (model) => {
    expect(tableEntry(model)).toBeUndefined();
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
    expect(estimateUsage({ messages }, { text: 'hello world!', toolCalls: [] })).toEqual({ inputTokens: 9, outputTokens: 3, estimated: true });
  });
});
