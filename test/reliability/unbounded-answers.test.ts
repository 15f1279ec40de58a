import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TOOL_CALLS, toolCallCollector } from '../../src/llm/tool-call-fragments.js';
import { runMain } from '../helpers/main-in-process.js';
import {
  startOpenAIServer,
  type MockOpenAIServer,
  type MockReply,
  type RecordedRequest,
} from '../helpers/openai-server.js';

// Issue 13.6 and 13.7: hostile streams (tool-call indexes, nesting) and answers that never end.

const FILES = ['a.txt', 'b.txt'];
const LIST = {
  toolCalls: [
    {
      name: 'submit_file_list',
      arguments: JSON.stringify({ files: FILES.map((file) => ({ path: file, purpose: file, dependsOn: [] })) }),
    },
  ],
};
let server: MockOpenAIServer;
let reply: {
  plan?: (request: RecordedRequest) => MockReply;
  files?: (request: RecordedRequest) => MockReply;
  code?: (request: RecordedRequest) => MockReply;
} = {};
beforeAll(async () => {
  server = await startOpenAIServer({
    handler: (request) => {
      if (request.stage === 'plan')
        return (
          reply.plan?.(request) ?? {
            content: `## Global\n\nText.\n\n${FILES.map((file) => `### \`${file}\`\n\n${file}`).join('\n\n')}`,
          }
        );
      if (request.stage === 'files') return reply.files?.(request) ?? LIST;
      return reply.code?.(request) ?? { content: `\`\`\`\n${request.file}\n\`\`\`` };
    },
  });
});
afterAll(async () => server.close());

async function run(frontmatter: string): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  read: (file: string) => Promise<string | undefined>;
}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'smol-unbounded-'));
  try {
    await writeFile(path.join(dir, 'prompt.md'), `---\nmodel: m\noutDir: out\n${frontmatter}---\nTwo text files.\n`);
    const result = await runMain(['run', '--yes', '--provider', 'openai-compatible', '--base-url', server.url], {
      cwd: dir,
    });
    const contents = new Map(
      await Promise.all(
        FILES.map(
          async (file) => [file, await readFile(path.join(dir, 'out', file), 'utf8').catch(() => undefined)] as const,
        ),
      ),
    );
    return { ...result, read: async (file) => contents.get(file) };
  } finally {
    // A failed run may still be writing its response cache (off the critical path): retry the removal.
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

const toolDelta = (index: unknown) => ({
  index,
  id: 'call_x',
  type: 'function',
  function: { name: 'submit_file_list', arguments: '{"files":[]}' },
});

describe('hostile tool-call streams (13.6)', () => {
  it('index 200000000 is just a key: no 200-million-slot array (it once took 5.7 GB), the answer is read as usual', async () => {
    reply = { files: () => ({ content: '', rawToolCallDeltas: [toolDelta(200_000_000)] }) };
    const result = await run('fileList: tools\n');
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(1);
    // The call's arguments list no files: a clear "not a usable file list", after one repair.
    expect(result.stderr).toContain('did not return a usable file list, even when asked again: it lists no files');
  });

  it.each([
    ['index 0.5', 0.5],
    ['index -1', -1],
    ['index "0"', '0'],
  ])('%s fails the file list with a clear message, allocating nothing', async (_name, index) => {
    reply = { files: () => ({ content: '', rawToolCallDeltas: [toolDelta(index)] }) };
    const result = await run('fileList: tools\n');
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/sent a tool call with index .* \(not a non-negative integer\)/);
  });

  it('more tool calls than any answer needs are refused', async () => {
    reply = {
      files: () => ({
        content: '',
        rawToolCallDeltas: Array.from({ length: MAX_TOOL_CALLS + 1 }, (_, index) => toolDelta(index)),
      }),
    };
    const result = await run('fileList: tools\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`more than ${MAX_TOOL_CALLS} tool calls in one answer`);
  });

  it('100,000 levels of nested JSON in the arguments are refused (after one repair), not a stack overflow', async () => {
    const deep = `{"files":[{"path":"a.txt","purpose":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}]}`;
    reply = { files: () => ({ toolCalls: [{ name: 'submit_file_list', arguments: deep }] }) };
    const result = await run('fileList: tools\nmaxTokens: 100000\n');
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nests JSON more than 64 levels deep');
  });

  it('property: any sequence of fragments is joined without throwing, into at most MAX_TOOL_CALLS calls', () => {
    const fragment = fc.record(
      {
        index: fc.oneof(
          fc.nat({ max: 200 }),
          fc.integer(),
          fc.double(),
          fc.constant(2 ** 40),
          fc.string({ maxLength: 3 }),
          fc.constant(null),
        ),
        id: fc.oneof(fc.string({ maxLength: 4 }), fc.constant(undefined)),
        function: fc.record(
          { name: fc.string({ maxLength: 5 }), arguments: fc.string({ maxLength: 10 }) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 300 }), (fragments) => {
        const collector = toolCallCollector();
        for (const piece of fragments) collector.add(piece);
        expect(collector.calls().length).toBeLessThanOrEqual(MAX_TOOL_CALLS);
      }),
      { numRuns: 300 },
    );
  });
});

describe('answers that never end (13.7)', () => {
  it('a code answer streaming forever is stopped past maxFileBytes; that file fails, the other is written', async () => {
    reply = {
      code: (request) =>
        request.file === 'a.txt'
          ? { content: '```\n', endless: 'all work and no play '.repeat(50) }
          : { content: '```\nbravo\n```' },
    };
    const result = await run('maxFileBytes: 2000\n');
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /a\.txt: .*sent more than \d+ bytes for one answer, more than maxFileBytes \(2000\); smol stopped reading it/,
    );
    expect(await result.read('a.txt')).toBeUndefined();
    expect(await result.read('b.txt')).toBe('bravo\n');
  });

  it('a plan streaming forever is stopped past what maxTokens allows', async () => {
    reply = { plan: () => ({ content: '## Global\n\n', endless: 'and then '.repeat(100) }) };
    const result = await run('maxTokens: 100\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/more than maxTokens \(100\) allows; smol stopped reading it/);
  });

  it('one token at a time, never finishing: the call deadline (`callTimeout`) fails that file, the other is written', async () => {
    reply = {
      code: (request) =>
        request.file === 'a.txt'
          ? { content: '```\n', endless: 'tick ', chunkDelayMs: 20 }
          : { content: '```\nbravo\n```' },
    };
    const result = await run('callTimeout: 0.5\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/a\.txt: .*did not finish the answer within 0\.5s \(`callTimeout`\)/);
    expect(await result.read('b.txt')).toBe('bravo\n');
  });
});
