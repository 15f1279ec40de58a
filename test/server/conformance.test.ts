import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/llm/create.js';
import { startAgentServer, type AgentServer } from '../../src/server/agent-protocol/server.js';
import { ROOT } from '../helpers/cli.js';
import { startOpenAIServer, type MockOpenAIServer } from '../helpers/openai-server.js';
import { scriptedModel } from '../helpers/scripted-model.js';

const run = promisify(execFile);

let model: MockOpenAIServer;
let server: AgentServer;
let workspace: string;
let cwd: string;
beforeAll(async () => {
  model = await startOpenAIServer({
    handler: scriptedModel(() => ({ files: { 'washington.txt': { content: 'Washington\n' } } })),
  });
  workspace = await mkdtemp(path.join(os.tmpdir(), 'smol-conformance-'));
  cwd = await mkdtemp(path.join(os.tmpdir(), 'smol-newman-'));
  // The collection uploads a file with this name from its working folder.
  await writeFile(path.join(cwd, 'test_output.txt'), 'Washington\n');
  server = await startAgentServer({
    port: 0,
    workspace,
    overrides: { model: 'test-model' },
    env: {},
    provider: {
      ...createProvider({ model: 'test-model', provider: 'openai-compatible', baseURL: model.url }, {}),
      description: 'loopback',
    },
  });
});
afterAll(async () => {
  await server.close();
  await model.close();
  // The response cache writes its entries in the background: retry while one lands.
  await rm(workspace, { recursive: true, force: true, maxRetries: 5 });
  await rm(cwd, { recursive: true, force: true });
});

describe('Agent Protocol compliance (the official collection, run by newman)', () => {
  it('passes every request and assertion', async () => {
    const newman = path.join(ROOT, 'node_modules', 'newman', 'bin', 'newman.js');
    const collection = path.join(ROOT, 'test', 'conformance', 'agent-protocol-v1.postman.json');
    const result = await run(
      process.execPath,
      [
        newman,
        'run',
        collection,
        '--env-var',
        `url=${server.url}`,
        '--working-dir',
        cwd,
        '--reporters',
        'cli',
        '--color',
        'off',
        '--disable-unicode',
      ],
      { cwd },
    ).then(
      (done) => ({ code: 0, output: done.stdout }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        output: `${error.stdout}\n${error.stderr}`,
      }),
    );
    expect(result.output).toMatch(/assertions\s*\|\s*\d+\s*\|\s*0\s*\|/);
    expect(result.output).toMatch(/requests\s*\|\s*13\s*\|\s*0\s*\|/);
    expect(result.code, result.output).toBe(0);
    if (process.env.SMOL_SHOW_NEWMAN === '1') console.log(result.output);
  }, 60_000);
});
