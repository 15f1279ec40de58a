import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isSmolError } from '../../errors.js';
import { authorized, pageOf, paginate, readBody, readJson, sendJson } from './http.js';
import { TaskService, type TaskServiceOptions } from './tasks.js';
import { ProtocolError } from './types.js';

export interface AgentServerOptions extends TaskServiceOptions {
  host?: string;
  port?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest JSON body (default 1 MiB) and upload (default 10 MiB). */
  maxBodyBytes?: number;
  maxUploadBytes?: number;
  /** Where errors that are bugs are reported (the CLI passes stderr). */
  onError?: (error: unknown) => void;
}

export interface AgentServer {
  url: string;
  close(): Promise<void>;
}

const PREFIX = '/ap/v1/agent/tasks';

/** Agent Protocol v1 over node:http. Binds 127.0.0.1 unless told otherwise. */
export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const service = new TaskService(options);
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const maxUpload = options.maxUploadBytes ?? 10 * 1024 * 1024;

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!authorized(request, options.token)) {
      response.setHeader('www-authenticate', 'Bearer');
      return sendJson(response, 401, { message: 'Missing or wrong bearer token.' });
    }
    const parts = url.pathname.replace(/\/+$/, '').split('/').filter((part) => part !== '');
    // ap / v1 / agent / tasks / {task_id} / (steps|artifacts) / {id}
    if (`/${parts.slice(0, 4).join('/')}` !== PREFIX) throw new ProtocolError(404, `No route ${request.method} ${url.pathname}.`);
    const [taskId, collection, itemId, extra] = parts.slice(4);
    const method = request.method ?? 'GET';
    if (extra !== undefined) throw new ProtocolError(404, `No route ${method} ${url.pathname}.`);

    if (taskId === undefined) {
      if (method === 'GET') {
        const { page, size } = pageOf(url);
        const { items, pagination } = paginate(service.list(), page, size);
        return sendJson(response, 200, { tasks: items, pagination });
      }
      if (method === 'POST') return sendJson(response, 200, await service.create(await readJson(request, maxBody)));
      throw new ProtocolError(405, `${method} is not allowed on ${PREFIX}.`);
    }
    if (collection === undefined) {
      if (method !== 'GET') throw new ProtocolError(405, `${method} is not allowed on a task.`);
      return sendJson(response, 200, service.get(taskId).task);
    }
    if (collection === 'steps') {
      if (itemId !== undefined) {
        if (method !== 'GET') throw new ProtocolError(405, `${method} is not allowed on a step.`);
        return sendJson(response, 200, service.getStep(taskId, itemId));
      }
      if (method === 'GET') {
        const { page, size } = pageOf(url);
        const { items, pagination } = paginate(service.get(taskId).steps, page, size);
        return sendJson(response, 200, { steps: items, pagination });
      }
      if (method === 'POST') {
        service.get(taskId);
        return sendJson(response, 200, await service.executeStep(taskId, await readJson(request, maxBody)));
      }
      throw new ProtocolError(405, `${method} is not allowed on steps.`);
    }
    if (collection === 'artifacts') {
      if (itemId !== undefined) {
        if (method !== 'GET') throw new ProtocolError(405, `${method} is not allowed on an artifact.`);
        const file = await service.download(taskId, itemId);
        response.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': file.content.length,
          'content-disposition': `attachment; filename="${file.name.replace(/["\\\r\n]/g, '_')}"`,
        });
        response.end(file.content);
        return;
      }
      if (method === 'GET') {
        const { page, size } = pageOf(url);
        const { items, pagination } = paginate(service.get(taskId).task.artifacts, page, size);
        return sendJson(response, 200, { artifacts: items, pagination });
      }
      if (method === 'POST') {
        service.get(taskId);
        const upload = await readUpload(request, maxUpload);
        return sendJson(response, 200, await service.upload(taskId, upload.file, upload.relativePath));
      }
      throw new ProtocolError(405, `${method} is not allowed on artifacts.`);
    }
    throw new ProtocolError(404, `No route ${method} ${url.pathname}.`);
  }

  const server = http.createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (response.headersSent) return void response.destroy();
      if (error instanceof ProtocolError) return sendJson(response, error.status, { message: error.message });
      if (isSmolError(error)) return sendJson(response, error.exitCode === 2 ? 422 : 500, { message: error.message });
      options.onError?.(error);
      sendJson(response, 500, { message: 'Internal error; see the server log.' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The multipart upload: field `file` and optional `relative_path`. Parsed with the platform's own
 * multipart parser (undici's Request.formData), after the size cap.
 */
async function readUpload(request: IncomingMessage, limit: number): Promise<{ file: { name: string; content: Buffer }; relativePath: string | null }> {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('multipart/form-data')) throw new ProtocolError(422, 'Upload an artifact as multipart/form-data with a `file` field.');
  const body = await readBody(request, limit);
  let form: FormData;
  try {
    form = await new Request('http://localhost/', { method: 'POST', headers: { 'content-type': type }, body }).formData();
  } catch {
    throw new ProtocolError(422, 'The multipart body could not be read.');
  }
  const file = form.get('file');
  if (file === null || typeof file === 'string') throw new ProtocolError(422, 'The upload needs a `file` field holding a file.');
  const relative = form.get('relative_path');
  return {
    file: { name: file.name || 'upload', content: Buffer.from(await file.arrayBuffer()) },
    relativePath: typeof relative === 'string' && relative !== '' ? relative : null,
  };
}
