import { afterEach, describe, expect, it, vi } from 'vitest';
import { ollamaBaseURL } from '../../src/llm/connection.js';
import { createProvider } from '../../src/llm/create.js';
import { resolveProviderName } from '../../src/llm/detect.js';
import type { CompletionRequest } from '../../src/llm/types.js';
import { startOpenAIServer, type MockOpenAIServer } from '../helpers/openai-server.js';

const KEY = 'sk-test-create-0123456789';
const request: CompletionRequest = { stage: 'plan', model: 'm', messages: [{ role: 'user', content: 'hi' }] };

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('createProvider: choosing a provider', () => {
  it('picks openai when only OPENAI_API_KEY is set', () => {
    const { provider, description } = createProvider({ model: 'gpt-4o' }, { OPENAI_API_KEY: KEY });
    expect(provider.name).toBe('openai');
    expect(description).toBe('openai at https://api.openai.com/v1');
    expect(resolveProviderName({}, { OPENAI_API_KEY: KEY })).toBe('openai');
  });

  it('picks openai-compatible when a baseURL is set, in the frontmatter or OPENAI_BASE_URL', () => {
    const fromSettings = createProvider({ model: 'm', baseURL: 'http://127.0.0.1:8080/v1/' }, { OPENAI_API_KEY: KEY });
    expect(fromSettings.provider.name).toBe('openai-compatible');
    expect(fromSettings.description).toBe('openai-compatible at http://127.0.0.1:8080/v1');
    const fromEnv = createProvider({ model: 'm' }, { OPENAI_BASE_URL: 'http://localhost:1234/v1' });
    expect(fromEnv.description).toBe('openai-compatible at http://localhost:1234/v1');
    expect(resolveProviderName({ baseURL: 'http://x/v1' }, {})).toBe('openai-compatible');
  });

  it('says what to set when nothing is configured, and status gets a placeholder instead of a throw', () => {
    const error = errorOf(() => createProvider({ model: 'm' }, { OPENAI_API_KEY: '' }));
    expect(error).toMatchObject({ code: 'PROVIDER_NOT_CONFIGURED', exitCode: 2 });
    expect((error as { hint: string }).hint).toMatch(
      /OPENAI_API_KEY.*ANTHROPIC_API_KEY.*baseURL.*ollama.*smol doctor/s,
    );
    expect(resolveProviderName({}, {})).toBe('unconfigured');
  });

  it('an explicit provider wins over inference', () => {
    expect(createProvider({ model: 'm', provider: 'ollama' }, { OPENAI_API_KEY: KEY }).provider.name).toBe('ollama');
    expect(resolveProviderName({ provider: 'ollama', baseURL: 'http://x/v1' }, {})).toBe('ollama');
  });

  it('openai without a key is PROVIDER_NO_KEY', () => {
    const error = errorOf(() => createProvider({ model: 'm', provider: 'openai' }, {}));
    expect(error).toMatchObject({ code: 'PROVIDER_NO_KEY', exitCode: 2 });
    expect((error as { hint: string }).hint).toContain('OPENAI_API_KEY');
  });

  it('openai-compatible without a baseURL is PROVIDER_NOT_CONFIGURED', () => {
    const error = errorOf(() => createProvider({ model: 'm', provider: 'openai-compatible' }, { OPENAI_API_KEY: KEY }));
    expect(error).toMatchObject({ code: 'PROVIDER_NOT_CONFIGURED', exitCode: 2 });
    expect((error as Error).message).toContain('baseURL');
  });

  it('an unknown provider lists the supported ones', () => {
    const error = errorOf(() => createProvider({ model: 'm', provider: 'bard' }, {}));
    expect(error).toMatchObject({ code: 'PROVIDER_UNSUPPORTED' });
    expect((error as { hint: string }).hint).toContain('openai, azure, anthropic, ollama, openai-compatible');
  });

  it('rejects a base URL that is not http(s)', () => {
    const error = errorOf(() => createProvider({ model: 'm', baseURL: 'localhost:11434' }, {}));
    expect(error).toMatchObject({ code: 'PROVIDER_BAD_URL', exitCode: 2 });
  });

  it('never shows a key, nor credentials inside the URL', () => {
    const { description } = createProvider(
      { model: 'm', baseURL: 'https://user:hunter2@gateway.example.com/v1' },
      { OPENAI_API_KEY: KEY },
    );
    expect(description).not.toContain(KEY);
    expect(description).not.toContain('hunter2');
    expect(description).toBe('openai-compatible at https://***@gateway.example.com/v1');
  });
});

describe('ollamaBaseURL', () => {
  it.each([
    [undefined, 'http://127.0.0.1:11434/v1'],
    ['', 'http://127.0.0.1:11434/v1'],
    ['0.0.0.0', 'http://127.0.0.1:11434/v1'],
    ['0.0.0.0:11500', 'http://127.0.0.1:11500/v1'],
    ['gpu-box:11434', 'http://gpu-box:11434/v1'],
    ['http://gpu-box:9000/', 'http://gpu-box:9000/v1'],
    ['http://gpu-box:9000/v1', 'http://gpu-box:9000/v1'],
    ['https://ollama.example.com', 'https://ollama.example.com/v1'],
  ])('OLLAMA_HOST=%s gives %s', (host, expected) => {
    expect(ollamaBaseURL(host)).toBe(expected);
    expect(createProvider({ model: 'm', provider: 'ollama' }, { OLLAMA_HOST: host }).description).toBe(
      `ollama at ${expected}`,
    );
  });
});

describe('createProvider: the built provider talks to the server', () => {
  const servers: MockOpenAIServer[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  async function start() {
    const server = await startOpenAIServer();
    servers.push(server);
    return server;
  }

  it('openai-compatible sends OPENAI_API_KEY when there is one', async () => {
    const server = await start();
    const { provider } = createProvider(
      { model: 'm', baseURL: server.url },
      { OPENAI_API_KEY: KEY },
      { maxRetries: 0 },
    );
    await provider.complete(request);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('ollama reaches the server named by OLLAMA_HOST without any key', async () => {
    const server = await start();
    const host = new URL(server.url).host;
    const { provider } = createProvider({ model: 'm', provider: 'ollama' }, { OLLAMA_HOST: host }, { maxRetries: 0 });
    expect((await provider.complete(request)).text).toBe('ok');
    expect(server.requests[0]?.headers.authorization).toBe('Bearer not-needed');
  });

  it('openai follows the env it is given, not process.env', async () => {
    const server = await start();
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:9/v1');
    vi.stubEnv('OPENAI_ORG_ID', 'org-from-process-env');
    const { provider } = createProvider(
      { model: 'm', provider: 'openai' },
      { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: server.url, OPENAI_PROJECT_ID: 'proj-1' },
      { maxRetries: 0, timeoutMs: 5_000 },
    );
    await provider.complete(request);
    const headers = server.requests[0]?.headers;
    expect(headers?.authorization).toBe(`Bearer ${KEY}`);
    expect(headers?.['openai-organization']).toBeUndefined();
    expect(headers?.['openai-project']).toBe('proj-1');
  });

  it('uses the fetch override', async () => {
    const server = await start();
    let calls = 0;
    const { provider } = createProvider(
      { model: 'm', baseURL: server.url },
      {},
      {
        maxRetries: 0,
        fetch: (input, init) => {
          calls += 1;
          return fetch(input, init);
        },
      },
    );
    await provider.complete(request);
    expect(calls).toBe(1);
  });
});
