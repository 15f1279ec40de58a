import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_SETTINGS } from '../../src/server/agent-protocol/client-settings.js';
import { startAgentServer } from '../../src/server/agent-protocol/server.js';
import { specSettingsKeys } from '../../src/spec/schema.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main-in-process.js';
import { startOpenAIServer, type MockOpenAIServer } from '../helpers/openai-server.js';
import { FAKE_KEY } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { createTask, PREFIX, runAllSteps, startHarness, upload, type Harness } from './ap-harness.js';

const APP: ScriptedApp = { files: { 'main.py': { content: 'print("hi")\n' } } };
const OPERATOR_ONLY = specSettingsKeys.filter((key) => !(CLIENT_SETTINGS as readonly string[]).includes(key));

let harness: Harness | undefined;
let attacker: MockOpenAIServer | undefined;
afterEach(async () => {
  await harness?.close();
  await attacker?.close();
  harness = undefined;
  attacker = undefined;
});

async function message(response: Response): Promise<string> {
  return ((await response.json()) as { message: string }).message;
}

describe('smol serve: the operator chooses where requests go and with which key', () => {
  it('refuses provider and baseURL in additional_input (422 naming them); the attacker sees no request', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP), realProvider: true });
    attacker = await startOpenAIServer({ handler: scriptedModel(() => APP) });
    const response = await harness.post('', {
      input: 'An app.',
      additional_input: { provider: 'openai', baseURL: attacker.url },
    });
    expect(response.status).toBe(422);
    const text = await message(response);
    expect(text).toContain('additional_input.provider');
    expect(text).toContain('additional_input.baseURL');
    expect(text).not.toContain(FAKE_KEY);

    // A step's own additional_input is metadata: it cannot redirect the task either.
    const taskId = await createTask(harness, { input: 'An app.' });
    await harness.post(`/${taskId}/steps`, { additional_input: { provider: 'openai', baseURL: attacker.url } });
    expect(attacker.requests).toHaveLength(0);
    expect(harness.model.requests).toHaveLength(1);
    expect(harness.model.requests[0]!.headers.authorization).toBe(`Bearer ${FAKE_KEY}`);
  });

  it('refuses the same keys in the frontmatter of the task input, and of a first step input', async () => {
    harness = await startHarness({
      handler: scriptedModel(() => APP),
      realProvider: true,
      server: { env: { OPENAI_API_KEY: FAKE_KEY, ANTHROPIC_API_KEY: 'sk-ant-DO-NOT-LEAK' } },
    });
    attacker = await startOpenAIServer({ handler: scriptedModel(() => APP) });
    const input = `---\nprovider: anthropic\nbaseURL: ${attacker.origin}\n---\nAn app.\n`;
    const response = await harness.post('', { input });
    expect(response.status).toBe(422);
    const text = await message(response);
    expect(text).toMatch(/frontmatter of the task input: provider/);
    expect(text).toMatch(/frontmatter of the task input: baseURL/);

    const taskId = await createTask(harness, {});
    const step = await harness.post(`/${taskId}/steps`, { input });
    expect(step.status).toBe(422);
    expect(await message(step)).toContain('baseURL');
    expect(attacker.requests).toHaveLength(0);
    expect(harness.model.requests).toHaveLength(0);
  });

  it('refuses every operator-only key, with any value, in additional_input or frontmatter, before reading or calling anything', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP) });
    const h = harness;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OPERATOR_ONLY),
        fc.jsonValue({ maxDepth: 2 }),
        fc.boolean(),
        async (key, value, inFrontmatter) => {
          const body = inFrontmatter
            ? { input: `---\n${key}: ${JSON.stringify(value ?? null)}\n---\nAn app.\n` }
            : { input: 'An app.', additional_input: { [key]: value } };
          const response = await h.post('', body);
          expect(response.status).toBe(422);
          expect(await message(response)).toContain(key);
        },
      ),
      { numRuns: 60 },
    );
    expect(h.model.requests).toHaveLength(0);
    expect(await readdir(h.workspace)).toEqual([]);
  });

  it('never reads a file a client names: include of a FIFO, /dev/zero or a secret is refused at once, the same way whether it exists or not', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP) });
    const temp = await tempDir();
    try {
      const fifo = path.join(temp.dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const answers: string[] = [];
      for (const target of [fifo, '/dev/zero', '/root/.ssh/id_rsa', '/no/such/file']) {
        const response = await harness.post('', { input: 'An app.', additional_input: { include: [target] } });
        expect(response.status).toBe(422);
        answers.push((await message(response)).replace(target, 'X'));
        const framed = await harness.post('', { input: `---\ninclude: [${JSON.stringify(target)}]\n---\nAn app.\n` });
        expect(framed.status).toBe(422);
      }
      // No existence oracle: the answer does not depend on the file.
      expect(new Set(answers).size).toBe(1);
      expect(answers[0]).not.toMatch(/not found|ENOENT|EACCES/);
    } finally {
      await temp.cleanup();
    }
  });

  it('lets a client choose only allowed models and at most the operator maxTokens', async () => {
    harness = await startHarness({
      handler: scriptedModel(() => APP),
      server: { allowModels: ['cheap-*'], overrides: { model: 'test-model', maxTokens: 1000 } },
    });
    const expensive = await harness.post('', { input: 'An app.', additional_input: { model: 'gpt-4-32k' } });
    expect(expensive.status).toBe(422);
    expect(await message(expensive)).toMatch(
      /model "gpt-4-32k" is not offered by this server \(allowed: test-model, cheap-\*\)/,
    );
    const framed = await harness.post('', { input: '---\nmodel: gpt-4-32k\n---\nAn app.' });
    expect(framed.status).toBe(422);
    const tooMany = await harness.post('', { input: 'An app.', additional_input: { maxTokens: 100000 } });
    expect(tooMany.status).toBe(422);
    expect(await message(tooMany)).toContain("maxTokens 100000 is over this server's limit of 1000");
    const badTemperature = await harness.post('', { input: 'An app.', additional_input: { temperature: 9 } });
    expect(badTemperature.status).toBe(422);
    expect(await message(badTemperature)).toMatch(/^additional_input\.temperature: .*\(got 9\)/);

    const taskId = await createTask(harness, {
      input: '---\nmodel: cheap-2\n---\nAn app.',
      additional_input: { maxTokens: 500, temperature: 0.5 },
    });
    await runAllSteps(harness, taskId);
    expect(new Set(harness.model.requests.map((request) => request.body.model))).toEqual(new Set(['cheap-2']));
    expect(new Set(harness.model.requests.map((request) => request.body.max_tokens))).toEqual(new Set([500]));
  });
});

