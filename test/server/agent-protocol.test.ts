import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/llm/create.js';
import { startAgentServer, type AgentServer } from '../../src/server/agent-protocol/server.js';
import { startOpenAIServer, type MockOpenAIServer } from '../helpers/openai-server.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

const APP: ScriptedApp = {
  files: {
    'index.js': {
      purpose: 'entry',
      dependsOn: ['lib/util.js'],
      content: "import { twice } from './lib/util.js';\nconsole.log(twice(2));\n",
    },
    'lib/util.js': { purpose: 'helpers', content: 'export const twice = (n) => n * 2;\n' },
  },
};

let model: MockOpenAIServer;
let server: AgentServer;
let workspace: string;
const TOKEN = 'serve-token-123';

async function start(options: { token?: string; maxUploadBytes?: number } = {}): Promise<void> {
  model = await startOpenAIServer({ handler: scriptedModel(() => APP) });
  workspace = await mkdtemp(path.join(os.tmpdir(), 'smol-ap-'));
  server = await startAgentServer({
    port: 0,
    workspace,
    overrides: { model: 'test-model' },
    env: {},
    provider: {
      ...createProvider({ model: 'test-model', provider: 'openai-compatible', baseURL: model.url }, {}),
      description: 'loopback',
    },
    ...options,
  });
}

beforeEach(async () => start());
afterEach(async () => {
  await server.close();
  await model.close();
  // The response cache writes its entries in the background: retry while one lands.
  await rm(workspace, { recursive: true, force: true, maxRetries: 5 });
});

