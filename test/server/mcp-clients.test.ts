import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createMcpServer, type SmolMcpServer } from '../../src/server/mcp/server.js';
import { BIN } from '../helpers/cli.js';
import type { RecordedRequest } from '../helpers/openai-server.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

type TextResult = {
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

let project: TestProject | undefined;
let client: Client | undefined;
let smol: SmolMcpServer | undefined;
afterEach(async () => {
  await client?.close();
  await smol?.close();
  await project?.close();
  client = undefined;
  smol = undefined;
  project = undefined;
});

const APP: ScriptedApp = {
  files: { 'a.txt': { section: 'A.', content: 'a\n' }, 'b.txt': { section: 'B.', content: 'b\n' } },
};

/** smol's MCP server and the SDK's own Client, joined by the SDK's in-memory transport pair. */
async function connectInMemory(p: TestProject): Promise<Client> {
  smol = createMcpServer({
    specFile: 'prompt.md',
    cwd: p.dir,
    overrides: { provider: 'openai-compatible', baseURL: p.server.url },
    env: { OPENAI_API_KEY: FAKE_KEY },
    version: '0.0.0-test',
    log: () => {},
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await smol.server.connect(serverSide);
  const mcp = new Client({ name: 'smol-test', version: '1.0.0' });
  await mcp.connect(clientSide);
  return mcp;
}

/** A handler that holds the code call for `path` until `release()`; `arrived` resolves when it comes in. */
function holding(
  app: ScriptedApp,
  path: string,
): {
  handler: (request: RecordedRequest) => Promise<ReturnType<ReturnType<typeof scriptedModel>>>;
  arrived: Promise<void>;
  release: () => void;
} {
  const scripted = scriptedModel(() => app);
  let arrive: () => void = () => {};
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    arrived,
    release,
    handler: async (request) => {
      if (request.file === path) {
        arrive();
        await gate;
      }
      return scripted(request);
    },
  };
}

describe('smol mcp: what clients rely on', () => {
  it('declares an output schema and annotations for every tool, and its results match them', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    client = await connectInMemory(project);
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const name of ['status', 'plan', 'diff', 'apply', 'run']) {
      expect(byName.get(name)?.outputSchema?.type, name).toBe('object');
    }
    for (const name of ['status', 'plan', 'diff']) expect(byName.get(name)?.annotations?.readOnlyHint, name).toBe(true);
    for (const name of ['apply', 'run'])
      expect(byName.get(name)?.annotations, name).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    // The SDK client validates structured content against the declared schema: a mismatch would throw here.
    for (const name of ['status', 'plan', 'diff', 'apply', 'run', 'status']) {
      const result = (await client.callTool({ name, arguments: {} })) as TextResult;
      expect(result.isError, name).not.toBe(true);
      expect(result.structuredContent, name).toBeDefined();
    }
  });

  it('reports progress per stage and per file when the client passes a progressToken', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec({ settings: { concurrency: 1 } });
    client = await connectInMemory(project);
    const seen: { progress: number; message?: string | undefined }[] = [];
    const result = (await client.callTool({ name: 'run', arguments: {} }, undefined, {
      onprogress: (progress) => seen.push(progress),
      resetTimeoutOnProgress: true,
    })) as TextResult;
    expect(result.isError).not.toBe(true);
    const messages = seen.map((entry) => entry.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'planning',
        'plan ready (from the model)',
        'listing the files',
        'file list ready (from the model)',
        'generating a.txt',
        'a.txt: create (1 of 2 files)',
        'generating b.txt',
        'b.txt: create (2 of 2 files)',
        'done',
      ]),
    );
    expect(messages.indexOf('planning')).toBeLessThan(messages.indexOf('generating a.txt'));
    for (let index = 1; index < seen.length; index += 1)
      expect(seen[index]!.progress).toBeGreaterThan(seen[index - 1]!.progress);
  });

  it('queues tool calls made at once on one spec instead of failing them', async () => {
    project = await createProject(scriptedModel(() => APP));
    await project.writeSpec();
    client = await connectInMemory(project);
    const mcp = client;
    const names = ['run', 'diff', 'status', 'run', 'plan', 'diff', 'apply', 'status'];
    const results = (await Promise.all(names.map((name) => mcp.callTool({ name, arguments: {} })))) as TextResult[];
    for (const [index, outcome] of results.entries()) {
      expect(outcome.isError, `${names[index]}: ${outcome.content[0]?.text}`).not.toBe(true);
    }
    expect(await project.read('app/a.txt')).toBe('a\n');
  });

  it('stops a cancelled run: no further model call, nothing written, and the next call goes ahead', async () => {
    const held = holding(APP, 'a.txt');
    project = await createProject(held.handler);
    await project.writeSpec({ settings: { concurrency: 1 } });
    client = await connectInMemory(project);
    const cancel = new AbortController();
    const running = client
      .callTool({ name: 'run', arguments: {} }, undefined, { signal: cancel.signal })
      .catch((error: unknown) => error);
    await held.arrived;
    cancel.abort('the user pressed stop');
    expect(await running).toBeInstanceOf(Error);
    // Queued behind the cancelled run: its answer means the run has stopped.
    const status = (await client.callTool({ name: 'status', arguments: {} })) as TextResult;
    expect(status.content[0]!.text).toContain('No smol.lock yet');
    held.release();
    expect(codeCalls(project.server.requests)).toEqual(['a.txt']);
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();
    expect(await project.readOrUndefined('smol.lock')).toBeUndefined();
    const again = (await client.callTool({ name: 'run', arguments: {} })) as TextResult;
    expect(again.structuredContent?.written).toEqual(['a.txt', 'b.txt']);
  });
});

describe('smol mcp over stdio (a raw JSON-RPC client)', () => {
  it('ends promptly when stdin closes during a run, with the model call still unanswered, and writes nothing', async () => {
    const held = holding(APP, 'a.txt');
    project = await createProject(held.handler);
    await project.writeSpec({ settings: { concurrency: 1 } });
    const child = spawn(
      process.execPath,
      [BIN, 'mcp', '--provider', 'openai-compatible', '--base-url', project.server.url],
      {
        cwd: project.dir,
        env: { PATH: process.env.PATH ?? '', HOME: project.dir, OPENAI_API_KEY: FAKE_KEY },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const send = (message: unknown): void => void child.stdin.write(`${JSON.stringify(message)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'run', arguments: {}, _meta: { progressToken: 'p1' } },
    });
    await held.arrived;
    child.stdin.end();
    // Without cancellation the run would wait on the held model call for ever, and so would this.
    expect(await exited).toBe(0);
    held.release();
    expect(codeCalls(project.server.requests)).toEqual(['a.txt']);
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id?: number; method?: string; params?: { message?: string } });
    expect(lines[0]).toMatchObject({ id: 1 });
    expect(
      lines.filter((line) => line.method === 'notifications/progress').map((line) => line.params?.message),
    ).toContain('generating a.txt');
  });
});
