import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAnthropicProvider, type AnthropicProviderOptions } from '../../src/llm/anthropic.js';
import { isAbortError, type ProviderError } from '../../src/llm/errors.js';
import type { CompletionRequest } from '../../src/llm/types.js';
import { startAnthropicServer, type AnthropicHandler, type MockAnthropicServer } from '../helpers/anthropic-server.js';

const KEY = 'sk-ant-test-SECRET-0123456789';
const servers: MockAnthropicServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(handler?: AnthropicHandler): Promise<MockAnthropicServer> {
  const server = await startAnthropicServer(handler === undefined ? {} : { handler });
  servers.push(server);
  return server;
}

function providerFor(server: MockAnthropicServer, options: AnthropicProviderOptions = {}) {
  return createAnthropicProvider({ apiKey: KEY, baseURL: server.url, maxRetries: 0, ...options });
}

function request(overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    stage: 'code',
    file: 'src/app.ts',
    model: 'claude-sonnet-4-5',
    messages: [
      { role: 'system', content: 'You write code.' },
      { role: 'user', content: 'Write a hello world.' },
    ],
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

describe('createAnthropicProvider against a real Anthropic-format server', () => {
  it('streams text deltas and reports usage from message_start and message_delta', async () => {
    const server = await start(() => ({
      text: 'Hello from Claude, streamed in pieces.',
      usage: { input_tokens: 31, output_tokens: 12 },
    }));
    const fragments: string[] = [];
    const result = await providerFor(server).complete(request({ temperature: 0.3, maxTokens: 700 }), {
      onToken: (fragment) => fragments.push(fragment),
    });
    expect(result).toEqual({
      text: 'Hello from Claude, streamed in pieces.',
      toolCalls: [],
      usage: { inputTokens: 31, outputTokens: 12, estimated: false },
      finishReason: 'stop',
    });
    expect(fragments.length).toBeGreaterThan(1);
    expect(server.requests[0]?.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 700,
      stream: true,
      system: 'You write code.',
      temperature: 0.3,
      messages: [{ role: 'user', content: 'Write a hello world.' }],
    });
  });

  it('forces the tool and joins input_json_delta fragments into the arguments', async () => {
    const files = JSON.stringify({ files: [{ path: 'src/index.ts', purpose: 'entry', dependsOn: [] }] });
    const server = await start(() => ({ toolUses: [{ name: 'submit_file_list', input: files }] }));
    const parameters = { type: 'object', properties: { files: { type: 'array' } }, required: ['files'] };
    const result = await providerFor(server).complete(
      request({
        stage: 'files',
        tools: [{ name: 'submit_file_list', description: 'List files', parameters }],
        toolChoice: 'submit_file_list',
      }),
    );
    expect(result.toolCalls).toEqual([{ name: 'submit_file_list', arguments: files }]);
    expect(result.finishReason).toBe('tool_calls');
    expect(server.requests[0]?.body).toMatchObject({
      tools: [{ name: 'submit_file_list', description: 'List files', input_schema: parameters }],
      tool_choice: { type: 'tool', name: 'submit_file_list' },
    });
  });

  it('sends X-Smol-Stage and X-Smol-File, the max_tokens default, and caps temperature at 1', async () => {
    const server = await start();
    const { file: _file, ...plan } = request({ stage: 'plan', temperature: 1.7 });
    await providerFor(server).complete(plan);
    await providerFor(server, { defaultMaxTokens: 1234 }).complete(request({ file: 'src/ü.ts' }));
    expect(server.requests.map((seen) => [seen.stage, seen.file])).toEqual([
      ['plan', undefined],
      ['code', 'src/%C3%BC.ts'],
    ]);
    expect(server.requests[0]?.body).toMatchObject({ temperature: 1, max_tokens: 8192 });
    expect(server.requests[1]?.body.max_tokens).toBe(1234);
  });

  it('joins consecutive turns of one role (system messages go to `system`)', async () => {
    const server = await start();
    await providerFor(server).complete(
      request({
        messages: [
          { role: 'system', content: 'A' },
          { role: 'user', content: 'one' },
          { role: 'user', content: 'two' },
          { role: 'assistant', content: 'three' },
          { role: 'system', content: 'B' },
          { role: 'user', content: 'four' },
        ],
      }),
    );
    expect(server.requests[0]?.body).toMatchObject({
      system: 'A\n\nB',
      messages: [
        { role: 'user', content: 'one\n\ntwo' },
        { role: 'assistant', content: 'three' },
        { role: 'user', content: 'four' },
      ],
    });
  });

  it.each([
    ['max_tokens', 'length'],
    ['refusal', 'content_filter'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'other'],
  ] as const)('maps stop_reason %s to %s', async (wire, expected) => {
    const server = await start(() => ({ text: 'partial', stopReason: wire }));
    expect((await providerFor(server).complete(request())).finishReason).toBe(expected);
  });

  it('estimates usage with the tokenizer when the server sends none', async () => {
    const server = await start(() => ({ text: 'twelve chars', usage: null }));
    const result = await providerFor(server).complete(request());
    expect(result.usage).toMatchObject({ estimated: true, outputTokens: 3 });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });

  it('a 401 is PROVIDER_AUTH naming ANTHROPIC_API_KEY, and the key never shows', async () => {
    const server = await start(() => ({ status: 401, error: { message: `invalid x-api-key ${KEY}` } }));
    const error = (await rejection(providerFor(server).complete(request()))) as ProviderError;
    expect(error).toMatchObject({ code: 'PROVIDER_AUTH', status: 401, exitCode: 2 });
    expect(error.hint).toContain('ANTHROPIC_API_KEY');
    for (const text of [error.message, error.stack, String((error.cause as Error).message)])
      expect(text).not.toContain(KEY);
  });

  it('a 404 for the model is PROVIDER_MODEL_NOT_FOUND', async () => {
    const server = await start(() => ({ status: 404, error: { message: 'model: claude-nine' } }));
    const error = await rejection(providerFor(server).complete(request({ model: 'claude-nine' })));
    expect(error).toMatchObject({ code: 'PROVIDER_MODEL_NOT_FOUND', exitCode: 2 });
    expect((error as Error).message).toContain('claude-nine');
  });

  it('"credit balance is too low" (400) and 402 are PROVIDER_QUOTA, never retried', async () => {
    const server = await start(() =>
      server.requests.length === 1
        ? { status: 400, error: { message: 'Your credit balance is too low to access the Anthropic API.' } }
        : { status: 402, error: { message: 'Payment required' } },
    );
    const provider = providerFor(server, { maxRetries: 3 });
    expect(await rejection(provider.complete(request()))).toMatchObject({ code: 'PROVIDER_QUOTA' });
    expect(await rejection(provider.complete(request()))).toMatchObject({ code: 'PROVIDER_QUOTA' });
    expect(server.requests).toHaveLength(2);
    expect(((await rejection(provider.complete(request()))) as ProviderError).hint).toMatch(/Anthropic Console/);
  });

  it('a 429 is retried by the SDK after retry-after-ms (default mode)', async () => {
    const server = await start(() =>
      server.requests.length === 1
        ? { status: 429, error: { message: 'slow down' }, headers: { 'retry-after-ms': '20' } }
        : { text: 'after' },
    );
    expect((await providerFor(server, { maxRetries: 2 }).complete(request())).text).toBe('after');
    expect(server.requests).toHaveLength(2);
  });

  it("with rateLimits: 'caller' a 429 comes back at once, with the wait the server asked for", async () => {
    const server = await start(() => ({
      status: 429,
      error: { message: 'slow down' },
      headers: { 'retry-after': '7' },
    }));
    const error = await rejection(providerFor(server, { maxRetries: 3, rateLimits: 'caller' }).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_RATE_LIMIT', status: 429, retryAfterMs: 7000 });
    expect(server.requests).toHaveLength(1);
  });

  it('529 overloaded is retried by the SDK, then PROVIDER_OVERLOADED', async () => {
    const server = await start(() => ({
      status: 529,
      error: { message: 'Overloaded' },
      headers: { 'retry-after-ms': '5' },
    }));
    const error = await rejection(providerFor(server, { maxRetries: 2 }).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_OVERLOADED', status: 529 });
    expect(server.requests).toHaveLength(3);
  });

  it('an error event in the middle of the stream is PROVIDER_OVERLOADED, not a partial answer', async () => {
    const server = await start(() => ({
      text: 'a long answer that the server gives up on',
      streamError: { type: 'overloaded_error', message: 'Overloaded' },
    }));
    expect(await rejection(providerFor(server).complete(request()))).toMatchObject({ code: 'PROVIDER_OVERLOADED' });
  });

  it('a 500 is retried, then PROVIDER_SERVER_ERROR', async () => {
    const server = await start(() => ({
      status: 500,
      error: { message: 'internal' },
      headers: { 'retry-after-ms': '5' },
    }));
    const error = await rejection(providerFor(server, { maxRetries: 1 }).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_SERVER_ERROR', status: 500 });
    expect(server.requests).toHaveLength(2);
  });

  it('a connection dropped mid-stream is PROVIDER_UNREACHABLE', async () => {
    const server = await start(() => ({
      text: 'a fairly long answer that gets cut off somewhere',
      dropConnection: true,
    }));
    const error = await rejection(providerFor(server).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_UNREACHABLE' });
  });

  it('a server that is not running is PROVIDER_UNREACHABLE', async () => {
    const server = await start();
    await server.close();
    expect(await rejection(providerFor(server).complete(request()))).toMatchObject({ code: 'PROVIDER_UNREACHABLE' });
  });

  it('aborting mid-stream rejects as an abort and closes the connection', async () => {
    const server = await start(() => ({ text: 'x'.repeat(400), chunkDelayMs: 40 }));
    const controller = new AbortController();
    const error = await rejection(
      providerFor(server).complete(request(), { signal: controller.signal, onToken: () => controller.abort() }),
    );
    expect(isAbortError(error)).toBe(true);
    await vi.waitFor(() => expect(server.requests[0]?.aborted).toBe(true));
  });

  it('a stream that stalls is PROVIDER_TIMEOUT', async () => {
    const server = await start(() => ({ text: 'slow '.repeat(10), chunkDelayMs: 2_000 }));
    expect(await rejection(providerFor(server, { timeoutMs: 150 }).complete(request()))).toMatchObject({
      code: 'PROVIDER_TIMEOUT',
    });
  });

  it('refuses to start without a key, and never reads process.env for one', () => {
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-from-process-env');
    try {
      expect(() => createAnthropicProvider({})).toThrow(
        expect.objectContaining({ code: 'PROVIDER_NO_KEY', exitCode: 2 }),
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
