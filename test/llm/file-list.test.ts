import { afterEach, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/llm/create.js';
import { fileListStage, type StageContext } from '../../src/plan/stages.js';
import type { SpecPromptParts } from '../../src/plan/templates.js';
import { startAnthropicServer, type MockAnthropicServer } from '../helpers/anthropic-server.js';
import { startOpenAIServer, type MockOpenAIServer, type ReplyHandler } from '../helpers/openai-server.js';

const SPEC: SpecPromptParts = { globalText: 'A tiny CLI.', includes: [], sections: [] };
const PLAN = '## Global\n\nNode.\n\n### `src/index.ts`\n\nEntry.\n\n### `src/util.ts`\n\nHelpers.\n';
const FILES = [
  { path: 'src/index.ts', purpose: 'entry', dependsOn: ['src/util.ts'] },
  { path: 'src/util.ts', purpose: 'helpers', dependsOn: [] },
];

let server: MockOpenAIServer | MockAnthropicServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * An Ollama-like server (real SDK, real HTTP) answering the file-list stage with `answers` in turn, asked
 * through tools (`fileList: tools`): these tests are about reading what a model makes of a tool call.
 */
async function ollama(answers: ReplyHandler): Promise<{ context: StageContext; server: MockOpenAIServer }> {
  const started = await startOpenAIServer({ handler: answers });
  server = started;
  const { provider } = createProvider(
    { model: 'qwen2.5-coder:7b', provider: 'ollama', baseURL: started.url },
    {},
    { maxRetries: 0 },
  );
  return {
    server: started,
    context: { provider, model: 'qwen2.5-coder:7b', temperature: 0, maxTokens: 2000, fileList: 'tools' },
  };
}

describe('fileListStage through tools on servers without forced tool calls', () => {
  it('takes JSON from prose when the server ignores tool_choice (Ollama)', async () => {
    const { context, server } = await ollama(() => ({
      content: `Sure! Here are the files:\n\n\`\`\`json\n${JSON.stringify({ files: FILES })}\n\`\`\`\n\nHope this helps.`,
    }));
    const result = await fileListStage(context, SPEC, PLAN);
    expect(result.value).toEqual(FILES);
    expect(server.requests).toHaveLength(1);
    // One tool: "required" forces it (llama.cpp takes only a string here; Ollama ignores it either way).
    expect(server.requests[0]?.body.tool_choice).toBe('required');
  });

  it('accepts a tool call written out as text, and a bare array with depends_on', async () => {
    const first = await ollama(() => ({
      content: JSON.stringify({ name: 'submit_file_list', arguments: { files: FILES } }),
    }));
    expect((await fileListStage(first.context, SPEC, PLAN)).value).toEqual(FILES);
    await first.server.close();
    const bare = FILES.map(({ dependsOn, ...rest }) => ({ ...rest, depends_on: dependsOn }));
    const second = await ollama(() => ({ content: `[files] ${JSON.stringify(bare)}` }));
    expect((await fileListStage(second.context, SPEC, PLAN)).value).toEqual(FILES);
  });

  it('prose without JSON gets ONE repair request quoting the problem, without tools', async () => {
    const { context, server } = await ollama(() =>
      server.requests.length === 1
        ? { content: 'You will need an index file and a util file.' }
        : { content: JSON.stringify({ files: FILES }) },
    );
    const result = await fileListStage(context, SPEC, PLAN);
    expect(result.value).toEqual(FILES);
    expect(server.requests).toHaveLength(2);
    const repair = server.requests[1]!;
    expect(repair.stage).toBe('files');
    expect(repair.body.tools).toBeUndefined();
    const messages = repair.body.messages as { role: string; content: string }[];
    expect(messages.at(-2)).toEqual({ role: 'assistant', content: 'You will need an index file and a util file.' });
    expect(messages.at(-1)?.content).toMatch(/could not be used: it contains no JSON/);
    expect(messages.at(-1)?.content).toContain('"files"');
    // Both calls are counted.
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });

  it('a tool call that fails validation is repaired with the zod error quoted', async () => {
    const { context, server } = await ollama(() =>
      server.requests.length === 1
        ? { toolCalls: [{ name: 'submit_file_list', arguments: JSON.stringify({ files: [{ purpose: 'no path' }] }) }] }
        : { toolCalls: [{ name: 'submit_file_list', arguments: JSON.stringify({ files: FILES }) }] },
    );
    expect((await fileListStage(context, SPEC, PLAN)).value).toEqual(FILES);
    const quoted = (server.requests[1]!.body.messages as { content: string }[]).at(-1)!.content;
    expect(quoted).toMatch(/files\.0\.path: Invalid input: expected string/);
  });

  it('a second failure is FILE_LIST_INVALID naming the model and, abbreviated, what it returned', async () => {
    const { context, server } = await ollama(() => ({
      content: `I am sorry, I cannot produce JSON. ${'blah '.repeat(100)}`,
    }));
    const error = await fileListStage(context, SPEC, PLAN).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'FILE_LIST_INVALID' });
    const message = (error as Error).message;
    expect(message).toContain('qwen2.5-coder:7b');
    expect(message).toContain('I am sorry, I cannot produce JSON.');
    expect(message).toMatch(/\.\.\.$/);
    expect(message.length).toBeLessThan(400);
    expect((error as { hint: string }).hint).toMatch(/tool/);
    expect(server.requests).toHaveLength(2);
  });

  it('a server that refuses tools (400) is asked for JSON in text instead', async () => {
    const { context, server } = await ollama((request) =>
      request.body.tools !== undefined
        ? {
            status: 400,
            error: { message: '"tool_choice" is not supported by this server', type: 'invalid_request_error' },
          }
        : { content: JSON.stringify({ files: FILES }) },
    );
    expect((await fileListStage(context, SPEC, PLAN)).value).toEqual(FILES);
    // "required", then the object form once, then no tools: JSON in the text.
    expect(server.requests.map((request) => request.body.tool_choice)).toEqual([
      'required',
      { type: 'function', function: { name: 'submit_file_list' } },
      undefined,
    ]);
    expect((server.requests[2]!.body.messages as { content: string }[]).at(-1)!.content).toMatch(
      /Answer with only a JSON object/,
    );
  });

  it('other errors are not papered over', async () => {
    const { context } = await ollama(() => ({
      status: 404,
      error: { message: 'model "qwen2.5-coder:7b" not found, try pulling it first' },
    }));
    await expect(fileListStage(context, SPEC, PLAN)).rejects.toMatchObject({ code: 'PROVIDER_MODEL_NOT_FOUND' });
  });

  it('anthropic: the forced tool call arrives as input_json_delta fragments and validates', async () => {
    const started = await startAnthropicServer({
      handler: () => ({ toolUses: [{ name: 'submit_file_list', input: JSON.stringify({ files: FILES }) }] }),
    });
    server = started;
    const { provider } = createProvider(
      { model: 'claude-sonnet-4-5', provider: 'anthropic', baseURL: started.url },
      { ANTHROPIC_API_KEY: 'sk-ant-test' },
      { maxRetries: 0 },
    );
    const result = await fileListStage(
      { provider, model: 'claude-sonnet-4-5', temperature: 0, maxTokens: 2000 },
      SPEC,
      PLAN,
    );
    expect(result.value).toEqual(FILES);
    expect(started.requests[0]?.body.tool_choice).toEqual({ type: 'tool', name: 'submit_file_list' });
    expect(started.requests[0]?.stage).toBe('files');
  });
});
