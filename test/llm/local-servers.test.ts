import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withResponseCache } from '../../src/llm/cache.js';
import { createProvider } from '../../src/llm/create.js';
import type { CompletionRequest, Provider } from '../../src/llm/types.js';
import { fileListStage, type StageContext, type StageWarning } from '../../src/plan/stages.js';
import { generateFileStage, planStage } from '../../src/plan/stages.js';
import type { SpecPromptParts } from '../../src/plan/templates.js';
import { startOpenAIServer, type MockOpenAIServer, type OpenAIServerOptions } from '../helpers/openai-server.js';

// Local model servers as they really behave (issue 16), through the real openai SDK and real HTTP.

const SPEC: SpecPromptParts = { globalText: 'A tiny CLI.', includes: [], sections: [] };
const PLAN = '## Global\n\nNode.\n\n### `src/index.ts`\n\nEntry.\n\n### `src/util.ts`\n\nHelpers.\n';
const FILES = [
  { path: 'src/index.ts', purpose: 'entry', dependsOn: ['src/util.ts'] },
  { path: 'src/util.ts', purpose: 'helpers', dependsOn: [] },
];
const LIST = { toolCalls: [{ name: 'submit_file_list', arguments: JSON.stringify({ files: FILES }) }] };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function server(options: OpenAIServerOptions): Promise<MockOpenAIServer> {
  const started = await startOpenAIServer(options);
  cleanups.push(() => started.close());
  return started;
}

/** The provider a run builds (SDK retries left at their default of 3), for an `openai-compatible` server. */
function local(at: MockOpenAIServer, name = 'openai-compatible'): Provider {
  return createProvider({ model: 'm', provider: name, baseURL: at.url }, {}).provider;
}

function context(provider: Provider, extra: Partial<StageContext> = {}): StageContext {
  return { provider, model: 'm', temperature: 0, maxTokens: 2000, ...extra };
}

describe('llama.cpp without --jinja: 500 on any request with tools', () => {
  it('falls back at once (one request, no SDK retries), remembers it for the run, and never re-asks', async () => {
    const llama = await server({ handler: () => LIST, quirks: { tools: 'refuse-500' } });
    const provider = local(llama);
    const first = await fileListStage(context(provider, { fileList: 'tools' }), SPEC, PLAN);
    expect(first.value).toEqual(FILES);
    expect(first.route).toBe('text');
    expect(llama.requests.map((request) => request.body.tools === undefined)).toEqual([false, true]);

    // Later in the same run: straight to the route that works.
    await fileListStage(context(provider, { fileList: 'tools' }), SPEC, PLAN);
    expect(llama.requests.filter((request) => request.body.tools !== undefined)).toHaveLength(1);
  });

  it('the error itself says what it is and what to do, when nothing catches it', async () => {
    const llama = await server({ handler: () => LIST, quirks: { tools: 'refuse-500' } });
    const request: CompletionRequest = {
      stage: 'files',
      model: 'm',
      messages: [{ role: 'user', content: 'list' }],
      tools: [{ name: 'submit_file_list', description: 'd', parameters: { type: 'object' } }],
      toolChoice: 'submit_file_list',
    };
    const error = await local(llama)
      .complete(request)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'PROVIDER_TOOLS_UNSUPPORTED',
      message: `openai-compatible at ${llama.url} does not take tool calls: tools param requires --jinja flag`,
    });
    expect((error as { hint: string }).hint).toContain('llama-server --jinja');
    expect(llama.requests).toHaveLength(1);
  });

  it('the response cache keeps the refusal, so the next run does not ask again', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'smol-cache-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const llama = await server({ handler: () => LIST, quirks: { tools: 'refuse-500' } });
    const cached = () => withResponseCache(local(llama), { dir, identity: 'llama' });
    const firstRun = cached();
    expect((await fileListStage(context(firstRun, { fileList: 'tools' }), SPEC, PLAN)).value).toEqual(FILES);
    await firstRun.settled();
    const sent = llama.requests.length;
    // A new provider (a new run): the refusal and the answer both come from the cache.
    const again = await fileListStage(context(cached(), { fileList: 'tools' }), SPEC, PLAN);
    expect(again.value).toEqual(FILES);
    expect(again.cached).toBe(true);
    expect(llama.requests).toHaveLength(sent);
  });
});

