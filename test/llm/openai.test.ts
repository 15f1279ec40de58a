import { afterEach, describe, expect, it, vi } from 'vitest';
import { isAbortError, ProviderError } from '../../src/llm/errors.js';
import { createOpenAIProvider, type OpenAIProviderOptions } from '../../src/llm/openai.js';
import type { CompletionRequest } from '../../src/llm/types.js';
import { startOpenAIServer, type MockOpenAIServer, type ReplyHandler } from '../helpers/openai-server.js';

const servers: MockOpenAIServer[] = [];

async function start(options: { handler?: ReplyHandler } = {}): Promise<MockOpenAIServer> {
  const server = await startOpenAIServer(options);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function providerFor(server: MockOpenAIServer, options: OpenAIProviderOptions = {}) {
  return createOpenAIProvider({ name: 'openai-compatible', baseURL: server.url, maxRetries: 0, ...options });
}

function request(overrides: Partial<CompletionRequest> = {}): CompletionRequest {
  return {
    stage: 'code',
    file: 'src/app.ts',
    model: 'test-model',
    messages: [
      { role: 'system', content: 'You write code.' },
      { role: 'user', content: 'Write a hello world.' },
    ],
    ...overrides,
  };
}

/** Runs `promise`, which must reject, and returns what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

describe('createOpenAIProvider against a real OpenAI-compatible server', () => {
  it('streams text in fragments and reports the server usage', async () => {
    const server = await start({
      handler: () => ({
        content: 'Hello, streaming world! Here is some code.',
        usage: { prompt_tokens: 21, completion_tokens: 9 },
      }),
    });
    const fragments: string[] = [];
    const result = await providerFor(server).complete(request({ temperature: 0.2, maxTokens: 500 }), {
      onToken: (fragment) => fragments.push(fragment),
    });

    expect(result.text).toBe('Hello, streaming world! Here is some code.');
    expect(fragments.length).toBeGreaterThan(1);
    expect(fragments.join('')).toBe(result.text);
    expect(result.usage).toEqual({ inputTokens: 21, outputTokens: 9, estimated: false });
    expect(result.finishReason).toBe('stop');
    expect(result.toolCalls).toEqual([]);

    const body = server.requests[0]?.body;
    expect(body).toMatchObject({
      model: 'test-model',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      max_tokens: 500,
      messages: [
        { role: 'system', content: 'You write code.' },
        { role: 'user', content: 'Write a hello world.' },
      ],
    });
    expect(body.tools).toBeUndefined();
    expect(body.tool_choice).toBeUndefined();
  });

  it('joins tool-call arguments streamed in fragments, and sends tools and tool_choice', async () => {
    const files = JSON.stringify({
      files: [
        { path: 'src/index.ts', purpose: 'entry point', dependsOn: ['src/util.ts'] },
        { path: 'src/util.ts', purpose: 'helpers', dependsOn: [] },
      ],
    });
    const server = await start({
      handler: () => ({
        toolCalls: [
          { name: 'list_files', arguments: files },
          { name: 'note', arguments: '{"text":"ünïcødé ✓"}' },
        ],
      }),
    });
    const parameters = { type: 'object', properties: { files: { type: 'array' } }, required: ['files'] };
    // OpenAI itself gets the object form of tool_choice (local servers get "required": test/llm/local-servers.test.ts).
    const result = await providerFor(server, { name: 'openai', apiKey: 'sk-test' }).complete(
      request({
        stage: 'files',
        tools: [{ name: 'list_files', description: 'List the files to generate', parameters }],
        toolChoice: 'list_files',
      }),
    );

    expect(result.toolCalls).toEqual([
      { name: 'list_files', arguments: files },
      { name: 'note', arguments: '{"text":"ünïcødé ✓"}' },
    ]);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.text).toBe('');
    expect(server.requests[0]?.body).toMatchObject({
      tools: [
        { type: 'function', function: { name: 'list_files', description: 'List the files to generate', parameters } },
      ],
      tool_choice: { type: 'function', function: { name: 'list_files' } },
    });
  });

  it('sends X-Smol-Stage on every request and X-Smol-File when a file is set', async () => {
    const server = await start();
    const provider = providerFor(server);
    const { file: _file, ...planRequest } = request({ stage: 'plan' });
    await provider.complete(planRequest);
    await provider.complete(request({ stage: 'code', file: 'src/components/App.tsx' }));
    await provider.complete(request({ stage: 'code', file: 'src/ü.ts' }));

    expect(server.requests.map((r) => [r.stage, r.file])).toEqual([
      ['plan', undefined],
      ['code', 'src/components/App.tsx'],
      // Header values must be ASCII, so anything else arrives percent-encoded.
      ['code', 'src/%C3%BC.ts'],
    ]);
  });

  it('aborting mid-stream closes the connection and rejects as an abort', async () => {
    const server = await start({ handler: () => ({ content: 'x'.repeat(400), chunkDelayMs: 40 }) });
    const controller = new AbortController();
    const error = await rejection(
      providerFor(server).complete(request(), {
        signal: controller.signal,
        onToken: () => controller.abort(),
      }),
    );

    expect(isAbortError(error)).toBe(true);
    expect(error).not.toBeInstanceOf(ProviderError);
    await vi.waitFor(() => expect(server.requests[0]?.aborted).toBe(true));
  });

  it('rejects at once when the signal is already aborted, without sending anything', async () => {
    const server = await start();
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(providerFor(server).complete(request(), { signal: controller.signal }));
    expect(isAbortError(error)).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it('an abort during a Retry-After wait rejects without waiting it out', async () => {
    const server = await start({
      handler: () => ({ status: 429, error: { message: 'Slow down' }, headers: { 'retry-after': '60' } }),
    });
    const controller = new AbortController();
    const call = providerFor(server, { maxRetries: 2 }).complete(request(), { signal: controller.signal });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    controller.abort();
    expect(isAbortError(await rejection(call))).toBe(true);
  });

  it('retries a 429 after the Retry-After the server asked for, then succeeds', async () => {
    const server = await start({
      handler: () =>
        server.requests.length === 1
          ? {
              status: 429,
              error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' },
              headers: { 'retry-after-ms': '50' },
            }
          : { content: 'after the wait' },
    });
    const result = await providerFor(server, { maxRetries: 2 }).complete(request());
    expect(result.text).toBe('after the wait');
    expect(server.requests).toHaveLength(2);
  });

  it('a 429 that persists becomes PROVIDER_RATE_LIMIT with the wait the server asked for', async () => {
    const server = await start({
      handler: () => ({
        status: 429,
        error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' },
        headers: { 'retry-after-ms': '20' },
      }),
    });
    const error = await rejection(providerFor(server, { maxRetries: 1 }).complete(request()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'PROVIDER_RATE_LIMIT', status: 429, retryAfterMs: 20, exitCode: 1 });
    expect(server.requests).toHaveLength(2);
  });

  it('insufficient_quota becomes PROVIDER_QUOTA', async () => {
    const server = await start({
      handler: () => ({
        status: 429,
        error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', code: 'insufficient_quota' },
        headers: { 'retry-after-ms': '10' },
      }),
    });
    const error = await rejection(providerFor(server, { maxRetries: 1 }).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_QUOTA', status: 429 });
    expect((error as Error).message).toContain('quota');
    // The SDK retries every 429 unless told not to; the wrapped fetch reads the body and tells it.
    expect(server.requests).toHaveLength(1);
  });

  it('a 500 is retried, then becomes PROVIDER_SERVER_ERROR', async () => {
    const server = await start({
      handler: () => ({ status: 500, error: { message: 'upstream exploded' }, headers: { 'retry-after-ms': '5' } }),
    });
    const error = await rejection(providerFor(server, { maxRetries: 2 }).complete(request()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'PROVIDER_SERVER_ERROR', status: 500 });
    expect((error as Error).message).toContain('upstream exploded');
    expect((error as Error).cause).toBeDefined();
    expect(server.requests).toHaveLength(3);
  });

  it('a 500 that then succeeds is invisible to the caller', async () => {
    const server = await start({
      handler: () =>
        server.requests.length < 3 ? { status: 503, headers: { 'retry-after-ms': '5' } } : { content: 'recovered' },
    });
    const result = await providerFor(server, { maxRetries: 2 }).complete(request());
    expect(result.text).toBe('recovered');
  });

  it('a 401 becomes PROVIDER_AUTH and never shows the key, even when the server echoes it', async () => {
    const apiKey = 'sk-test-SECRET-0123456789';
    const server = await start({
      handler: () => ({
        status: 401,
        error: {
          message: `Incorrect API key provided: ${apiKey}.`,
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        },
      }),
    });
    const error = await rejection(providerFor(server, { name: 'openai', apiKey }).complete(request()));

    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(error).toBeInstanceOf(ProviderError);
    const providerError = error as ProviderError;
    expect(providerError).toMatchObject({ code: 'PROVIDER_AUTH', exitCode: 2, status: 401 });
    expect(providerError.hint).toContain('OPENAI_API_KEY');
    for (const text of [providerError.message, providerError.stack, providerError.hint, String(providerError)]) {
      expect(text).not.toContain(apiKey);
    }
    const cause = providerError.cause as Error;
    expect(cause.message).not.toContain(apiKey);
    expect(cause.stack).not.toContain(apiKey);
    expect(server.requests).toHaveLength(1);
  });

  it('a 403 is PROVIDER_AUTH too', async () => {
    const server = await start({ handler: () => ({ status: 403, error: { message: 'Forbidden' } }) });
    const error = await rejection(providerFor(server, { apiKey: 'k-123456' }).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_AUTH', status: 403 });
  });

  it('a 404 for the model becomes PROVIDER_MODEL_NOT_FOUND naming the model', async () => {
    const server = await start({
      handler: () => ({ status: 404, error: { message: 'model "llama9" not found, try pulling it first' } }),
    });
    const error = await rejection(providerFor(server, { name: 'ollama' }).complete(request({ model: 'llama9' })));
    expect(error).toMatchObject({ code: 'PROVIDER_MODEL_NOT_FOUND', status: 404, exitCode: 2 });
    expect((error as Error).message).toContain('llama9');
    expect((error as ProviderError).hint).toContain('ollama pull llama9');
  });

  it('a baseURL without /v1 hits an unknown route: PROVIDER_ENDPOINT_NOT_FOUND', async () => {
    const server = await start();
    const provider = createOpenAIProvider({
      name: 'openai-compatible',
      baseURL: server.url.replace(/\/v1$/, ''),
      maxRetries: 0,
    });
    const error = await rejection(provider.complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_ENDPOINT_NOT_FOUND', status: 404 });
  });

  it('a server that is not running is PROVIDER_UNREACHABLE, naming the baseURL', async () => {
    const server = await start();
    await server.close();
    const error = await rejection(providerFor(server).complete(request()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'PROVIDER_UNREACHABLE' });
    expect((error as Error).message).toContain(server.url);
    expect((error as ProviderError).hint).toMatch(/running/);
  });

  it('a connection dropped mid-stream is PROVIDER_UNREACHABLE, not a partial answer', async () => {
    const server = await start({
      handler: () => ({ content: 'a fairly long answer that gets cut off', dropConnection: true }),
    });
    const error = await rejection(providerFor(server).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_UNREACHABLE' });
    expect((error as Error).message).toContain('before the answer was complete');
  });

  it('a server that does not answer in time is PROVIDER_TIMEOUT', async () => {
    const server = await start({ handler: () => ({ content: 'too late', delayMs: 2_000 }) });
    const error = await rejection(providerFor(server, { timeoutMs: 100 }).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_TIMEOUT' });
  });

  it('a stream that stalls between chunks is PROVIDER_TIMEOUT and the connection is closed', async () => {
    const server = await start({ handler: () => ({ content: 'slow '.repeat(10), chunkDelayMs: 2_000 }) });
    const error = await rejection(providerFor(server, { timeoutMs: 150 }).complete(request()));
    expect(error).toMatchObject({ code: 'PROVIDER_TIMEOUT' });
    await vi.waitFor(() => expect(server.requests[0]?.aborted).toBe(true));
  });

  it('estimates usage when the server sends none', async () => {
    const server = await start({ handler: () => ({ content: 'twelve chars', usage: null }) });
    const result = await providerFor(server).complete(request());
    expect(result.usage.estimated).toBe(true);
    // js-tiktoken (cl100k_base for a model it does not know): "twelve chars" is 3 tokens; the prompt is
    // 4 + 5 tokens of text, 3 of framing per message and 3 for the request.
    expect(result.usage.outputTokens).toBe(3);
    expect(result.usage.inputTokens).toBe(4 + 5 + 2 * 3 + 3);
  });

  it.each([
    ['length', 'length'],
    ['content_filter', 'content_filter'],
    ['function_call', 'tool_calls'],
    ['eos', 'other'],
  ] as const)('maps finish_reason %s to %s', async (wire, expected) => {
    const server = await start({ handler: () => ({ content: 'partial', finishReason: wire }) });
    const result = await providerFor(server).complete(request());
    expect(result.finishReason).toBe(expected);
    expect(result.text).toBe('partial');
  });

  it('sends a placeholder key to local servers and needs none', async () => {
    const server = await start();
    const result = await providerFor(server, { name: 'ollama' }).complete(request());
    expect(result.text).toBe('ok');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer not-needed');
  });

  it('refuses to build an openai provider without a key', () => {
    expect(() => createOpenAIProvider({ name: 'openai' })).toThrow(
      expect.objectContaining({ code: 'PROVIDER_NO_KEY', exitCode: 2 }),
    );
    expect(() => createOpenAIProvider({})).toThrow(/API key/);
  });

  it('an error thrown by onToken reaches the caller unchanged and closes the stream', async () => {
    const server = await start({ handler: () => ({ content: 'y'.repeat(200), chunkDelayMs: 20 }) });
    const boom = new Error('renderer failed');
    const error = await rejection(
      providerFor(server).complete(request(), {
        onToken: () => {
          throw boom;
        },
      }),
    );
    expect(error).toBe(boom);
    await vi.waitFor(() => expect(server.requests[0]?.aborted).toBe(true));
  });

  it('passes defaultHeaders and a custom fetch through to the SDK', async () => {
    const server = await start();
    const seen: string[] = [];
    const provider = providerFor(server, {
      defaultHeaders: { 'X-Gateway-Team': 'smol' },
      fetch: (input, init) => {
        seen.push(String(input));
        return fetch(input, init);
      },
    });
    await provider.complete(request());
    expect(seen).toEqual([`${server.url}/chat/completions`]);
    expect(server.requests[0]?.headers['x-gateway-team']).toBe('smol');
  });
});
