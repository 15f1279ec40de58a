import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createProvider } from '../../src/llm/create.js';
import { startAgentServer, type AgentServer, type AgentServerOptions } from '../../src/server/agent-protocol/server.js';
import { startOpenAIServer, type MockOpenAIServer, type ReplyHandler } from '../helpers/openai-server.js';
import { FAKE_KEY } from '../helpers/project.js';

/**
 * A live `smol serve` (the library entry point, on a real socket) in front of the loopback model server.
 * Clients in the tests are plain `fetch` and `node:http`: nothing here shares the server's code.
 */
export interface Harness {
  model: MockOpenAIServer;
  server: AgentServer;
  workspace: string;
  /** `fetch` on `/ap/v1/agent/tasks` + route, JSON content type unless the caller sets one. */
  api(route: string, init?: RequestInit): Promise<Response>;
  post(route: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** A request with exactly these headers (fetch will not send a forged Host). */
  raw(request: RawRequest): Promise<RawResponse>;
  close(): Promise<void>;
}

interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export const PREFIX = '/ap/v1/agent/tasks';

export async function startHarness(options: {
  handler: ReplyHandler;
  server?: Partial<AgentServerOptions>;
  realProvider?: boolean;
}): Promise<Harness> {
  const model = await startOpenAIServer({ handler: options.handler });
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'smol-ap-'));
  const connection = { model: 'test-model', provider: 'openai-compatible' as const, baseURL: model.url };
  const env = { OPENAI_API_KEY: FAKE_KEY };
  const server = await startAgentServer({
    port: 0,
    workspace,
    // With `realProvider`, the server builds the provider itself from the operator's settings and env, as `smol serve` does.
    overrides: options.realProvider === true ? connection : { model: 'test-model' },
    env,
    ...(options.realProvider === true
      ? {}
      : { provider: createProvider(connection, env, { maxRetries: 0, maxWaitMs: 0 }) }),
    ...options.server,
  });
  const url = new URL(server.url);
  const api = (route: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${server.url}${PREFIX}${route}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...init.headers },
    });
  return {
    model,
    server,
    workspace,
    api,
    post: (route, body, headers = {}) => api(route, { method: 'POST', body: JSON.stringify(body), headers }),
    raw: (request) =>
      new Promise((resolve, reject) => {
        const outgoing = http.request(
          {
            host: url.hostname,
            port: url.port,
            method: request.method,
            path: request.path,
            headers: { host: url.host, ...request.headers },
            setHost: false,
          },
          (response) => {
            let body = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
          },
        );
        outgoing.on('error', reject);
        outgoing.end(request.body);
      }),
    close: async () => {
      await server.close();
      await model.close();
      // The response cache writes its entries in the background: retry while one lands.
      await rm(workspace, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/** Steps until `is_last`, returning the parsed steps (at most `limit`). */
export async function runAllSteps(harness: Harness, taskId: string, limit = 20): Promise<StepJson[]> {
  const steps: StepJson[] = [];
  while (steps.length < limit) {
    const response = await harness.post(`/${taskId}/steps`, {});
    if (response.status !== 200) throw new Error(`step answered ${response.status}: ${await response.text()}`);
    const step = (await response.json()) as StepJson;
    steps.push(step);
    if (step.is_last) break;
  }
  return steps;
}

export interface StepJson {
  step_id: string;
  name: string;
  status: string;
  output: string | null;
  is_last: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever a step reports (files, usage, failures).
  additional_output: Record<string, any>;
  artifacts: ArtifactJson[];
}

export interface ArtifactJson {
  artifact_id: string;
  agent_created: boolean;
  file_name: string;
  relative_path: string | null;
}

export async function createTask(harness: Harness, body: Record<string, unknown>): Promise<string> {
  const response = await harness.post('', body);
  if (response.status !== 200) throw new Error(`create answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { task_id: string }).task_id;
}

export function upload(
  harness: Harness,
  taskId: string,
  name: string,
  content: string | Uint8Array,
  relativePath?: string,
): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([content]), name);
  if (relativePath !== undefined) form.append('relative_path', relativePath);
  return fetch(`${harness.server.url}${PREFIX}/${taskId}/artifacts`, { method: 'POST', body: form });
}