const api = (route: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${server.url}/ap/v1/agent/tasks${route}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
const post = (route: string, body: unknown): Promise<Response> =>
  api(route, { method: 'POST', body: JSON.stringify(body) });

describe('smol serve: Agent Protocol v1', () => {
  it('runs plan, file list, then one file per step; the last is is_last; a later POST does no work', async () => {
    const created = await post('', {
      input: 'A tiny program.',
      additional_input: { temperature: 0, test_run_id: 'x' },
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toContain('application/json');
    const task = (await created.json()) as { task_id: string; input: string; artifacts: unknown[] };
    expect(task).toMatchObject({ input: 'A tiny program.', artifacts: [] });

    const names: string[] = [];
    let last = false;
    let steps = 0;
    while (!last && steps < 10) {
      const response = await post(`/${task.task_id}/steps`, {});
      expect(response.status).toBe(200);
      const step = (await response.json()) as {
        name: string;
        is_last: boolean;
        status: string;
        artifacts: { artifact_id: string }[];
      };
      expect(step.status).toBe('completed');
      names.push(step.name);
      last = step.is_last;
      steps += 1;
    }
    expect(names).toEqual(['plan', 'files', 'code: index.js', 'code: lib/util.js']);
    const calls = model.requests.length;
    const again = await post(`/${task.task_id}/steps`, { input: 'y' });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { is_last: boolean }).is_last).toBe(true);
    expect(model.requests.length).toBe(calls);
    // The right file each time, attributed by header.
    expect(model.requests.filter((request) => request.stage === 'code').map((request) => request.file)).toEqual([
      'index.js',
      'lib/util.js',
    ]);

    const listed = (await (await api(`/${task.task_id}/artifacts`)).json()) as {
      artifacts: { artifact_id: string; file_name: string; relative_path: string; agent_created: boolean }[];
      pagination: unknown;
    };
    expect(
      listed.artifacts.map((artifact) => [artifact.relative_path, artifact.file_name, artifact.agent_created]),
    ).toEqual([
      [null, 'index.js', true],
      ['lib/', 'util.js', true],
    ]);
    const download = await api(`/${task.task_id}/artifacts/${listed.artifacts[1]!.artifact_id}`);
    expect(download.headers.get('content-type')).toBe('application/octet-stream');
    expect(await download.text()).toBe('export const twice = (n) => n * 2;\n');
    expect(await readFile(path.join(workspace, task.task_id, 'lib', 'util.js'), 'utf8')).toContain('twice');

    const stepList = (await (await api(`/${task.task_id}/steps?page_size=2&current_page=2`)).json()) as {
      steps: { step_id: string }[];
      pagination: Record<string, number>;
    };
    expect(stepList.pagination).toEqual({ total_items: 4, total_pages: 2, current_page: 2, page_size: 2 });
    const one = await api(`/${task.task_id}/steps/${stepList.steps[0]!.step_id}`);
    expect(((await one.json()) as { name: string }).name).toBe('code: index.js');
  });

  it('paginates tasks and answers 404 {message} for unknown ids and 422 for invalid bodies', async () => {
    for (let index = 0; index < 3; index += 1) await post('', { input: `Task ${index}.` });
    const page = (await (await api('?page_size=2&current_page=2')).json()) as {
      tasks: unknown[];
      pagination: Record<string, number>;
    };
    expect(page.tasks).toHaveLength(1);
    expect(page.pagination).toEqual({ total_items: 3, total_pages: 2, current_page: 2, page_size: 2 });
    expect((await api('?page_size=0')).status).toBe(422);

    const missing = await api('/no-such-task');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'Task no-such-task not found.' });
    const task = (await (await post('', { input: 'x' })).json()) as { task_id: string };
    expect((await api(`/${task.task_id}/steps/nope`)).status).toBe(404);
    expect((await api(`/${task.task_id}/artifacts/nope`)).status).toBe(404);

    expect((await api('', { method: 'POST', body: '{not json' })).status).toBe(422);
    expect((await post('', { input: 42 })).status).toBe(422);
    const badSettings = await post('', { input: 'x', additional_input: { concurrency: 'lots' } });
    expect(badSettings.status).toBe(422);
    expect(((await badSettings.json()) as { message: string }).message).toContain('concurrency');
  });

  it('accepts uploads (multipart `file`, optional `relative_path`) as extra spec input, inside the task folder only', async () => {
    const task = (await (await post('', { input: 'Use the API described in the upload.' })).json()) as {
      task_id: string;
    };
    const form = new FormData();
    form.append('file', new Blob(['GET /items returns a list.\n']), 'api.md');
    form.append('relative_path', 'docs');
    const uploaded = await fetch(`${server.url}/ap/v1/agent/tasks/${task.task_id}/artifacts`, {
      method: 'POST',
      body: form,
    });
    expect(uploaded.status).toBe(200);
    const artifact = (await uploaded.json()) as {
      artifact_id: string;
      agent_created: boolean;
      relative_path: string;
      file_name: string;
    };
    expect(artifact).toMatchObject({ agent_created: false, relative_path: 'docs', file_name: 'api.md' });
    expect(await (await api(`/${task.task_id}/artifacts/${artifact.artifact_id}`)).text()).toBe(
      'GET /items returns a list.\n',
    );
    await post(`/${task.task_id}/steps`, {});
    const plan = model.requests.find((request) => request.stage === 'plan')!;
    expect(JSON.stringify(plan.body.messages)).toContain('GET /items returns a list.');

    const outside = new FormData();
    outside.append('file', new Blob(['x']), 'evil.txt');
    outside.append('relative_path', '../../outside');
    const refused = await fetch(`${server.url}/ap/v1/agent/tasks/${task.task_id}/artifacts`, {
      method: 'POST',
      body: outside,
    });
    expect(refused.status).toBe(422);
    await expect(readFile(path.join(workspace, '..', 'outside', 'evil.txt'))).rejects.toThrow();
  });

  it('requires the bearer token when one is set, and caps uploads', async () => {
    await server.close();
    await model.close();
    await start({ token: TOKEN, maxUploadBytes: 1000 });
    expect((await api('')).status).toBe(401);
    expect((await api('', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await api('', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    const task = (await (
      await api('', {
        method: 'POST',
        body: JSON.stringify({ input: 'x' }),
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).json()) as { task_id: string };
    const form = new FormData();
    form.append('file', new Blob(['x'.repeat(5000)]), 'big.txt');
    const tooBig = await fetch(`${server.url}/ap/v1/agent/tasks/${task.task_id}/artifacts`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(tooBig.status).toBe(413);
  });

  it('binds 127.0.0.1 by default', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
