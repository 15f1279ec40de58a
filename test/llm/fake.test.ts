import { describe, expect, it } from 'vitest';
import { SmolError } from '../../src/errors.js';
import { isAbortError } from '../../src/llm/errors.js';
import { createFakeProvider } from '../../src/llm/fake.js';
import type { CompletionRequest } from '../../src/llm/types.js';

const request = (stage: CompletionRequest['stage'] = 'plan'): CompletionRequest => ({
  stage,
  model: 'fake-model',
  messages: [{ role: 'user', content: 'abcdefgh' }],
});

describe('createFakeProvider', () => {
  it('fills defaults: stop, estimated usage, no tool calls, and streams the text to onToken', async () => {
    const provider = createFakeProvider(() => ({ text: 'hello world!' }));
    const tokens: string[] = [];
    const result = await provider.complete(request(), { onToken: (token) => tokens.push(token) });
    expect(provider.name).toBe('fake');
    expect(result).toEqual({
      text: 'hello world!',
      toolCalls: [],
      finishReason: 'stop',
      // Estimated with js-tiktoken: 1 token of text + 3 of message framing + 3 for the request.
      usage: { inputTokens: 7, outputTokens: 3, estimated: true },
    });
    expect(tokens.join('')).toBe('hello world!');
  });

  it('answers tool_calls when the script returns tool calls', async () => {
    const provider = createFakeProvider(() => ({ toolCalls: [{ name: 'list_files', arguments: '{"files":[]}' }] }));
    const result = await provider.complete(request('files'));
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual([{ name: 'list_files', arguments: '{"files":[]}' }]);
  });

  it('keeps what the script sets, and records every call with its index', async () => {
    const provider = createFakeProvider(async (req, index) => ({
      text: `${req.stage} #${index}`,
      finishReason: index === 1 ? 'length' : 'stop',
      usage: { inputTokens: 10, outputTokens: 20, estimated: false },
    }));
    const first = await provider.complete(request('plan'));
    const second = await provider.complete(request('code'));
    expect(first.text).toBe('plan #0');
    expect(second).toMatchObject({
      text: 'code #1',
      finishReason: 'length',
      usage: { inputTokens: 10, estimated: false },
    });
    expect(provider.calls.map((call) => call.stage)).toEqual(['plan', 'code']);
  });

  it('rejects with an Error the script returns or throws', async () => {
    const quota = new SmolError('PROVIDER_QUOTA', 'out of quota');
    const provider = createFakeProvider((_req, index) => {
      if (index === 0) return quota;
      throw new Error('script bug');
    });
    await expect(provider.complete(request())).rejects.toBe(quota);
    await expect(provider.complete(request())).rejects.toThrow('script bug');
  });

  it('rejects as aborted when the signal fires during the delay, or was already aborted', async () => {
    const provider = createFakeProvider(() => ({ text: 'late', delayMs: 10_000 }));
    const controller = new AbortController();
    const call = provider.complete(request(), { signal: controller.signal });
    controller.abort();
    const error = await call.catch((caught: unknown) => caught);
    expect(isAbortError(error)).toBe(true);

    const before = new AbortController();
    before.abort();
    const early = await provider.complete(request(), { signal: before.signal }).catch((caught: unknown) => caught);
    expect(isAbortError(early)).toBe(true);
  });

  it('answers after a short delay when nothing aborts', async () => {
    const provider = createFakeProvider(() => ({ text: 'soon', delayMs: 5 }));
    const result = await provider.complete(request(), { signal: new AbortController().signal });
    expect(result.text).toBe('soon');
  });
});
