import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/llm/create.js';
import type { MockReply, RecordedRequest } from '../helpers/openai-server.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import {
  createTask,
  PREFIX,
  runAllSteps,
  startHarness,
  upload,
  type ArtifactJson,
  type Harness,
  type StepJson,
} from './ap-harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const APP: ScriptedApp = {
  files: {
    'main.py': { content: 'print("hi")\n' },
    'pkg/b.py': { content: 'B = 1\n' },
  },
};

/** Decodes `filename*=UTF-8''…` from a Content-Disposition header, as a browser would. */
function dispositionName(header: string | null): string | undefined {
  const match = /filename\*=UTF-8''([^;]+)/.exec(header ?? '');
  return match === null ? undefined : decodeURIComponent(match[1]!);
}

async function listArtifacts(h: Harness, taskId: string): Promise<ArtifactJson[]> {
  return ((await (await h.api(`/${taskId}/artifacts?page_size=100`)).json()) as { artifacts: ArtifactJson[] })
    .artifacts;
}

describe('smol serve: downloads, uploads and routes as real clients use them', () => {
  it('downloads a file whose name is not Latin-1 (RFC 6266 filename* with an ASCII fallback)', async () => {
    // X-Smol-File carries the name encoded, so this model answers every code call the same.
    const scripted = scriptedModel(() => ({ files: { 'docs/日本語 ü.txt': { content: 'hello\n' } } }));
    harness = await startHarness({
      handler: (request) => (request.stage === 'code' ? { content: '```\nhello\n```' } : scripted(request)),
    });
    const taskId = await createTask(harness, { input: 'Docs.' });
    const uploaded = (await (await upload(harness, taskId, '日本語 ü.txt', 'mine\n', 'up')).json()) as ArtifactJson;
    const steps = await runAllSteps(harness, taskId);
    const generated = steps.at(-1)!.artifacts[0]!;
    for (const [artifact, content] of [
      [uploaded, 'mine\n'],
      [generated, 'hello\n'],
    ] as const) {
      const response = await harness.api(`/${taskId}/artifacts/${artifact.artifact_id}`);
      expect(response.status).toBe(200);
      const header = response.headers.get('content-disposition');
      expect(header).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
      expect(dispositionName(header)).toBe('日本語 ü.txt');
      expect(await response.text()).toBe(content);
    }
  });

  it('accepts relative_path as a folder (with or without a slash) or as the whole path (AutoGPT), and echoes it', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP) });
    const taskId = await createTask(harness, { input: 'An app.' });
    const cases: [string | undefined, string, string][] = [
      [undefined, 'root.txt', 'root.txt'],
      ['python/code/', 'a.py', 'python/code/a.py'],
      ['python/code', 'c.py', 'python/code/c.py'],
      ['pkg/d.py', 'd.py', 'pkg/d.py'],
      ['./docs/', 'e.md', 'docs/e.md'],
    ];
    for (const [relativePath, name, stored] of cases) {
      const response = await upload(harness, taskId, name, `${name}\n`, relativePath);
      expect(response.status, stored).toBe(200);
      const artifact = (await response.json()) as ArtifactJson;
      expect(artifact).toMatchObject({ file_name: name, relative_path: relativePath ?? null, agent_created: false });
      expect(await readFile(path.join(harness.workspace, taskId, stored), 'utf8')).toBe(`${name}\n`);
    }
    // Generated artifacts name their folder the way the protocol's example does (`python/code/`), or null at the top.
    await runAllSteps(harness, taskId);
    const generated = (await listArtifacts(harness, taskId)).filter((artifact) => artifact.agent_created);
    expect(generated.map((artifact) => [artifact.relative_path, artifact.file_name])).toEqual([
      [null, 'main.py'],
      ['pkg/', 'b.py'],
    ]);
  });

  it('answers 405 with Allow, HEAD like GET without a body, and OPTIONS with Allow', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP) });
    const taskId = await createTask(harness, { input: 'An app.' });
    const deleted = await harness.raw({ method: 'DELETE', path: PREFIX });
    expect(deleted.status).toBe(405);
    expect(deleted.headers.allow).toBe('GET, POST, HEAD, OPTIONS');
    expect(JSON.parse(deleted.body)).toEqual({ message: `DELETE is not allowed on ${PREFIX}.` });
    const put = await harness.raw({ method: 'PUT', path: `${PREFIX}/${taskId}` });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, OPTIONS');

    const get = await harness.raw({ method: 'GET', path: `${PREFIX}/${taskId}/` });
    const head = await harness.raw({ method: 'HEAD', path: `${PREFIX}/${taskId}` });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    const options = await harness.raw({ method: 'OPTIONS', path: `${PREFIX}/${taskId}/steps` });
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('GET, POST, HEAD, OPTIONS');
    expect((await harness.raw({ method: 'OPTIONS', path: '/nowhere' })).status).toBe(404);
  });
});

