import { afterEach, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/llm/connection.js';
import { createProvider, detectAndCreateProvider } from '../../src/llm/create.js';
import { chooseProvider, detectProvider, resolveProviderName } from '../../src/llm/detect.js';
import type { CompletionRequest } from '../../src/llm/types.js';
import { startAnthropicServer, type MockAnthropicServer } from '../helpers/anthropic-server.js';
import { startOpenAIServer, type MockOpenAIServer } from '../helpers/openai-server.js';
import { createFakeClock } from './fake-clock.js';

const OPENAI = 'sk-test-openai-0123456789';
const ANTHROPIC = 'sk-ant-test-0123456789';
const AZURE = 'azure-test-key-0123456789';
const request: CompletionRequest = { stage: 'files', model: 'm', messages: [{ role: 'user', content: 'hi' }] };

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function openaiServer(options: Parameters<typeof startOpenAIServer>[0] = {}): Promise<MockOpenAIServer> {
  const server = await startOpenAIServer(options);
  servers.push(server);
  return server;
}
async function anthropicServer(): Promise<MockAnthropicServer> {
  const server = await startAnthropicServer();
  servers.push(server);
  return server;
}

describe('detection order (no network)', () => {
  it.each([
    [
      'provider wins over everything',
      { provider: 'ollama', baseURL: 'http://x/v1' },
      { OPENAI_API_KEY: OPENAI },
      'ollama',
      'provider: ollama is set',
    ],
    [
      'azure.endpoint',
      { azure: { endpoint: 'https://r.openai.azure.com' } },
      { OPENAI_API_KEY: OPENAI },
      'azure',
      '`azure.endpoint` is set',
    ],
    [
      'baseURL',
      { baseURL: 'http://127.0.0.1:8080/v1' },
      { ANTHROPIC_API_KEY: ANTHROPIC },
      'openai-compatible',
      '`baseURL` is set',
    ],
    [
      'OPENAI_BASE_URL',
      {},
      { OPENAI_BASE_URL: 'http://127.0.0.1:8080/v1', OPENAI_API_KEY: OPENAI },
      'openai-compatible',
      'OPENAI_BASE_URL is set',
    ],
    [
      'a Claude model prefers ANTHROPIC_API_KEY',
      { model: 'claude-sonnet-4-5' },
      { OPENAI_API_KEY: OPENAI, ANTHROPIC_API_KEY: ANTHROPIC },
      'anthropic',
      'ANTHROPIC_API_KEY is set and claude-sonnet-4-5 is a Claude model',
    ],
    [
      'OPENAI_API_KEY before ANTHROPIC_API_KEY',
      { model: 'gpt-4o' },
      { OPENAI_API_KEY: OPENAI, ANTHROPIC_API_KEY: ANTHROPIC },
      'openai',
      'OPENAI_API_KEY is set',
    ],
    [
      'ANTHROPIC_API_KEY',
      { model: 'whatever' },
      { ANTHROPIC_API_KEY: ANTHROPIC },
      'anthropic',
      'ANTHROPIC_API_KEY is set',
    ],
    [
      'Azure keys',
      {},
      { AZURE_OPENAI_API_KEY: AZURE, AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com' },
      'azure',
      'AZURE_OPENAI_API_KEY and AZURE_OPENAI_ENDPOINT are set',
    ],
  ] as const)('%s', (_label, settings, env, name, reason) => {
    expect(chooseProvider(settings, env)).toEqual({ name, reason });
    expect(resolveProviderName(settings, env)).toBe(name);
  });

  it('an Azure key without an endpoint is not enough, and empty variables count as unset', () => {
    expect(chooseProvider({}, { AZURE_OPENAI_API_KEY: AZURE })).toBeUndefined();
    expect(chooseProvider({}, { OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' })).toBeUndefined();
    expect(resolveProviderName({}, { OPENAI_API_KEY: '' })).toBe('unconfigured');
  });

  it('createProvider says why it chose, and its description (the cache identity) does not depend on why', () => {
    const detected = createProvider({ model: 'gpt-4o' }, { OPENAI_API_KEY: OPENAI });
    const explicit = createProvider({ model: 'gpt-4o', provider: 'openai' }, { OPENAI_API_KEY: OPENAI });
    expect(detected.reason).toBe('OPENAI_API_KEY is set');
    expect(explicit.reason).toBe('provider: openai is set');
    expect(detected.description).toBe(explicit.description);
  });

  it('resolveConnection lists what is missing without throwing, and never holds a key', () => {
    const azure = resolveConnection('azure', { model: 'gpt-4o' }, {});
    expect(azure.problems.map((problem) => problem.code)).toEqual(['PROVIDER_NO_KEY', 'PROVIDER_NOT_CONFIGURED']);
    const anthropic = resolveConnection(
      'anthropic',
      { baseURL: 'http://127.0.0.1:9/v1' },
      { ANTHROPIC_API_KEY: ANTHROPIC },
    );
    expect(anthropic).toMatchObject({
      url: 'http://127.0.0.1:9',
      keyVariable: 'ANTHROPIC_API_KEY',
      keySet: true,
      problems: [],
    });
    expect(JSON.stringify(anthropic)).not.toContain(ANTHROPIC);
  });
});

describe('detectProvider: a local Ollama as the last resort', () => {
  it('picks Ollama when nothing is configured and OLLAMA_HOST answers /api/tags, and says so', async () => {
    const server = await openaiServer({ models: ['qwen2.5-coder:7b'] });
    const env = { OLLAMA_HOST: new URL(server.origin).host };
    const choice = await detectProvider({ model: 'qwen2.5-coder:7b' }, env);
    expect(choice).toEqual({
      name: 'ollama',
      reason: `no provider, baseURL or API key is set, and Ollama answered at ${server.origin}`,
    });
    const { provider, description } = await detectAndCreateProvider({ model: 'qwen2.5-coder:7b' }, env, {
      maxRetries: 0,
    });
    expect(description).toBe(`ollama at ${server.url}`);
    expect((await provider.complete(request)).text).toBe('ok');
  });

  it('does not probe when something is configured', async () => {
    let probes = 0;
    const fetchCounting: typeof fetch = (input, init) => {
      probes += 1;
      return fetch(input, init);
    };
    await detectProvider({}, { OPENAI_API_KEY: OPENAI }, { fetch: fetchCounting });
    expect(probes).toBe(0);
  });

  it("takes only an answer shaped like Ollama's tag list (the answer is untrusted)", async () => {
    const answering =
      (body: string): typeof fetch =>
      async () =>
        new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    const env = { OLLAMA_HOST: '127.0.0.1:9' };
    for (const body of ['null', '[]', '"models"', '{"models":"x"}', '{"models":{}}', '{}', '{"models":', 'not json']) {
      await expect(detectProvider({}, env, { fetch: answering(body) })).rejects.toMatchObject({
        code: 'PROVIDER_NOT_CONFIGURED',
      });
    }
    for (const body of ['{"models":[]}', '{"models":[{"name":"m"}],"extra":1}']) {
      expect((await detectProvider({}, env, { fetch: answering(body) })).name).toBe('ollama');
    }
  });

  it('gives up quickly with PROVIDER_NOT_CONFIGURED when nothing answers, or the answer is not Ollama', async () => {
    const closed = await openaiServer();
    await closed.close();
    await expect(
      detectProvider({}, { OLLAMA_HOST: new URL(closed.origin).host }, { probeTimeoutMs: 200 }),
    ).rejects.toMatchObject({ code: 'PROVIDER_NOT_CONFIGURED' });
    const notOllama = await openaiServer({ ollamaTags: false });
    await expect(detectProvider({}, { OLLAMA_HOST: new URL(notOllama.origin).host })).rejects.toMatchObject({
      code: 'PROVIDER_NOT_CONFIGURED',
    });
  });
});

describe('every provider, built by createProvider, reaches its server', () => {
  it('azure: the deployments URL shape, api-version, api-key header, and the smol headers', async () => {
    const server = await openaiServer();
    const { provider, description } = createProvider(
      { model: 'gpt-4o', provider: 'azure', azure: { endpoint: `${server.origin}/`, deployment: 'prod-gpt4o' } },
      {
        AZURE_OPENAI_API_KEY: AZURE,
        OPENAI_API_VERSION: '2025-01-01-preview',
        OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      },
      { maxRetries: 0 },
    );
    expect(provider.name).toBe('azure');
    expect(description).toBe(`azure at ${server.origin} (deployment prod-gpt4o, api-version 2025-01-01-preview)`);
    await provider.complete({ ...request, stage: 'code', file: 'src/a.ts' });
    const seen = server.requests[0]!;
    expect(seen).toMatchObject({
      deployment: 'prod-gpt4o',
      apiVersion: '2025-01-01-preview',
      stage: 'code',
      file: 'src/a.ts',
    });
    expect(seen.headers['api-key']).toBe(AZURE);
    expect(seen.headers.authorization).toBeUndefined();
  });

  it('azure from the environment alone: the model names the deployment, the default api-version', async () => {
    const server = await openaiServer();
    const { provider } = createProvider(
      { model: 'gpt-4o-mini' },
      { AZURE_OPENAI_API_KEY: AZURE, AZURE_OPENAI_ENDPOINT: `${server.origin}/openai` },
      { maxRetries: 0 },
    );
    await provider.complete({ ...request, model: 'gpt-4o-mini' });
    expect(server.requests[0]).toMatchObject({ deployment: 'gpt-4o-mini', apiVersion: '2024-10-21' });
  });

  it('anthropic: ANTHROPIC_API_KEY sent as the SDK sends it, a /v1 baseURL tolerated', async () => {
    const server = await anthropicServer();
    const { provider, description } = createProvider(
      { model: 'claude-sonnet-4-5', baseURL: `${server.url}/v1`, provider: 'anthropic' },
      { ANTHROPIC_API_KEY: ANTHROPIC },
      { maxRetries: 0 },
    );
    expect(description).toBe(`anthropic at ${server.url}`);
    expect((await provider.complete(request)).text).toBe('ok');
    const headers = server.requests[0]?.headers;
    // SDK 1.x sends the key as a bearer token (older versions used x-api-key); either way it is the env's.
    expect([headers?.['x-api-key'], headers?.authorization]).toContain(
      headers?.['x-api-key'] === undefined ? `Bearer ${ANTHROPIC}` : ANTHROPIC,
    );
    expect(headers?.['anthropic-version']).toBeDefined();
    expect(server.requests[0]?.stage).toBe('files');
  });

  it('anthropic: ANTHROPIC_BASE_URL is honoured', async () => {
    const server = await anthropicServer();
    const { provider } = createProvider(
      { model: 'claude-haiku-4-5' },
      { ANTHROPIC_API_KEY: ANTHROPIC, ANTHROPIC_BASE_URL: server.url },
      { maxRetries: 0 },
    );
    await provider.complete(request);
    expect(server.requests).toHaveLength(1);
  });

  it('openai-compatible: the provider it builds is rate limited by the spec (rpm)', async () => {
    const server = await openaiServer();
    const clock = createFakeClock();
    const { provider } = createProvider(
      { model: 'm', baseURL: server.url, rateLimit: { rpm: 1 } },
      {},
      { maxRetries: 0, clock },
    );
    await provider.complete(request);
    const second = provider.complete(request);
    await clock.waitForSleepers(1);
    expect(server.requests).toHaveLength(1);
    await clock.advance(60_000);
    await second;
    expect(server.requests).toHaveLength(2);
  });
});
