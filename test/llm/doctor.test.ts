import { afterEach, describe, expect, it } from 'vitest';
import { diagnose, type DoctorReport } from '../../src/llm/doctor.js';
import { startAnthropicServer } from '../helpers/anthropic-server.js';
import { startOpenAIServer, type OpenAIServerOptions } from '../helpers/openai-server.js';

const KEY = 'sk-test-doctor-SECRET-42';
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function openai(options: OpenAIServerOptions = {}) {
  const server = await startOpenAIServer(options);
  servers.push(server);
  return server;
}
const status = (report: DoctorReport) => Object.fromEntries(report.checks.map((check) => [check.name, check.status]));

describe('diagnose', () => {
  it('an OpenAI-compatible server that offers the model: all good, no completion call, no key in the report', async () => {
    const server = await openai({ models: ['llama-3.1-8b', 'qwen'] });
    const report = await diagnose({ model: 'qwen', baseURL: server.url }, { OPENAI_API_KEY: KEY });
    expect(report).toMatchObject({
      ok: true,
      provider: 'openai-compatible',
      reason: '`baseURL` is set',
      model: 'qwen',
      url: server.url,
    });
    expect(status(report)).toEqual({
      provider: 'ok',
      key: 'ok',
      server: 'ok',
      model: 'ok',
      features: 'ok',
      price: 'warn',
    });
    expect(report.checks.find((check) => check.name === 'features')?.message).toMatch(
      /does not say what it supports; the file list is asked for with a JSON schema/,
    );
    expect(server.requests).toHaveLength(0);
    expect(JSON.stringify(report)).not.toContain(KEY);
  });

  it('a model the server does not offer fails, listing what it offers', async () => {
    const server = await openai({ models: ['llama-3.1-8b', 'qwen'] });
    const report = await diagnose({ model: 'gpt-9', baseURL: server.url }, {});
    expect(report.ok).toBe(false);
    expect(report.checks.find((check) => check.name === 'model')).toMatchObject({
      status: 'fail',
      message: 'gpt-9 is not offered by the server; it offers: llama-3.1-8b, qwen',
    });
  });

  it('a one-model server (llama.cpp answers any name) is a warning naming its model, not a failure', async () => {
    const server = await openai({ models: ['qwen2.5-coder-1.5b-instruct-q4_k_m.gguf'] });
    const report = await diagnose({ model: 'qwen2.5-coder:1.5b', baseURL: server.url }, {});
    expect(report.ok).toBe(true);
    expect(report.checks.find((check) => check.name === 'model')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('the server offers one model, qwen2.5-coder-1.5b-instruct-q4_k_m.gguf'),
      hint: 'Set `model: qwen2.5-coder-1.5b-instruct-q4_k_m.gguf` to say which model answers (it also keys the response cache).',
    });
  });

  it('llama.cpp: reads /props (context window, tool support) without a completion, and warns when maxTokens fills the context', async () => {
    const server = await openai({ models: ['model.gguf'], quirks: { props: { nCtx: 4096, supportsTools: true } } });
    const report = await diagnose({ model: 'model.gguf', baseURL: server.url, maxTokens: 8192 }, {});
    const features = report.checks.find((check) => check.name === 'features')!;
    expect(features.status).toBe('warn');
    expect(features.message).toMatch(
      /^llama\.cpp b6000-mock; context window 4096 tokens; JSON schema: yes; tools: yes \(tools work only if the server was started with `--jinja`/,
    );
    expect(features.message).toContain('The file list is asked for with a JSON schema');
    expect(features.hint).toContain('llama-server -c 16384');
    const roomy = await diagnose({ model: 'model.gguf', baseURL: server.url, maxTokens: 2048 }, {});
    expect(roomy.checks.find((check) => check.name === 'features')?.status).toBe('ok');
    expect(report.ok).toBe(true);
    expect(server.requests).toHaveLength(0);
  });

  it('ollama: reads the model capabilities and num_ctx from /api/show', async () => {
    const server = await openai({
      models: ['qwen2.5-coder:7b'],
      quirks: { ollama: { version: '0.12.3', capabilities: ['completion', 'tools'], numCtx: 32768 } },
    });
    const report = await diagnose({ model: 'qwen2.5-coder:7b', provider: 'ollama', baseURL: server.url }, {});
    expect(report.checks.find((check) => check.name === 'features')).toMatchObject({
      status: 'ok',
      message: expect.stringMatching(
        /^ollama 0\.12\.3; context window 32768 tokens; JSON schema: yes; tools: yes \(the model is tagged "tools"\)/,
      ),
    });
  });

  it('finds a local Ollama when nothing is configured, matches `name:latest`, and says `ollama pull` when missing', async () => {
    const server = await openai({ models: ['llama3.2:latest'] });
    const env = { OLLAMA_HOST: new URL(server.origin).host };
    const found = await diagnose({ model: 'llama3.2' }, env);
    expect(found).toMatchObject({ ok: true, provider: 'ollama' });
    expect(found.reason).toContain('Ollama answered');
    expect(found.checks.find((check) => check.name === 'price')?.message).toBe('free (local provider)');
    const missing = await diagnose({ model: 'mistral' }, env);
    expect(missing.checks.find((check) => check.name === 'model')?.hint).toContain('ollama pull mistral');
  });

  it('a refused key fails the key check; a server that does not list models is only a warning', async () => {
    const refusing = await openai({ modelsStatus: 401 });
    const refused = await diagnose(
      { model: 'gpt-4o', provider: 'openai', baseURL: refusing.url },
      { OPENAI_API_KEY: KEY },
    );
    expect(refused.checks.find((check) => check.name === 'key')).toMatchObject({ status: 'fail' });
    expect(refused.ok).toBe(false);
    const silent = await openai({ noModelList: true });
    const unlisted = await diagnose({ model: 'gpt-4o', baseURL: silent.url }, {});
    expect(unlisted.ok).toBe(true);
    expect(unlisted.checks.find((check) => check.name === 'model')).toMatchObject({ status: 'warn' });
  });

  it('says what is missing: no provider, no key, no model; an unknown price with a budget fails', async () => {
    const nothing = await diagnose({}, { OLLAMA_HOST: '127.0.0.1:9' });
    expect(status(nothing)).toEqual({ provider: 'fail', model: 'fail' });
    const noKey = await diagnose({ model: 'gpt-4o', provider: 'openai' }, {});
    expect(noKey.checks.find((check) => check.name === 'key')).toMatchObject({
      status: 'fail',
      message: 'OPENAI_API_KEY is not set.',
    });
    const server = await openai({ models: ['local'] });
    const budget = await diagnose({ model: 'local', baseURL: server.url, budget: { usd: 5 } }, {});
    expect(budget.checks.find((check) => check.name === 'price')).toMatchObject({ status: 'fail' });
    const priced = await diagnose(
      { model: 'local', baseURL: server.url, budget: { usd: 5 }, price: { input: 0, output: 0 } },
      {},
    );
    expect(priced.ok).toBe(true);
  });

  it('anthropic: checks the model on the models endpoint, aliases included', async () => {
    const server = await startAnthropicServer({ models: ['claude-sonnet-4-5-20250929'] });
    servers.push(server);
    const env = { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: server.url };
    const ok = await diagnose({ model: 'claude-sonnet-4-5' }, env);
    expect(ok).toMatchObject({ ok: true, provider: 'anthropic' });
    expect(ok.checks.find((check) => check.name === 'model')?.message).toBe(
      'claude-sonnet-4-5 is available (as claude-sonnet-4-5-20250929)',
    );
    expect(ok.checks.find((check) => check.name === 'price')?.message).toContain('$3.00 in / $15.00 out');
    const missing = await diagnose({ model: 'claude-nine' }, env);
    expect(missing.checks.find((check) => check.name === 'model')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('claude-sonnet-4-5-20250929'),
    });
    expect(server.requests).toHaveLength(0);
  });

  it('azure: lists the resource models with the api-version and the api-key header', async () => {
    const server = await openai({ models: ['gpt-4o'] });
    const report = await diagnose(
      { model: 'gpt-4o', provider: 'azure', azure: { endpoint: server.origin, deployment: 'prod' } },
      { AZURE_OPENAI_API_KEY: KEY },
    );
    expect(report.ok).toBe(true);
    expect(report.checks.find((check) => check.name === 'model')?.message).toMatch(
      /deployment prod cannot be listed on Azure; gpt-4o is a model the resource offers/,
    );
  });
});
