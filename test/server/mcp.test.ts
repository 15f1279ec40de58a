import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

let project: TestProject | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await project?.close();
  project = undefined;
});

type TextResult = {
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

async function connect(p: TestProject): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', '--provider', 'openai-compatible', '--base-url', p.server.url],
    cwd: p.dir,
    env: { PATH: process.env.PATH ?? '', HOME: p.dir, OPENAI_API_KEY: FAKE_KEY },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const mcp = new Client({ name: 'smol-test', version: '1.0.0' });
  await mcp.connect(transport);
  return { client: mcp, stderr: () => stderr };
}

describe('smol mcp (Model Context Protocol over stdio)', () => {
  it('lists its tools and drives status, plan, diff, apply and run through the SDK client', async () => {
    const app: ScriptedApp = {
      files: { 'a.txt': { section: 'A.', content: 'a\n' }, 'b.txt': { section: 'B.', content: 'b\n' } },
    };
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec();
    const connected = await connect(project);
    client = connected.client;
    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name).sort()).toEqual(['apply', 'diff', 'plan', 'run', 'status']);

    const before = (await client.callTool({ name: 'status', arguments: {} })) as TextResult;
    expect(before.content[0]!.text).toContain('No smol.lock yet');

    const plan = (await client.callTool({ name: 'plan', arguments: {} })) as TextResult;
    expect(plan.content[0]!.text).toMatch(/a\.txt: regenerate \(new\)/);

    const diff = (await client.callTool({ name: 'diff', arguments: {} })) as TextResult;
    expect(diff.content[0]!.text).toContain('2 new');
    expect(diff.content[0]!.text).toContain('+++ b/a.txt');
    expect(await project.readOrUndefined('app/a.txt')).toBeUndefined();

    const applied = (await client.callTool({ name: 'apply', arguments: { paths: ['a.txt'] } })) as TextResult;
    expect(applied.content[0]!.text).toContain('applied: a.txt');
    expect(await project.read('app/a.txt')).toBe('a\n');
    expect(await project.readOrUndefined('app/b.txt')).toBeUndefined();

    app.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await project.writeSpec({ sections: { 'b.txt': 'B two.' } });
    const run = (await client.callTool({ name: 'run', arguments: {} })) as TextResult;
    expect(run.isError).not.toBe(true);
    expect(run.structuredContent?.written).toContain('b.txt');
    expect(await project.read('app/b.txt')).toBe('b2\n');

    const status = (await client.callTool({ name: 'status', arguments: {} })) as TextResult;
    expect(status.content[0]!.text).toMatch(/a\.txt: clean/);
    // Logs went to stderr; stdout carried only the protocol (the client would have failed otherwise).
    expect(connected.stderr()).toContain('using openai-compatible');
    expect(connected.stderr()).not.toContain(FAKE_KEY);
  });

  it('reports a bad spec as a tool error the agent can read', async () => {
    project = await createProject(scriptedModel(() => ({ files: {} })));
    await project.write('prompt.md', '---\nmodel: m\nconcurrency: lots\n---\nText\n');
    client = (await connect(project)).client;
    const result = (await client.callTool({ name: 'status', arguments: {} })) as TextResult;
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/concurrency: .* at prompt\.md:3/);
  });
});
