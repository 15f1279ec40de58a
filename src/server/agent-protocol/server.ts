import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SmolError, SpecError } from '../../errors.js';
import { detectAndCreateProvider } from '../../llm/create.js';
import type { Provider } from '../../llm/types.js';
import { parseSpecText, type SpecOverrides } from '../../spec/load.js';
import type { ClientPolicy } from './client-settings.js';
import { httpFailure } from './errors.js';
import { checkExposure, RequestGuard } from './guard.js';
import { authorized, sendJson } from './http.js';
import { matchRoute, type Route } from './router.js';
import { agentRoutes, type Handler } from './routes.js';
import { TaskService } from './tasks.js';
import { ProtocolError } from './types.js';

export interface AgentServerOptions {
  /** Folder for the tasks' files, one subfolder per task. */
  workspace: string;
  /** The operator's settings (flags): model, provider, baseURL, maxTokens ... Clients can change only a few. */
  overrides: SpecOverrides;
  env: Record<string, string | undefined>;
  /** Models a client may choose besides `overrides.model` (exact names or `*` patterns). Default none. */
  allowModels?: readonly string[];
  /** A fixed provider (tests); otherwise one is made once from `overrides` and `env`. */
  provider?: { provider: Provider; description: string };
  /** Default 127.0.0.1. Any other address needs `token`. */
  host?: string;
  port?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** More names the Host header may carry (a proxy's); `*` accepts any. */
  allowHosts?: readonly string[];
  /** Browser origins allowed to call the server (CORS). Default none. */
  corsOrigins?: readonly string[];
  /** Largest JSON body (default 1 MiB) and upload (default 10 MiB). */
  maxBodyBytes?: number;
  maxUploadBytes?: number;
  /** Where the operator reads what clients never see: provider failures in full, and bugs. */
  onError?: (error: unknown) => void;
  log?: (line: string) => void;
}

export interface AgentServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Agent Protocol v1 over node:http, safe by default: binds 127.0.0.1, answers only its own Host names,
 * refuses foreign browser origins and non-JSON bodies, and lets clients choose only the settings in
 * `CLIENT_SETTINGS`, within the operator's limits.
 *
 * @throws SmolError `SERVE_UNSAFE` or `SPEC_INVALID` (exit 2) for a configuration it will not serve
 */
export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const host = options.host ?? '127.0.0.1';
  const exposure = {
    host,
    token: options.token,
    allowHosts: options.allowHosts ?? [],
    corsOrigins: options.corsOrigins ?? [],
  };
  checkExposure(exposure);
  const policy: ClientPolicy = { operator: options.overrides, allowModels: options.allowModels ?? [] };
  await checkOperatorSettings(policy, options.workspace);
  const created =
    options.provider ??
    (await detectAndCreateProvider(
      { ...options.overrides, model: options.overrides.model ?? policy.allowModels[0] },
      options.env,
    ));
  options.log?.(`model provider: ${created.description}`);

  const shutdown = new AbortController();
  const service = new TaskService({
    workspace: options.workspace,
    policy,
    provider: async () => created,
    signal: shutdown.signal,
  });
  const routes = agentRoutes(service, {
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    maxUploadBytes: options.maxUploadBytes ?? 10 * 1024 * 1024,
  });
  const handle = requestHandler(routes, new RequestGuard(exposure), options.token);
  const server = http.createServer((request, response) => {
    const headers: Record<string, string> = {};
    const fail = (error: unknown): void => answerFailure(request, response, headers, error, options);
    handle(request, response, headers).catch(fail);
  });
  const url = await listen(server, options.port ?? 8000, host);
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        shutdown.abort(new SmolError('SERVER_CLOSED', 'The server is shutting down.'));
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

type RequestHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  headers: Record<string, string>,
) => Promise<void>;

/**
 * Answers one request: the guard (Host, Origin), CORS preflight, the token, then the route's handler.
 * `headers` collects what every answer carries (CORS), for the error answer too.
 */
function requestHandler(
  routes: readonly Route<Handler>[],
  guard: RequestGuard,
  token: string | undefined,
): RequestHandler {
  return async (request, response, headers) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const { corsOrigin } = guard.check(request);
    if (corsOrigin !== undefined)
      Object.assign(headers, {
        'access-control-allow-origin': corsOrigin,
        'access-control-expose-headers': 'content-disposition',
        vary: 'Origin',
      });
    const method = request.method ?? 'GET';
    const match = matchRoute<Handler>(routes, method, url.pathname);
    if (method === 'OPTIONS') {
      // Answered before the token check: a browser's preflight carries no Authorization header.
      if (match.kind !== 'method-not-allowed') throw new ProtocolError(404, `No route ${url.pathname}.`);
      const allow = match.allow.join(', ');
      const preflight =
        corsOrigin === undefined
          ? {}
          : {
              'access-control-allow-methods': allow,
              'access-control-allow-headers': 'authorization, content-type',
              'access-control-max-age': '600',
            };
      response.writeHead(204, { ...headers, ...preflight, allow });
      response.end();
      return;
    }
    if (!authorized(request, token)) {
      throw new ProtocolError(401, 'Missing or wrong bearer token.', { 'www-authenticate': 'Bearer' });
    }
    if (match.kind === 'not-found') throw new ProtocolError(404, `No route ${method} ${url.pathname}.`);
    if (match.kind === 'method-not-allowed')
      throw new ProtocolError(405, `${method} is not allowed on ${url.pathname}.`, { allow: match.allow.join(', ') });
    await match.handler({ request, response, url, params: match.params, headers });
  };
}

/** A failed request: a protocol error as its status, anything else as 500 with the details in the log only. */
function answerFailure(
  request: IncomingMessage,
  response: ServerResponse,
  headers: Record<string, string>,
  error: unknown,
  options: Pick<AgentServerOptions, 'onError' | 'log'>,
): void {
  if (response.headersSent) return void response.destroy();
  const failure = httpFailure(error);
  if (failure === undefined) options.onError?.(error);
  else if (failure.log !== undefined) options.log?.(`${request.method ?? ''} ${request.url ?? ''}: ${failure.log}`);
  const message = failure?.message ?? 'Internal error; see the server log.';
  sendJson(response, failure?.status ?? 500, { message }, { ...headers, ...failure?.headers });
}

/** Listens on `host:port`; resolves the server's URL (the port it got when asked for 0). */
async function listen(server: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/**
 * The operator's settings, checked once at start (a bad flag is the operator's error, not a client's),
 * and a model for every task: the operator's, or one a client must choose from `allowModels`.
 */
async function checkOperatorSettings(policy: ClientPolicy, workspace: string): Promise<void> {
  if (policy.operator.model === undefined && policy.allowModels.length === 0) {
    throw new SmolError('SERVE_NO_MODEL', 'smol serve needs a model.', {
      exitCode: 2,
      hint: 'Pass --model NAME (the default for every task), and --allow-models to let clients choose others.',
    });
  }
  try {
    await parseSpecText('smol serve', {
      file: path.join(workspace, 'task-prompt.md'),
      overrides: { ...policy.operator, model: policy.operator.model ?? 'client-chosen' },
    });
  } catch (error) {
    if (error instanceof SpecError)
      throw new SmolError('SPEC_INVALID', error.message, { exitCode: 2, hint: 'Fix the flag named above.' });
    throw error;
  }
}