describe('the file list route', () => {
  it('auto on a local server asks for a JSON schema (response_format), which the server constrains the answer to', async () => {
    const llama = await server({ handler: () => LIST });
    const result = await fileListStage(context(local(llama)), SPEC, PLAN);
    expect(result).toMatchObject({ value: FILES, route: 'json-schema', repaired: false });
    const body = llama.requests[0]!.body;
    expect(body.tools).toBeUndefined();
    expect(body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'submit_file_list', schema: { type: 'object', required: ['files'] } },
    });
    // No `$schema` dialect key and no `strict` for servers other than OpenAI.
    expect(body.response_format.json_schema.schema.$schema).toBeUndefined();
    expect(body.response_format.json_schema.strict).toBeUndefined();
  });

  it('auto on OpenAI forces the tool call with the object form; a JSON schema is strict there', async () => {
    const openai = await server({ handler: () => LIST });
    const provider = createProvider(
      { model: 'm', provider: 'openai', baseURL: openai.url },
      { OPENAI_API_KEY: 'sk-test' },
    ).provider;
    expect((await fileListStage(context(provider), SPEC, PLAN)).route).toBe('tools');
    expect(openai.requests[0]!.body.tool_choice).toEqual({ type: 'function', function: { name: 'submit_file_list' } });
    expect((await fileListStage(context(provider, { fileList: 'json-schema' }), SPEC, PLAN)).route).toBe('json-schema');
    expect(openai.requests[1]!.body.response_format.json_schema.strict).toBe(true);
  });

  it('a server that refuses the schema and tools ends with JSON in the text', async () => {
    const picky = await server({
      handler: (request) =>
        request.body.tools === undefined && request.body.response_format === undefined
          ? { content: JSON.stringify({ files: FILES }) }
          : LIST,
      quirks: { tools: 'refuse-400', jsonSchema: 'refuse' },
    });
    const result = await fileListStage(context(local(picky)), SPEC, PLAN);
    expect(result).toMatchObject({ value: FILES, route: 'text' });
    expect(
      picky.requests.map((request) =>
        request.body.response_format !== undefined
          ? 'json-schema'
          : request.body.tools !== undefined
            ? 'tools'
            : 'text',
      ),
    ).toEqual(['json-schema', 'tools', 'text']);
  });

  it('llama.cpp with --jinja ignores the object form of tool_choice: smol sends "required", which it forces', async () => {
    const llama = await server({ handler: () => LIST, quirks: { toolChoiceObject: 'ignore' } });
    const result = await fileListStage(context(local(llama), { fileList: 'tools' }), SPEC, PLAN);
    expect(result).toMatchObject({ value: FILES, route: 'tools', repaired: false });
    expect(llama.requests[0]!.body.tool_choice).toBe('required');
  });

  it('a server refusing "required" (older vLLM) gets the object form once, and from then on', async () => {
    const vllm = await server({ handler: () => LIST, quirks: { toolChoiceString: 'refuse' } });
    const provider = local(vllm);
    expect((await fileListStage(context(provider, { fileList: 'tools' }), SPEC, PLAN)).route).toBe('tools');
    await fileListStage(context(provider, { fileList: 'tools' }), SPEC, PLAN);
    expect(
      vllm.requests.map((request) => (typeof request.body.tool_choice === 'string' ? 'string' : 'object')),
    ).toEqual(['string', 'object', 'object']);
  });

  it('a schema the server ignores (prose) gets one repair, still with the schema', async () => {
    let calls = 0;
    const lax = await server({
      handler: () => (calls++ === 0 ? { ...LIST, prose: 'Here you go: an index and a util file.' } : LIST),
      quirks: { jsonSchema: 'ignore' },
    });
    await expect(fileListStage(context(local(lax)), SPEC, PLAN)).rejects.toMatchObject({ code: 'FILE_LIST_INVALID' });
    expect(lax.requests).toHaveLength(2);
    expect(lax.requests[1]!.body.response_format?.type).toBe('json_schema');
    expect((lax.requests[1]!.body.messages as { content: string }[]).at(-1)!.content).toMatch(
      /could not be used: it contains no JSON/,
    );
  });

  it('file names with a space or a comma are used, with a warning', async () => {
    const odd = [
      { path: 'src/a.ts, src/b.ts', purpose: 'two in one', dependsOn: [] },
      { path: 'docs/read me.md', purpose: 'docs', dependsOn: [] },
      { path: 'src/ok.ts', purpose: 'fine', dependsOn: [] },
    ];
    const llama = await server({
      handler: () => ({ toolCalls: [{ name: 'submit_file_list', arguments: JSON.stringify({ files: odd }) }] }),
    });
    const warnings: StageWarning[] = [];
    const result = await fileListStage(
      context(local(llama), { onWarning: (warning) => warnings.push(warning) }),
      SPEC,
      PLAN,
    );
    expect(result.value.map((file) => file.path)).toEqual(odd.map((file) => file.path));
    expect(warnings.map((warning) => [warning.code, warning.path])).toEqual([
      ['odd-file-name', 'src/a.ts, src/b.ts'],
      ['odd-file-name', 'docs/read me.md'],
    ]);
    expect(warnings[0]!.message).toContain('comma');
  });
});

