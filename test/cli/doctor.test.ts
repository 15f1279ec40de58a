import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { runMain as runCli } from '../helpers/main-in-process.js';
import { startAnthropicServer, type MockAnthropicServer } from '../helpers/anthropic-server.js';
import { startOpenAIServer, type MockOpenAIServer } from '../helpers/openai-server.js';
import { FAKE_KEY, specText } from '../helpers/project.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function folder(): Promise<string> {
  const { dir, cleanup } = await tempDir();
  cleanups.push(cleanup);
  return dir;
}
async function openai(models: string[]): Promise<MockOpenAIServer> {
  const server = await startOpenAIServer({ models });
  cleanups.push(() => server.close());
  return server;
}

interface Report {
  ok: boolean;
  provider?: string;
  reason?: string;
  checks: { name: string; status: string; message: string }[];
}

describe('smol doctor', () => {
  it('with no spec file, from flags and the environment: all good, exit 0, never a completion call, never the key', async () => {
    const server = await openai(['qwen2.5-coder']);
    const cwd = await folder();
    const env = { OPENAI_API_KEY: FAKE_KEY };
    const human = await runCli(['doctor', '--model', 'qwen2.5-coder', '--base-url', server.url], { cwd, env });
    expect(human.code).toBe(0);
    // The report is the command's result: stdout, so `smol doctor | less` shows it.
    expect(human.stderr).toBe('');
    expect(human.stdout).toContain('no prompt.md here: using flags and the environment');
    expect(human.stdout).toContain(`openai-compatible at ${server.url} (\`baseURL\` is set)`);
    expect(human.stdout).toContain('OPENAI_API_KEY is set');
    expect(human.stdout).toContain('qwen2.5-coder is available');
    expect(human.stdout).toContain('ready: a run would work');
    expect(human.stdout).toContain('`smol doctor --probe` also tries one small model call');

    const json = await runCli(['doctor', '--json', '--model', 'qwen2.5-coder', '--base-url', server.url], { cwd, env });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as Report;
    expect(report).toMatchObject({ ok: true, provider: 'openai-compatible', reason: '`baseURL` is set' });
    expect(report.checks.map((check) => check.name)).toEqual([
      'spec',
      'provider',
      'key',
      'server',
      'model',
      'features',
      'price',
    ]);
    expect(server.requests).toHaveLength(0);
    for (const output of [human.stdout, human.stderr, json.stdout, json.stderr]) expect(output).not.toContain(FAKE_KEY);
  });

  it('reads the spec, says what is missing, and exits 1', async () => {
    const cwd = await folder();
    await writeFile(
      path.join(cwd, 'prompt.md'),
      specText({ settings: { model: 'claude-sonnet-4-5', provider: 'anthropic' } }),
    );
    const result = await runCli(['doctor', '--json'], { cwd });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.checks.find((check) => check.name === 'spec')).toMatchObject({ status: 'ok', message: 'prompt.md' });
    expect(report.checks.find((check) => check.name === 'key')).toMatchObject({
      status: 'fail',
      message: 'ANTHROPIC_API_KEY is not set.',
    });
  });

  it('anthropic: checks the model on the models endpoint', async () => {
    const server: MockAnthropicServer = await startAnthropicServer({ models: ['claude-haiku-4-5-20251001'] });
    cleanups.push(() => server.close());
    const cwd = await folder();
    const env = { ANTHROPIC_API_KEY: FAKE_KEY, ANTHROPIC_BASE_URL: server.url };
    const ok = await runCli(['doctor', '--model', 'claude-haiku-4-5'], { cwd, env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ANTHROPIC_API_KEY is set');
    expect(ok.stdout).toContain('claude-haiku-4-5 is available');
    const missing = await runCli(['doctor', '--model', 'claude-nine'], { cwd, env });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/FAIL\s+model\s+claude-nine is not offered/);
    // The last line says what to do first, not "run smol doctor".
    expect(missing.stdout.trim().split('\n').at(-1)).toMatch(
      /^1 problem to fix before a run can work; first: Set `model` \(or --model\) to one the server offers\.$/,
    );
  });

  it('a server that is down fails the server check and names the URL', async () => {
    const server = await openai([]);
    await server.close();
    const cwd = await folder();
    const result = await runCli(['doctor', '--model', 'm', '--base-url', server.url], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+server\s+Could not connect to openai-compatible at http:\/\/127\.0\.0\.1/);
  });

  it('nothing configured: the advice says what to set, never "run smol doctor"', async () => {
    const cwd = await folder();
    const result = await runCli(['doctor', '--model', 'm'], { cwd, env: { OLLAMA_HOST: '127.0.0.1:9' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+provider\s+No model provider is configured\./);
    expect(result.stdout).toContain('Set OPENAI_API_KEY for OpenAI or ANTHROPIC_API_KEY for Anthropic');
    expect(result.stdout).not.toContain('smol doctor` shows');
  });

  it('--probe on llama.cpp without --jinja: one small call through a JSON schema works; asked for tools, it reports the refusal and the fallback', async () => {
    const files = JSON.stringify({
      files: [
        { path: 'src/main.js', purpose: 'entry', dependsOn: ['src/greeting.js'] },
        { path: 'src/greeting.js', purpose: 'greeting', dependsOn: [] },
      ],
    });
    const server = await startOpenAIServer({
      models: ['qwen2.5-coder-1.5b-q4.gguf'],
      quirks: { tools: 'refuse-500', props: { nCtx: 16384 } },
      handler: (request) =>
        request.body.response_format === undefined && request.body.tools === undefined
          ? { content: files }
          : { toolCalls: [{ name: 'submit_file_list', arguments: files }] },
    });
    cleanups.push(() => server.close());
    const cwd = await folder();
    const auto = await runCli(['doctor', '--probe', '--model', 'qwen2.5-coder:1.5b', '--base-url', server.url], {
      cwd,
    });
    expect(auto.code).toBe(0);
    expect(auto.stdout).toMatch(/warn\s+model\s+the server offers one model, qwen2\.5-coder-1\.5b-q4\.gguf/);
    expect(auto.stdout).toMatch(/ok\s+features\s+llama\.cpp b6000-mock; context window 16384 tokens; JSON schema: yes/);
    expect(auto.stdout).toMatch(
      /ok\s+probe\s+the model listed 2 files through a JSON schema \(response_format\) in \d+\.\ds/,
    );
    expect(server.requests).toHaveLength(1);

    await writeFile(
      path.join(cwd, 'prompt.md'),
      specText({ settings: { model: 'qwen2.5-coder-1.5b-q4.gguf', fileList: 'tools' } }),
    );
    const tools = await runCli(['doctor', '--probe', '--json', '--base-url', server.url], { cwd });
    const probe = (JSON.parse(tools.stdout) as Report).checks.find((check) => check.name === 'probe');
    expect(probe).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(
        /through JSON in the text .*; the server refused tools \(tools param requires --jinja flag\)/,
      ),
    });
    // One refused request (never retried), then the text route.
    expect(server.requests.slice(1).map((request) => request.body.tools !== undefined)).toEqual([true, false]);
  });

  it('a bad spec is reported as a failed check, not a crash', async () => {
    const cwd = await folder();
    await writeFile(path.join(cwd, 'prompt.md'), '---\nmodel: gpt-4o\nconcurency: 3\n---\nText\n');
    const result = await runCli(['doctor', '--json'], {
      cwd,
      env: { OPENAI_API_KEY: FAKE_KEY, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' },
    });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.checks[0]).toMatchObject({ name: 'spec', status: 'fail' });
    expect(report.checks[0]!.message).toContain('concurency');
  });
});
