import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider, loadSpec, runPipeline } from '../../src/index.js';
import { tempDir } from '../helpers/cli.js';
import {
  startOpenAIServer,
  type MockOpenAIServer,
  type MockReply,
  type RecordedRequest,
} from '../helpers/openai-server.js';
import { FAKE_KEY } from '../helpers/project.js';

const FILES = ['a.txt', 'b.txt', 'c.txt', 'd.txt'];
let server: MockOpenAIServer;
let code: (request: RecordedRequest) => MockReply;
beforeAll(async () => {
  server = await startOpenAIServer({
    handler: (request) => {
      if (request.stage === 'plan')
        return { content: `## Global\n\nx\n\n${FILES.map((file) => `### \`${file}\`\n\n${file}`).join('\n\n')}` };
      if (request.stage === 'files')
        return {
          toolCalls: [
            {
              name: 'submit_file_list',
              arguments: JSON.stringify({ files: FILES.map((file) => ({ path: file, purpose: file, dependsOn: [] })) }),
            },
          ],
        };
      return code(request);
    },
  });
});
afterAll(async () => server.close());

async function run(options: { timeoutMs?: number; maxRetries?: number } = {}) {
  const { dir, cleanup } = await tempDir('smol-faults-');
  await writeFile(path.join(dir, 'prompt.md'), '---\nmodel: m\nconcurrency: 4\n---\nA program.\n');
  const spec = await loadSpec(path.join(dir, 'prompt.md'));
  const { provider } = createProvider(
    { model: 'm', provider: 'openai-compatible', baseURL: server.url },
    { OPENAI_API_KEY: FAKE_KEY },
    options,
  );
  const result = await runPipeline({ spec, provider, mode: 'apply' });
  const contents = Object.fromEntries(
    await Promise.all(
      FILES.map(
        async (file) => [file, await readFile(path.join(dir, 'app', file), 'utf8').catch(() => undefined)] as const,
      ),
    ),
  );
  return { result, contents, cleanup };
}

describe('a misbehaving model server', () => {
  it('a stall in the middle of an answer reaches the user as a timeout message for that file; the others finish', async () => {
    code = (request) =>
      request.file === 'b.txt'
        ? { content: `\`\`\`\n${'b'.repeat(200)}\n\`\`\``, chunkDelayMs: 5000 }
        : { content: '```\nok\n```' };
    const { result, contents, cleanup } = await run({ timeoutMs: 400, maxRetries: 0 });
    try {
      expect(result.failed.map((failure) => failure.path)).toEqual(['b.txt']);
      expect(result.failed[0]!.message).toMatch(/stopped sending|timed out|timeout/i);
      expect(contents['b.txt']).toBeUndefined();
      expect(contents['a.txt']).toBe('ok\n');
    } finally {
      await cleanup();
    }
  });

  it('bursts of 500s are retried by the SDK and the run completes', async () => {
    let errors = 0;
    // retry-after-ms (which the SDK honours on any retried status) keeps its pauses short: what is under
    // test is that the 500s are retried and the run completes, not the SDK's default backoff.
    code = () =>
      errors++ % 2 === 0
        ? { status: 500, error: { message: 'overloaded' }, headers: { 'retry-after-ms': '5' } }
        : { content: '```\nok\n```' };
    const { result, contents, cleanup } = await run({ maxRetries: 3 });
    try {
      expect(result.failed).toEqual([]);
      expect(Object.values(contents)).toEqual(['ok\n', 'ok\n', 'ok\n', 'ok\n']);
      // The SDK itself retried them (it numbers its retries).
      expect(
        server.requests.filter(
          (request) => request.stage === 'code' && request.headers['x-stainless-retry-count'] !== '0',
        ).length,
      ).toBeGreaterThan(0);
    } finally {
      await cleanup();
    }
  });

  it('a dropped connection on every attempt fails that file with a message; nothing half-written', async () => {
    code = (request) =>
      request.file === 'c.txt'
        ? { content: `\`\`\`\n${'c'.repeat(500)}\n\`\`\``, dropConnection: true }
        : { content: '```\nok\n```' };
    const { result, contents, cleanup } = await run({ maxRetries: 1 });
    try {
      expect(result.failed.map((failure) => failure.path)).toEqual(['c.txt']);
      expect(result.failed[0]!.message.length).toBeGreaterThan(20);
      expect(contents['c.txt']).toBeUndefined();
    } finally {
      await cleanup();
    }
  });
});