describe('the context window', () => {
  it('an answer that stops short of maxTokens says the server context is full and how to raise it (llama.cpp -c), not "raise maxTokens"', async () => {
    const small = await server({
      handler: () => ({ content: `\`\`\`ts\n${'export const x = 1;\n'.repeat(400)}\`\`\`` }),
      quirks: { contextTokens: 600 },
    });
    const error = await generateFileStage(
      context(local(small), { maxTokens: 8192 }),
      inputs('src/x.ts'),
      undefined,
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'FILE_FAILED' });
    expect((error as Error).message).toMatch(
      /src\/x\.ts: the answer was cut off by the token limit after \d+ tokens, short of maxTokens \(8192\): the server's context window is full \(raise the server's context \(llama\.cpp -c, vLLM --max-model-len\), or send less\); nothing written/,
    );
    expect((error as { hint: string }).hint).toContain('llama-server -c 16384');
    expect((error as { hint: string }).hint).not.toMatch(/^Raise `maxTokens`/);
  });

  it('an answer cut at maxTokens still says to raise maxTokens', async () => {
    const cut = await server({
      handler: () => ({
        content: '```ts\nexport const',
        finishReason: 'length',
        usage: { prompt_tokens: 10, completion_tokens: 50 },
      }),
    });
    const error = await generateFileStage(context(local(cut), { maxTokens: 50 }), inputs('src/x.ts'), undefined).catch(
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toContain('cut off by the token limit (maxTokens 50)');
    expect((error as { hint: string }).hint).toMatch(/^Raise `maxTokens`/);
  });

  it("a prompt the server's context cannot hold (400 exceeds the available context size) is PROVIDER_CONTEXT_FULL; Ollama's hint names num_ctx", async () => {
    const tiny = await server({ handler: () => ({ content: 'x' }), quirks: { contextTokens: 20 } });
    await expect(planStage(context(local(tiny)), SPEC)).rejects.toMatchObject({
      code: 'PROVIDER_CONTEXT_FULL',
      hint: expect.stringContaining('llama-server -c'),
    });
    await expect(planStage(context(local(tiny, 'ollama')), SPEC)).rejects.toMatchObject({
      code: 'PROVIDER_CONTEXT_FULL',
      hint: expect.stringContaining('num_ctx'),
    });
    // A context error is the same answer every time: never retried.
    expect(tiny.requests).toHaveLength(2);
  });
});

function inputs(file: string) {
  return {
    path: file,
    purpose: '',
    planGlobal: 'g',
    planSection: 's',
    dependencies: [],
    fileList: [file],
    specSection: '',
    fullSpec: undefined,
  };
}
