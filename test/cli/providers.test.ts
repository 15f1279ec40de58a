import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, type CliResult } from '../helpers/cli.js';
import { anthropicReplyFrom, startAnthropicServer, type MockAnthropicServer } from '../helpers/anthropic-server.js';
import { runMain } from '../helpers/main-in-process.js';
import {
  startOpenAIServer,
  type MockOpenAIServer,
  type RecordedRequest,
  type ReplyHandler,
  type ServerQuirks,
} from '../helpers/openai-server.js';
import { allText, createProject, FAKE_KEY, specText, type TestProject } from '../helpers/project.js';
import { callsByStage, codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

const APP: ScriptedApp = {
  files: {
    'a.txt': { content: 'alpha\n' },
    'b.txt': { content: 'bravo\n' },
    'c.txt': { content: 'charlie\n' },
    'd.txt': { content: 'delta\n' },
  },
};

let project: TestProject | undefined;
let anthropic: MockAnthropicServer | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await project?.close();
  await anthropic?.close();
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  project = undefined;
  anthropic = undefined;
});

interface JsonEvent {
  type: string;
  [key: string]: unknown;
}
const events = (stdout: string): JsonEvent[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JsonEvent);

/** A spec whose frontmatter holds nested keys (`budget`, `price`) that `specText` cannot write. */
function specWith(frontmatter: string): string {
  return specText().replace('---\n', `---\n${frontmatter}\n`);
}