describe('smol serve: cross-site and DNS-rebinding requests', () => {
  it('answers only its own Host names (and localhost), unless the operator adds one', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP), server: { allowHosts: ['proxy.example'] } });
    const port = new URL(harness.server.url).port;
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, '']) {
      const response = await harness.raw({ method: 'GET', path: PREFIX, headers: { host } });
      expect(response.status, host).toBe(403);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', 'proxy.example']) {
      expect((await harness.raw({ method: 'GET', path: PREFIX, headers: { host } })).status, host).toBe(200);
    }
  });

  it('refuses a text/plain or form POST (415) and any foreign Origin (403), and sends no CORS headers', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP) });
    const body = JSON.stringify({ input: 'An app.' });
    const plain = await harness.raw({ method: 'POST', path: PREFIX, headers: { 'content-type': 'text/plain' }, body });
    expect(plain.status).toBe(415);
    const form = await harness.raw({
      method: 'POST',
      path: PREFIX,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'input=x',
    });
    expect(form.status).toBe(415);
    const crossSite = await harness.raw({
      method: 'POST',
      path: PREFIX,
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body,
    });
    expect(crossSite.status).toBe(403);
    const evenJson = await harness.raw({
      method: 'POST',
      path: PREFIX,
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body,
    });
    expect(evenJson.status).toBe(403);
    const read = await harness.raw({ method: 'GET', path: PREFIX, headers: { origin: 'https://evil.example' } });
    expect(read.status).toBe(403);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await harness.raw({
      method: 'OPTIONS',
      path: PREFIX,
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    // A multipart upload is a "simple" request a page could send: refused by Origin as well.
    const taskId = await createTask(harness, { input: 'An app.' });
    const sneaky = await harness.raw({
      method: 'POST',
      path: `${PREFIX}/${taskId}/artifacts`,
      headers: { 'content-type': 'multipart/form-data; boundary=b', origin: 'https://evil.example' },
      body: '--b\r\nContent-Disposition: form-data; name="file"; filename="x.md"\r\n\r\nhi\r\n--b--\r\n',
    });
    expect(sneaky.status).toBe(403);
    expect((await (await harness.api('')).json()) as { tasks: unknown[] }).toMatchObject({
      tasks: [{ task_id: taskId }],
    });
  });

  it('with --cors ORIGIN, answers that origin (and its preflight) and still refuses others', async () => {
    harness = await startHarness({
      handler: scriptedModel(() => APP),
      server: { corsOrigins: ['https://app.example'] },
    });
    const preflight = await harness.raw({
      method: 'OPTIONS',
      path: PREFIX,
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('content-type');
    const created = await harness.raw({
      method: 'POST',
      path: PREFIX,
      headers: { origin: 'https://app.example', 'content-type': 'application/json' },
      body: '{"input":"An app."}',
    });
    expect(created.status).toBe(200);
    expect(created.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(
      (await harness.raw({ method: 'GET', path: PREFIX, headers: { origin: 'https://other.example' } })).status,
    ).toBe(403);
  });

  it('accepts the Bearer scheme in any case and refuses everything else', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP), server: { token: 't0k-123' } });
    for (const authorization of ['Bearer t0k-123', 'bearer t0k-123', 'BEARER t0k-123', 'Bearer  t0k-123']) {
      expect(
        (await harness.raw({ method: 'GET', path: PREFIX, headers: { authorization } })).status,
        authorization,
      ).toBe(200);
    }
    for (const authorization of ['Bearer t0k-1234', 'Basic t0k-123', 't0k-123', 'Bearer', '']) {
      const response = await harness.raw({ method: 'GET', path: PREFIX, headers: { authorization } });
      expect(response.status, authorization).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('refuses to start open to the network, with an empty or spaced token, with a bad --cors, or with no model', async () => {
    const temp = await tempDir();
    try {
      const base = {
        workspace: temp.dir,
        overrides: { model: 'm', baseURL: 'http://127.0.0.1:9/v1' },
        env: {},
        port: 0,
      };
      await expect(startAgentServer({ ...base, host: '0.0.0.0' })).rejects.toMatchObject({ code: 'SERVE_UNSAFE' });
      await expect(startAgentServer({ ...base, token: '' })).rejects.toMatchObject({ code: 'SERVE_UNSAFE' });
      await expect(startAgentServer({ ...base, token: 'a b' })).rejects.toMatchObject({ code: 'SERVE_UNSAFE' });
      await expect(startAgentServer({ ...base, corsOrigins: ['https://app.example/'] })).rejects.toMatchObject({
        code: 'SERVE_UNSAFE',
      });
      await expect(
        startAgentServer({ ...base, overrides: { baseURL: 'http://127.0.0.1:9/v1' } }),
      ).rejects.toMatchObject({ code: 'SERVE_NO_MODEL' });
      await expect(startAgentServer({ ...base, overrides: { model: 'm', maxTokens: -3 } })).rejects.toMatchObject({
        code: 'SPEC_INVALID',
      });

      const flags = ['serve', '--port', '0', '--model', 'm', '--base-url', 'http://127.0.0.1:9/v1'];
      const empty = await runMain([...flags, '--token', ''], { cwd: temp.dir });
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain('The bearer token is empty');
      const emptyEnv = await runMain(flags, { cwd: temp.dir, env: { SMOL_SERVE_TOKEN: '' } });
      expect(emptyEnv.code).toBe(2);
      const open = await runMain([...flags, '--host', '0.0.0.0'], { cwd: temp.dir });
      expect(open.code).toBe(2);
      expect(open.stderr).toContain('needs a token');
    } finally {
      await temp.cleanup();
    }
  });

  it('writes uploads only inside the task folder, whatever relative_path says', async () => {
    harness = await startHarness({ handler: scriptedModel(() => APP) });
    const taskId = await createTask(harness, { input: 'An app.' });
    for (const relativePath of ['../../outside', '/etc', '..', 'a/../../b', '.git/hooks', 'C:\\x', '~/x']) {
      const response = await upload(harness, taskId, 'evil.txt', 'x', relativePath);
      expect(response.status, relativePath).toBe(422);
    }
    const names = (await readdir(harness.workspace, { recursive: true })).sort();
    expect(names).toEqual([taskId]);
  });
});