describe('smol serve: provider failures and client timeouts', () => {
  it('answers 502 when the provider fails and 503 (with Retry-After) when it cannot answer now, without its address; nothing advances', async () => {
    let reply: MockReply | undefined = { status: 500, error: { message: 'upstream exploded' } };
    const scripted = scriptedModel(() => APP);
    harness = await startHarness({ handler: (request) => reply ?? scripted(request) });
    const taskId = await createTask(harness, { input: 'An app.' });
    const failed = await harness.post(`/${taskId}/steps`, {});
    expect(failed.status).toBe(502);
    const failedText = await failed.text();
    expect(failedText).toContain('PROVIDER_SERVER_ERROR');
    expect(failedText).not.toContain(harness.model.url);

    reply = {
      status: 429,
      error: { message: 'slow down', type: 'rate_limit_exceeded' },
      headers: { 'retry-after': '30' },
    };
    const limited = await harness.post(`/${taskId}/steps`, {});
    expect(limited.status).toBe(503);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(await limited.text()).toContain('PROVIDER_RATE_LIMIT');
    expect(((await (await harness.api(`/${taskId}/steps`)).json()) as { steps: unknown[] }).steps).toEqual([]);

    reply = undefined;
    const recovered = (await (await harness.post(`/${taskId}/steps`, {})).json()) as StepJson;
    expect(recovered.name).toBe('plan');
  });

  it('answers 503 when the provider is unreachable', async () => {
    harness = await startHarness({
      handler: scriptedModel(() => APP),
      server: {
        provider: createProvider(
          { provider: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', model: 'm' },
          {},
          { maxRetries: 0 },
        ),
      },
    });
    const taskId = await createTask(harness, { input: 'An app.' });
    const response = await harness.post(`/${taskId}/steps`, {});
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('PROVIDER_UNREACHABLE');
  });

  it('shows a running step as running, and gives a client that timed out the same step on its next request', async () => {
    let arrived: () => void = () => {};
    const planArrived = new Promise<void>((resolve) => (arrived = resolve));
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scripted = scriptedModel(() => APP);
    harness = await startHarness({
      handler: async (request: RecordedRequest) => {
        if (request.stage === 'plan') {
          arrived();
          await gate;
        }
        return scripted(request);
      },
    });
    const taskId = await createTask(harness, { input: 'An app.' });
    const impatient = new AbortController();
    const first = harness
      .api(`/${taskId}/steps`, { method: 'POST', body: '{}', signal: impatient.signal })
      .catch((error: unknown) => error);
    await planArrived;
    const during = (await (await harness.api(`/${taskId}/steps`)).json()) as { steps: StepJson[] };
    expect(during.steps).toMatchObject([{ name: 'plan', status: 'running', output: null, is_last: false }]);
    const running = during.steps[0]!;
    expect((await (await harness.api(`/${taskId}/steps/${running.step_id}`)).json()) as StepJson).toMatchObject({
      status: 'running',
    });

    // The client gives up (its timeout is shorter than the model); the step goes on.
    impatient.abort();
    expect(await first).toMatchObject({ name: 'AbortError' });
    const retry = harness.post(`/${taskId}/steps`, {});
    release();
    const answer = (await (await retry).json()) as StepJson;
    expect(answer).toMatchObject({ step_id: running.step_id, name: 'plan', status: 'completed' });
    expect(harness.model.requests.map((request) => request.stage)).toEqual(['plan']);

    const next = (await (await harness.post(`/${taskId}/steps`, {})).json()) as StepJson;
    expect(next.name).toBe('files');
    const after = (await (await harness.api(`/${taskId}/steps`)).json()) as { steps: StepJson[] };
    expect(after.steps.map((step) => [step.name, step.status])).toEqual([
      ['plan', 'completed'],
      ['files', 'completed'],
    ]);
  });
});

describe('smol serve: what a step may write', () => {
  it('checks maxFileBytes and maxTotalBytes: a file over a limit is reported and not written, and the task goes on', async () => {
    const app: ScriptedApp = {
      files: {
        'big.txt': { content: `${'x'.repeat(3000)}\n` },
        'a.txt': { content: 'a\n' },
        'b.txt': { content: 'bb\n' },
      },
    };
    harness = await startHarness({
      handler: scriptedModel(() => app),
      server: { overrides: { model: 'test-model', maxFileBytes: 100, maxTotalBytes: 4 } },
    });
    const taskId = await createTask(harness, { input: 'An app.' });
    const steps = await runAllSteps(harness, taskId);
    expect(steps.map((step) => step.name)).toEqual(['plan', 'files', 'code: big.txt', 'code: a.txt', 'code: b.txt']);
    expect(steps[2]!.output).toMatch(
      /^Refused big\.txt: 3001 bytes is more than maxFileBytes \(100\); nothing written/,
    );
    expect(steps[2]!.artifacts).toEqual([]);
    expect(steps[3]!.output).toBe('Wrote a.txt (2 bytes).');
    expect(steps[4]!.additional_output.failed.message).toMatch(/more than maxTotalBytes \(4\)/);
    await expect(stat(path.join(harness.workspace, taskId, 'big.txt'))).rejects.toThrow();
    await expect(stat(path.join(harness.workspace, taskId, 'b.txt'))).rejects.toThrow();
    expect((await listArtifacts(harness, taskId)).map((artifact) => artifact.file_name)).toEqual(['a.txt']);
  });

  it('never replaces a file the client uploaded (either relative_path form): the step reports a conflict and keeps it', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP) });
    const taskId = await createTask(harness, { input: 'An app.' });
    await upload(harness, taskId, 'main.py', '# my own main\n');
    await upload(harness, taskId, 'b.py', '# my own b\n', 'pkg/b.py');
    const steps = await runAllSteps(harness, taskId);
    for (const [index, file] of [
      [2, 'main.py'],
      [3, 'pkg/b.py'],
    ] as const) {
      expect(steps[index]!.output).toMatch(
        new RegExp(`^Kept ${file.replace('.', '\\.')}: smol did not write the file`),
      );
      expect(steps[index]!.additional_output.conflict).toMatchObject({
        path: file,
        generated: APP.files[file]!.content,
      });
      expect(steps[index]!.artifacts).toEqual([]);
    }
    expect(await readFile(path.join(harness.workspace, taskId, 'main.py'), 'utf8')).toBe('# my own main\n');
    expect(await readFile(path.join(harness.workspace, taskId, 'pkg', 'b.py'), 'utf8')).toBe('# my own b\n');
    // The model saw the client's file as the current content, so its proposal builds on it.
    const code = harness.model.requests.find((request) => request.file === 'main.py')!;
    expect(JSON.stringify(code.body.messages)).toContain('# my own main');
  });

  it("reports a file whose answer is unusable as that step's failure and goes on", async () => {
    const scripted = scriptedModel(() => APP);
    harness = await startHarness({
      handler: (request) =>
        request.file === 'main.py' ? { content: 'print(', finishReason: 'length' } : scripted(request),
    });
    const taskId = await createTask(harness, { input: 'An app.' });
    const steps = await runAllSteps(harness, taskId);
    expect(steps.map((step) => step.name)).toEqual(['plan', 'files', 'code: main.py', 'code: pkg/b.py']);
    expect(steps[2]!.output).toContain('cut off by the token limit');
    expect(steps[3]!.is_last).toBe(true);
  });
});