describe('rate limits and cost through the CLI', () => {
  it('a run hit by bursts of 429s pauses, retries and finishes with zero failed files', async () => {
    const model = scriptedModel(() => APP);
    let seen = 0;
    project = await createProject((request) => {
      seen += 1;
      // Every other request in the first dozen is refused, as a busy provider does in bursts.
      if (seen <= 12 && seen % 2 === 0) {
        return {
          status: 429,
          error: { message: 'Rate limit reached for requests', code: 'rate_limit_exceeded' },
          headers: { 'retry-after-ms': '25' },
        };
      }
      return model(request);
    });
    await project.writeSpec({ settings: { concurrency: 4 } });
    const result = await project.smol(['run', '--yes', '--json']);
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(0);
    const all = events(result.stdout);
    const final = all.at(-1)!;
    expect(final.failed).toEqual([]);
    expect(all.filter((event) => event.type === 'file-failed')).toEqual([]);
    expect(all.some((event) => event.type === 'rate-limited' && event.reason === 'retry-after')).toBe(true);
    for (const [file, spec] of Object.entries(APP.files)) expect(await project.read(`app/${file}`)).toBe(spec.content);
    // Each file's code call succeeded once; the 429s were retried by smol, never by the SDK on its own.
    expect(codeCalls(project.server.requests.filter((request) => !is429(request, project!)))).toEqual([
      'a.txt',
      'b.txt',
      'c.txt',
      'd.txt',
    ]);
    expect(project.server.requests.every((request) => request.headers['x-stainless-retry-count'] === '0')).toBe(true);
  });

  it('shows tokens and dollars per run, per file and per call (--json), priced by `price:`', async () => {
    project = await createProject((request) => ({
      ...scriptedModel(() => APP)(request),
      usage: { prompt_tokens: 1000, completion_tokens: 500 },
    }));
    await project.write('prompt.md', specWith('price: { input: 2, output: 8 }'));
    const human = await project.smol(['run', '--yes', '--all']);
    expect(human.code).toBe(0);
    // 6 calls of 1000 in + 500 out at $2 / $8 per million: 6 * $0.006.
    expect(human.stderr).toMatch(/6 calls .* 6\.0k tokens in, 3\.0k out · \$0\.036 ·/);
    const json = await project.smol(['run', '--yes', '--json', '--all']);
    const all = events(json.stdout);
    const done = all.find((event) => event.type === 'run-done') as unknown as {
      usage: { costUsd: number; costKnown: boolean; files: Record<string, { calls: number; costUsd: number }> };
    };
    // --all asks the model again for every file: 4 calls at $0.006.
    expect(done.usage.costKnown).toBe(true);
    expect(done.usage.costUsd).toBeCloseTo(0.024);
    expect(done.usage.files['a.txt']).toMatchObject({ calls: 1, costUsd: expect.closeTo(0.006) });
    const calls = all.filter((event) => event.type === 'call-done');
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.every((event) => typeof event.inputTokens === 'number' && 'costUsd' in event)).toBe(true);
  });

  it('budget stops the run BEFORE the call that could pass it, says so, and what was paid for stays cached', async () => {
    project = await createProject((request) => ({
      ...scriptedModel(() => ({
        files: { 'a.txt': APP.files['a.txt']!, 'b.txt': APP.files['b.txt']!, 'c.txt': APP.files['c.txt']! },
      }))(request),
      usage: { prompt_tokens: 10, completion_tokens: 50 },
    }));
    // Only answers cost: $1000 per million = $0.001 a token. Worst case of a call: maxTokens 100 = $0.10; each really costs $0.05.
    // plan ($0.05) + files ($0.10) + a.txt ($0.15) + b.txt ($0.20) fit in $0.25; c.txt's worst case would reach $0.30.
    await project.write(
      'prompt.md',
      specWith('price: { input: 0, output: 1000 }\nbudget: { usd: 0.25 }\nmaxTokens: 100\nconcurrency: 1'),
    );
    const stopped = await project.smol(['run', '--yes']);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(
      /Budget reached: stopped before the call for c\.txt, which could cost up to \$0\.100/,
    );
    expect(stopped.stderr).toMatch(/spent \$0\.200/);
    expect(stopped.stderr).toContain('Raise `budget.usd`');
    expect(codeCalls(project.server.requests)).toEqual(['a.txt', 'b.txt']);
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();

    await project.write(
      'prompt.md',
      specWith('price: { input: 0, output: 1000 }\nbudget: { usd: 1 }\nmaxTokens: 100\nconcurrency: 1'),
    );
    const resumed = await project.smol(['run', '--yes']);
    expect(resumed.code).toBe(0);
    // Only c.txt is new work: the plan, the list and a.txt, b.txt come from the cache.
    expect(codeCalls(project.server.requests)).toEqual(['a.txt', 'b.txt', 'c.txt']);
    expect(await project.read('app/c.txt')).toBe('charlie\n');
  });

  it('insufficient_quota stops the run at once, saying what to fix', async () => {
    const model = scriptedModel(() => APP);
    project = await createProject((request) =>
      request.stage === 'code'
        ? {
            status: 429,
            error: {
              message: 'You exceeded your current quota.',
              type: 'insufficient_quota',
              code: 'insufficient_quota',
            },
            headers: { 'retry-after-ms': '10' },
          }
        : model(request),
    );
    await project.writeSpec({ settings: { concurrency: 1 } });
    const result = await project.smol(['run', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('out of credit or quota');
    expect(result.stderr).toMatch(/Add credit|spending limit/);
    expect(callsByStage(project.server.requests).code).toBe(1);
  });
});

describe('other providers through the CLI', () => {
  it('anthropic: a whole run, with the smol headers on every request', async () => {
    const model = scriptedModel(() => APP);
    anthropic = await startAnthropicServer({ handler: (request) => anthropicReplyFrom(model(request)) });
    project = await createProject(() => ({ status: 500 }));
    await project.writeSpec({ settings: { model: 'claude-sonnet-4-5' } });
    const result = await runMain(['run', '--yes'], {
      cwd: project.dir,
      env: { ANTHROPIC_API_KEY: FAKE_KEY, ANTHROPIC_BASE_URL: anthropic.url },
    });
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('(anthropic, claude-sonnet-4-5)');
    expect(await project.read('app/d.txt')).toBe('delta\n');
    expect(anthropic.requests.map((request) => request.stage)).toEqual([
      'plan',
      'files',
      'code',
      'code',
      'code',
      'code',
    ]);
    expect(
      anthropic.requests
        .filter((request) => request.stage === 'code')
        .map((request) => request.file)
        .sort(),
    ).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.txt']);
    // Priced from the table: claude-sonnet-4-5 is $3 / $15 per million.
    expect(result.stderr).toMatch(/· \$0\.\d+ ·/);
    expect(result.stderr + result.stdout + (await allText(project.dir))).not.toContain(FAKE_KEY);
  });

  it('ollama: found on OLLAMA_HOST when nothing is configured; local runs cost nothing', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const result = await runMain(['run', '--yes'], {
      cwd: project.dir,
      env: { OLLAMA_HOST: new URL(project.server.url).host },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('(ollama, test-model)');
    expect(result.stderr).not.toMatch(/\$|cost unknown/);
    expect(await project.read('app/a.txt')).toBe('alpha\n');
  });

  it('nothing configured and no Ollama: says what to set', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    const result = await runMain(['run', '--yes'], { cwd: project.dir, env: { OLLAMA_HOST: '127.0.0.1:9' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No model provider is configured');
    expect(result.stderr).toContain('smol doctor');
  });
});

/** A project against a loopback server with the quirks of a local model server (issue 16). */
async function localProject(
  quirks: ServerQuirks,
  handler: ReplyHandler,
): Promise<{
  dir: string;
  server: MockOpenAIServer;
  smol: (args: string[]) => Promise<CliResult>;
  spec: (frontmatter?: string, body?: string) => Promise<void>;
}> {
  const server = await startOpenAIServer({ handler: asSmallModel(handler), quirks });
  const { dir, cleanup } = await tempDir('smol-local-');
  cleanups.push(cleanup, () => server.close());
  return {
    dir,
    server,
    smol: (args) => runMain([...args, '--provider', 'openai-compatible', '--base-url', server.url], { cwd: dir }),
    spec: async (frontmatter = '', body = '# Demo\n\nFour text files.\n') => {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'prompt.md'), `---\nmodel: test-model\noutDir: app\n${frontmatter}---\n${body}`);
    },
  };
}

/** Asked for JSON without tools or a schema, a model writes its tool call's arguments as text. */
function asSmallModel(handler: ReplyHandler): ReplyHandler {
  return async (request) => {
    const reply = await handler(request);
    const unstructured = request.body.tools === undefined && request.body.response_format === undefined;
    return unstructured && reply.toolCalls !== undefined
      ? { ...reply, toolCalls: [], content: `Here you go:\n\n\`\`\`json\n${reply.toolCalls[0]!.arguments}\n\`\`\`` }
      : reply;
  };
}

const route = (request: RecordedRequest) =>
  request.body.response_format !== undefined ? 'json-schema' : request.body.tools !== undefined ? 'tools' : 'text';

describe('local model servers as they really behave (issue 16)', () => {
  it('llama.cpp without --jinja: the file list goes through a JSON schema, so no request carries tools', async () => {
    const local = await localProject(
      { tools: 'refuse-500' },
      scriptedModel(() => APP),
    );
    await local.spec();
    const result = await local.smol(['run', '--yes']);
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(0);
    expect(await readFile(path.join(local.dir, 'app/d.txt'), 'utf8')).toBe('delta\n');
    expect(local.server.requests.filter((request) => request.stage === 'files').map(route)).toEqual(['json-schema']);
  });

  it('`fileList: tools` on llama.cpp without --jinja: one 500, no retries, then JSON in the text; the run succeeds', async () => {
    const local = await localProject(
      { tools: 'refuse-500' },
      scriptedModel(() => APP),
    );
    await local.spec('fileList: tools\n');
    const result = await local.smol(['run', '--yes']);
    expect(result.code).toBe(0);
    expect(local.server.requests.filter((request) => request.stage === 'files').map(route)).toEqual(['tools', 'text']);
    expect(await readFile(path.join(local.dir, 'app/a.txt'), 'utf8')).toBe('alpha\n');
  });

  it('a re-plan answered with prose is asked once more, then fails clearly; nothing changes, and --json ends with an error event', async () => {
    let prose = false;
    const model = scriptedModel(() => APP);
    const local = await localProject({}, (request) =>
      prose && request.stage === 'plan'
        ? { content: 'I have updated the plan to use uppercase names.' }
        : model(request),
    );
    await local.spec();
    expect((await local.smol(['run', '--yes'])).code).toBe(0);
    prose = true;
    await local.spec('', '# Demo\n\nFour text files, in uppercase.\n');
    const result = await local.smol(['run', '--yes', '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('did not answer the re-plan with a plan, even when asked again');
    expect(local.server.requests.filter((request) => request.stage === 'plan')).toHaveLength(3);
    const last = events(result.stdout).at(-1)!;
    expect(last).toMatchObject({
      type: 'error',
      code: 'REPLAN_INVALID',
      message: expect.stringContaining('re-plan'),
      hint: expect.stringContaining('Nothing was changed'),
    });
    expect(await readFile(path.join(local.dir, 'app/a.txt'), 'utf8')).toBe('alpha\n');
  });

  it('a server context too small for an answer: the failed file says the context is full and how to raise it', async () => {
    const big = { files: { 'a.txt': { content: 'alpha\n' }, 'big.txt': { content: `${'word '.repeat(3000)}\n` } } };
    const local = await localProject(
      { contextTokens: 1500 },
      scriptedModel(() => big),
    );
    await local.spec();
    const result = await local.smol(['run', '--yes', '--json']);
    expect(result.code).toBe(1);
    const failed = events(result.stdout).find((event) => event.type === 'file-failed');
    expect(failed).toMatchObject({
      path: 'big.txt',
      message: expect.stringMatching(
        /the server's context window is full \(raise the server's context \(llama\.cpp -c/,
      ),
    });
    expect(await readFile(path.join(local.dir, 'app/a.txt'), 'utf8')).toBe('alpha\n');
  });

  it("a prompt over the context window fails the run with the server's words and the way to raise it", async () => {
    const local = await localProject(
      { contextTokens: 50 },
      scriptedModel(() => APP),
    );
    await local.spec();
    const result = await local.smol(['run', '--yes', '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('exceeds the available context size');
    expect(events(result.stdout).at(-1)).toMatchObject({
      type: 'error',
      code: 'PROVIDER_CONTEXT_FULL',
      hint: expect.stringContaining('llama-server -c 16384'),
    });
  });

  it('an answer without a code fence, and file names with a space or comma, are warned about (events in --json)', async () => {
    const odd = { files: { 'notes and todo.txt': { content: 'a\n' }, 'plain.txt': { content: 'p\n' } } };
    const model = scriptedModel(() => odd);
    const local = await localProject({}, (request) =>
      request.file === 'plain.txt' ? { content: 'just the text, no fence' } : model(request),
    );
    await local.spec();
    const json = await local.smol(['run', '--yes', '--json']);
    expect(json.code).toBe(0);
    const warnings = events(json.stdout).filter((event) => event.type === 'warning');
    expect(warnings.map((event) => [event.code, event.path])).toEqual(
      expect.arrayContaining([
        ['odd-file-name', 'notes and todo.txt'],
        ['no-code-fence', 'plain.txt'],
      ]),
    );
    const human = await local.smol(['run', '--yes', '--all']);
    expect(human.stderr).toMatch(/warning the answer for plain\.txt had no code fence/);
  });

  // A refused key: the first call fails at once. (A server that is down ends the same way, after the SDK's
  // retry pauses: test/reliability/credentials-in-url.test.ts checks its PROVIDER_UNREACHABLE event.)
  it('--json: a run that fails before any event still ends stdout with an error event', async () => {
    const local = await localProject({}, () => ({
      status: 401,
      error: { message: 'bad key', type: 'invalid_request_error' },
    }));
    await local.spec();
    const result = await local.smol(['run', '--yes', '--json']);
    expect(result.code).toBe(2);
    const lines = result.stdout.trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      type: 'error',
      code: 'PROVIDER_AUTH',
      message: expect.stringContaining('bad key'),
      hint: expect.any(String),
    });
    const usage = await runMain(['run', '--json', '--bogus'], { cwd: local.dir });
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout.trim())).toMatchObject({
      type: 'error',
      code: 'USAGE',
      message: expect.stringContaining('--bogus'),
    });
  });
});

function is429(request: RecordedRequest, owner: TestProject): boolean {
  // The handler answered 429 to the even-numbered requests among the first twelve.
  const index = owner.server.requests.indexOf(request) + 1;
  return index <= 12 && index % 2 === 0;
}
