import type { IncomingMessage, ServerResponse } from 'node:http';
import { contentDisposition } from './artifacts.js';
import { mediaType, pageOf, paginate, readBody, readJson, sendJson } from './http.js';
import type { Route } from './router.js';
import type { TaskService } from './tasks.js';
import { ProtocolError } from './types.js';

/** One request being answered: what a handler needs. `headers` go on every answer (CORS). */
interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  params: Record<string, string>;
  headers: Record<string, string>;
}

export type Handler = (exchange: Exchange) => Promise<void>;

const PREFIX = '/ap/v1/agent/tasks';

/** The Agent Protocol v1 routes (AI-Engineer-Foundation/agent-protocol, schemas/openapi.yml). */
// A flat declarative table (one entry per route, the work in the functions below): long, and left whole.
export function agentRoutes(
  service: TaskService,
  limits: { maxBodyBytes: number; maxUploadBytes: number },
): Route<Handler>[] {
  const task = (exchange: Exchange) => service.get(param(exchange, 'task_id'));
  return [
    {
      method: 'GET',
      pattern: PREFIX,
      handler: async (exchange) =>
        json(
          exchange,
          page(exchange, 'tasks', () => service.list()),
        ),
    },
    {
      method: 'POST',
      pattern: PREFIX,
      handler: async (exchange) =>
        json(exchange, await service.create(await readJson(exchange.request, limits.maxBodyBytes))),
    },
    {
      method: 'GET',
      pattern: `${PREFIX}/:task_id`,
      handler: async (exchange) => json(exchange, task(exchange).task),
    },
    {
      method: 'GET',
      pattern: `${PREFIX}/:task_id/steps`,
      handler: async (exchange) =>
        json(
          exchange,
          page(exchange, 'steps', () => task(exchange).steps),
        ),
    },
    {
      method: 'POST',
      pattern: `${PREFIX}/:task_id/steps`,
      handler: async (exchange) => executeStep(service, exchange, limits.maxBodyBytes),
    },
    {
      method: 'GET',
      pattern: `${PREFIX}/:task_id/steps/:step_id`,
      handler: async (exchange) =>
        json(exchange, service.getStep(param(exchange, 'task_id'), param(exchange, 'step_id'))),
    },
    {
      method: 'GET',
      pattern: `${PREFIX}/:task_id/artifacts`,
      handler: async (exchange) =>
        json(
          exchange,
          page(exchange, 'artifacts', () => task(exchange).task.artifacts),
        ),
    },
    {
      method: 'POST',
      pattern: `${PREFIX}/:task_id/artifacts`,
      handler: async (exchange) => uploadArtifact(service, exchange, limits.maxUploadBytes),
    },
    {
      method: 'GET',
      pattern: `${PREFIX}/:task_id/artifacts/:artifact_id`,
      handler: async (exchange) => downloadArtifact(service, exchange),
    },
  ];
}

function json(exchange: Exchange, value: unknown): void {
  sendJson(exchange.response, 200, value, exchange.headers);
}

/** A path parameter the route's pattern names (so it is there). */
function param(exchange: Exchange, name: string): string {
  return exchange.params[name]!;
}

/** The page of `items` the query asks for, as `{ [key]: items, pagination }` (the query is checked first). */
function page<T>(exchange: Exchange, key: string, items: () => readonly T[]): Record<string, unknown> {
  const { page: number, size } = pageOf(exchange.url);
  const { items: shown, pagination } = paginate(items(), number, size);
  return { [key]: shown, pagination };
}

/** POST steps: runs the next stage and answers with the step once it is done. */
async function executeStep(service: TaskService, exchange: Exchange, maxBodyBytes: number): Promise<void> {
  const taskId = param(exchange, 'task_id');
  service.get(taskId);
  const body = await readJson(exchange.request, maxBodyBytes);
  const { response } = exchange;
  // Resolves true once the answer is handed to the network, false if the client gave up waiting
  // (its timeout shorter than the model): then the next POST receives this step.
  const deliver = (step: unknown): Promise<boolean> =>
    new Promise((resolve) => {
      if (response.destroyed) return resolve(false);
      response.once('finish', () => resolve(true));
      response.once('close', () => resolve(response.writableFinished));
      json(exchange, step);
    });
  await service.executeStep(taskId, body, deliver);
}

/** POST artifacts: the task must exist before its upload is read. */
async function uploadArtifact(service: TaskService, exchange: Exchange, maxUploadBytes: number): Promise<void> {
  const taskId = param(exchange, 'task_id');
  service.get(taskId);
  const upload = await readUpload(exchange.request, maxUploadBytes);
  json(exchange, await service.upload(taskId, upload.file, upload.relativePath));
}

async function downloadArtifact(service: TaskService, exchange: Exchange): Promise<void> {
  const file = await service.download(param(exchange, 'task_id'), param(exchange, 'artifact_id'));
  exchange.response.writeHead(200, {
    ...exchange.headers,
    'content-type': 'application/octet-stream',
    'content-length': file.content.length,
    'content-disposition': contentDisposition(file.name),
    'x-content-type-options': 'nosniff',
  });
  exchange.response.end(file.content);
}

/**
 * The multipart upload: field `file` and optional `relative_path`. Parsed with the platform's own
 * multipart parser (undici's Request.formData), after the size cap.
 */
async function readUpload(
  request: IncomingMessage,
  limit: number,
): Promise<{ file: { name: string; content: Buffer }; relativePath: string | null }> {
  const type = mediaType(request);
  if (type !== 'multipart/form-data') {
    throw new ProtocolError(
      415,
      `Upload an artifact as multipart/form-data with a \`file\` field (got ${type === '' ? 'no Content-Type' : type}).`,
      { accept: 'multipart/form-data' },
    );
  }
  const body = await readBody(request, limit);
  let form: FormData;
  try {
    form = await new Request('http://localhost/', {
      method: 'POST',
      headers: { 'content-type': request.headers['content-type']! },
      body,
    }).formData();
  } catch {
    throw new ProtocolError(422, 'The multipart body could not be read.');
  }
  const file = form.get('file');
  if (file === null || typeof file === 'string')
    throw new ProtocolError(422, 'The upload needs a `file` field holding a file.');
  const relative = form.get('relative_path');
  return {
    file: { name: file.name, content: Buffer.from(await file.arrayBuffer()) },
    relativePath: typeof relative === 'string' && relative !== '' ? relative : null,
  };
}
