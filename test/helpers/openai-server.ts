import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions wire format (JSON and SSE),
 * so tests drive the official SDK end to end: streaming, tool calls, usage, errors with Retry-After,
 * slow and dropped connections, and client aborts.
 */

/** One request as the server saw it, recorded on arrival. */
export interface RecordedRequest {
  /** The `X-Smol-Stage` header. */
  stage: string | undefined;
  /** The `X-Smol-File` header. */
  file: string | undefined;
  headers: IncomingHttpHeaders;
  /**
   * The parsed JSON body (model, messages, tools, tool_choice, stream, temperature, max_tokens ...).
   * `any` because tests poke at arbitrary wire fields; typing the whole OpenAI request here buys nothing.
   */
  // biome-ignore lint/suspicious/noExplicitAny: see above.
  body: any;
  /** True when the client disconnected before the reply was finished. */
  aborted: boolean;
  /** The request path, e.g. `/v1/chat/completions` or `/openai/deployments/NAME/chat/completions`. */
  path: string;
  /** The query string, `?` included (`''` for none); absent where other servers record requests. */
  search?: string;
  /** Azure URL shape only: the deployment in the path and the `api-version` query parameter. */
  deployment?: string;
  apiVersion?: string | null;
}

interface MockToolCall {
  name: string;
  arguments: string;
}

export interface MockReply {
  content?: string;
  toolCalls?: MockToolCall[];
  /** Defaults to `tool_calls` when there are tool calls, else `stop`; any other string is sent as is. */
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | (string & {});
  /** Defaults to a rough count (characters / 4); `null` sends no usage at all. */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  /** An error status (429, 500, 401 ...): the reply is an OpenAI error body instead of a completion. */
  status?: number;
  error?: { message: string; type?: string; code?: string };
  /** Extra response headers, e.g. `{ 'retry-after-ms': '50' }`. */
  headers?: Record<string, string>;
  /** Wait this long before sending anything (status line included). */
  delayMs?: number;
  /** Wait this long between stream chunks. */
  chunkDelayMs?: number;
  /** Destroy the socket halfway through the reply. */
  dropConnection?: boolean;
  /**
   * What the model says instead of its tool calls when nothing forces them (a `tool_choice` the server
   * ignores, a schema it ignores): default, a sentence of prose without JSON.
   */
  prose?: string;
  /** Stream this chunk of content again and again, forever (an answer that never ends), after `content`. */
  endless?: string;
  /** Raw `tool_calls` deltas sent as they are (hostile index values and the like), after the normal ones. */
  rawToolCallDeltas?: unknown[];
}

export type ReplyHandler = (request: RecordedRequest) => MockReply | Promise<MockReply>;

export interface MockOpenAIServer {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:PORT/v1`. */
  url: string;
  /** `http://127.0.0.1:PORT`: an Azure endpoint (`/openai/deployments/...`) or an OLLAMA_HOST (`/api/tags`). */
  origin: string;
  requests: RecordedRequest[];
  setHandler(handler: ReplyHandler): void;
  close(): Promise<void>;
}

const defaultHandler: ReplyHandler = () => ({ content: 'ok' });

/**
 * Ways real local servers differ from OpenAI (issue 16), each switched on by itself:
 * - `tools: 'refuse-500'`: any request carrying `tools` gets llama.cpp-without-`--jinja`'s
 *   `500 tools param requires --jinja flag`; `'refuse-400'` Ollama's `400 ... does not support tools`.
 * - `toolChoiceObject`: the object form of `tool_choice` is `ignored` (llama.cpp: the call is not forced,
 *   and the model answers prose) or `refused` (400); `toolChoiceString: 'refuse'`: `"required"` is refused
 *   (older vLLM). Ollama ignores both: set both to `ignore`.
 * - `jsonSchema`: `response_format: json_schema` is `constrain`ed (the default: the reply's tool call
 *   becomes the answer text, as a grammar would force it), `ignore`d (prose) or `refuse`d (400).
 * - `contextTokens`: the context window (4 characters a token): a prompt that does not fit is llama.cpp's
 *   400 `exceeds the available context size`; an answer that would overflow stops with `length`.
 * - `props`: `GET /props` answers like llama-server; `ollama`: `GET /api/version` and `POST /api/show`
 *   answer like Ollama, with these capabilities and num_ctx.
 */
export interface ServerQuirks {
  tools?: 'refuse-500' | 'refuse-400';
  toolChoiceObject?: 'ignore' | 'refuse';
  toolChoiceString?: 'ignore' | 'refuse';
  jsonSchema?: 'constrain' | 'ignore' | 'refuse';
  contextTokens?: number;
  props?: { nCtx?: number; supportsTools?: boolean; jinja?: boolean; build?: string };
  ollama?: { version?: string; capabilities?: string[]; numCtx?: number };
}

export interface OpenAIServerOptions {
  handler?: ReplyHandler;
  quirks?: ServerQuirks;
  delayMs?: number;
  /** What `GET /v1/models` (and Azure's `GET /openai/models`) lists; default the models requested so far. */
  models?: string[];
  /** `GET /v1/models` answers 404, like servers that do not list models. */
  noModelList?: boolean;
  /** `GET /api/tags` answers like Ollama does (default true). */
  ollamaTags?: boolean;
  /** Status for `GET /models` (e.g. 401 to refuse the key). */
  modelsStatus?: number;
}

export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<MockOpenAIServer> {
  let handler = options.handler ?? defaultHandler;
  const requests: RecordedRequest[] = [];
  const modelsSeen = new Set<string>();
  // Aborted on close so replies sleeping in a delay stop at once instead of holding timers open.
  const closing = new AbortController();
  let sequence = 0;

  const server = http.createServer((req, res) => {
    res.on('error', () => {});
    route(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      sendError(res, 500, { message: `mock server failed: ${String(error)}`, type: 'server_error' });
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && (path === '/v1/models' || path === '/openai/models')) {
      if (options.noModelList === true) {
        sendError(res, 404, { message: `Unknown route GET ${path}`, type: 'invalid_request_error' });
      } else if (options.modelsStatus !== undefined) {
        sendError(res, options.modelsStatus, {
          message: `mock error ${options.modelsStatus}`,
          type: 'invalid_request_error',
        });
      } else {
        sendJson(res, 200, {
          object: 'list',
          data: (options.models ?? [...modelsSeen]).map((id) => ({
            id,
            object: 'model',
            created: 0,
            owned_by: 'smol-test',
          })),
        });
      }
      return;
    }
    const quirks = options.quirks ?? {};
    if (req.method === 'GET' && path === '/props' && quirks.props !== undefined) {
      const props = quirks.props;
      sendJson(res, 200, {
        default_generation_settings: { n_ctx: props.nCtx ?? 4096, params: {} },
        total_slots: 1,
        model_path: '/models/model.gguf',
        chat_template: '{{ messages }}',
        chat_template_caps: {
          supports_tools: props.supportsTools ?? true,
          supports_tool_calls: props.supportsTools ?? true,
        },
        ...(props.jinja === true ? { chat_template_tool_use: '{{ tools }}' } : {}),
        build_info: props.build ?? 'b6000-mock',
      });
      return;
    }
    if (quirks.ollama !== undefined && req.method === 'GET' && path === '/api/version') {
      sendJson(res, 200, { version: quirks.ollama.version ?? '0.12.0' });
      return;
    }
    if (quirks.ollama !== undefined && req.method === 'POST' && path === '/api/show') {
      await readBody(req);
      sendJson(res, 200, {
        capabilities: quirks.ollama.capabilities ?? ['completion'],
        parameters:
          quirks.ollama.numCtx === undefined
            ? 'stop "<|im_end|>"'
            : `num_ctx ${quirks.ollama.numCtx}\nstop "<|im_end|>"`,
        model_info: {},
      });
      return;
    }
    if (req.method === 'GET' && path === '/api/tags' && options.ollamaTags !== false) {
      sendJson(res, 200, { models: (options.models ?? [...modelsSeen]).map((name) => ({ name, model: name })) });
      return;
    }
    const azure = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(path);
    if (req.method !== 'POST' || (path !== '/v1/chat/completions' && azure === null)) {
      await readBody(req);
      sendError(res, 404, { message: `Unknown route ${req.method ?? ''} ${path}`, type: 'invalid_request_error' });
      return;
    }

    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      sendError(res, 400, { message: 'Request body is not JSON', type: 'invalid_request_error' });
      return;
    }
    const record: RecordedRequest = {
      stage: headerValue(req.headers['x-smol-stage']),
      file: headerValue(req.headers['x-smol-file']),
      headers: req.headers,
      body,
      aborted: false,
      path,
      search: url.search,
      ...(azure === null
        ? {}
        : { deployment: decodeURIComponent(azure[1]!), apiVersion: url.searchParams.get('api-version') }),
    };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });
    const requestBody = body as { model?: unknown };
    if (typeof requestBody.model === 'string') modelsSeen.add(requestBody.model);

    const refusal = refusalFor(record.body, quirks);
    const reply = refusal ?? shape(await handler(record), record.body, quirks);
    const stop = AbortSignal.any([closing.signal, closedSignal(res)]);
    const delayMs = reply.delayMs ?? options.delayMs ?? 0;
    if (delayMs > 0 && !(await wait(delayMs, stop))) return;
    if (res.destroyed) return;

    if (reply.status !== undefined && reply.status >= 400) {
      sendError(
        res,
        reply.status,
        reply.error ?? { message: `mock error ${reply.status}`, type: 'server_error' },
        reply.headers,
      );
      return;
    }
    sequence += 1;
    const completion = buildCompletion(`chatcmpl-mock-${sequence}`, record.body, reply);
    if (record.body?.stream === true) {
      await streamCompletion(res, completion, reply, record.body?.stream_options?.include_usage === true, stop);
    } else if (reply.dropConnection === true) {
      res.socket?.destroy();
    } else {
      sendJson(res, 200, completionJson(completion), reply.headers);
    }
  }

  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    origin: `http://127.0.0.1:${port}`,
    requests,
    setHandler(next) {
      handler = next;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** The error a quirky server answers a request with, if any. `body` is the raw wire body. */
// biome-ignore lint/suspicious/noExplicitAny: the raw wire body, as RecordedRequest.body.
function refusalFor(body: any, quirks: ServerQuirks): MockReply | undefined {
  const hasTools = Array.isArray(body?.tools) && body.tools.length > 0;
  if (hasTools && quirks.tools === 'refuse-500')
    return { status: 500, error: { message: 'tools param requires --jinja flag', type: 'server_error' } };
  if (hasTools && quirks.tools === 'refuse-400') {
    return {
      status: 400,
      error: { message: `registry.ollama.ai/library/${String(body?.model)} does not support tools`, type: 'api_error' },
    };
  }
  const choice = body?.tool_choice;
  if (hasTools && typeof choice === 'object' && choice !== null && quirks.toolChoiceObject === 'refuse') {
    return {
      status: 400,
      error: {
        message: "Invalid 'tool_choice': expected a string ('none', 'auto' or 'required')",
        type: 'invalid_request_error',
      },
    };
  }
  if (hasTools && typeof choice === 'string' && choice === 'required' && quirks.toolChoiceString === 'refuse') {
    return { status: 400, error: { message: 'tool_choice = "required" is not supported!', type: 'BadRequestError' } };
  }
  if (body?.response_format?.type === 'json_schema' && quirks.jsonSchema === 'refuse') {
    return {
      status: 400,
      error: { message: "response_format type 'json_schema' is not supported", type: 'invalid_request_error' },
    };
  }
  if (quirks.contextTokens !== undefined && promptTokens(body) >= quirks.contextTokens) {
    return {
      status: 400,
      error: {
        message: 'the request exceeds the available context size, try increasing it',
        type: 'exceed_context_size_error',
      },
    };
  }
  return undefined;
}

/** The reply as a server with these quirks would send it: tool calls dropped when not forced, schemas applied, context limits. */
// biome-ignore lint/suspicious/noExplicitAny: the raw wire body, as RecordedRequest.body.
function shape(reply: MockReply, body: any, quirks: ServerQuirks): MockReply {
  let shaped = reply;
  const toolCalls = reply.toolCalls ?? [];
  const hasTools = Array.isArray(body?.tools) && body.tools.length > 0;
  const choice = body?.tool_choice;
  const schema = body?.response_format?.type === 'json_schema';
  const forced =
    hasTools &&
    ((typeof choice === 'object' && choice !== null && quirks.toolChoiceObject !== 'ignore') ||
      (choice === 'required' && quirks.toolChoiceString !== 'ignore'));
  const prose = reply.prose ?? 'Sure! You will need a few files for that: an entry point and a helper.';
  if (schema && toolCalls.length > 0 && reply.content === undefined) {
    shaped =
      quirks.jsonSchema === 'ignore'
        ? { ...reply, toolCalls: [], content: prose }
        : { ...reply, toolCalls: [], content: toolCalls[0]!.arguments };
  } else if (
    hasTools &&
    !forced &&
    toolCalls.length > 0 &&
    (quirks.toolChoiceObject === 'ignore' || quirks.toolChoiceString === 'ignore')
  ) {
    shaped = { ...reply, toolCalls: [], content: prose };
  }
  if (quirks.contextTokens !== undefined && shaped.content !== undefined) {
    const room = quirks.contextTokens - promptTokens(body);
    if (Math.ceil(shaped.content.length / 4) > room) {
      shaped = {
        ...shaped,
        content: shaped.content.slice(0, room * 4),
        finishReason: 'length',
        usage: { prompt_tokens: promptTokens(body), completion_tokens: room },
      };
    }
  }
  return shaped;
}

// biome-ignore lint/suspicious/noExplicitAny: the raw wire body, as RecordedRequest.body.
function promptTokens(body: any): number {
  return Math.max(1, Math.ceil(JSON.stringify(body?.messages ?? []).length / 4));
}

interface Completion {
  id: string;
  model: string;
  content: string | undefined;
  toolCalls: MockToolCall[];
  finishReason: string;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
}

// biome-ignore lint/suspicious/noExplicitAny: `body` is the raw wire body, as RecordedRequest.body.
function buildCompletion(id: string, body: any, reply: MockReply): Completion {
  const toolCalls = reply.toolCalls ?? [];
  const content = reply.content ?? (toolCalls.length > 0 ? undefined : '');
  const promptChars = JSON.stringify(body?.messages ?? []).length;
  const outputChars = (content ?? '').length + toolCalls.reduce((n, call) => n + call.arguments.length, 0);
  return {
    id,
    model: typeof body?.model === 'string' ? body.model : 'mock-model',
    content,
    toolCalls,
    finishReason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage:
      reply.usage === null
        ? null
        : (reply.usage ?? {
            prompt_tokens: Math.max(1, Math.ceil(promptChars / 4)),
            completion_tokens: Math.max(1, Math.ceil(outputChars / 4)),
          }),
  };
}

function usageJson(usage: { prompt_tokens: number; completion_tokens: number }) {
  return { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

function completionJson(completion: Completion) {
  return {
    id: completion.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: completion.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: completion.content ?? null,
          ...(completion.toolCalls.length > 0
            ? {
                tool_calls: completion.toolCalls.map((call, index) => ({
                  id: `call_mock_${index}`,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        finish_reason: completion.finishReason,
        logprobs: null,
      },
    ],
    ...(completion.usage === null ? {} : { usage: usageJson(completion.usage) }),
  };
}

/** The SSE events of a streamed completion, in order, as they go on the wire. */
function streamEvents(completion: Completion, includeUsage: boolean): string[] {
  const created = Math.floor(Date.now() / 1000);
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: completion.id,
      object: 'chat.completion.chunk',
      created,
      model: completion.model,
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    });
  const delta = (value: Record<string, unknown>, finishReason: string | null = null) => ({
    index: 0,
    delta: value,
    finish_reason: finishReason,
    logprobs: null,
  });

  const events = [chunk([delta({ role: 'assistant', content: '' })])];
  for (const piece of split(completion.content ?? '', 4)) events.push(chunk([delta({ content: piece })]));
  completion.toolCalls.forEach((call, index) => {
    events.push(
      chunk([
        delta({
          tool_calls: [
            { index, id: `call_mock_${index}`, type: 'function', function: { name: call.name, arguments: '' } },
          ],
        }),
      ]),
    );
    for (const piece of split(call.arguments, 3)) {
      events.push(chunk([delta({ tool_calls: [{ index, function: { arguments: piece } }] })]));
    }
  });
  events.push(chunk([delta({}, completion.finishReason)]));
  if (includeUsage && completion.usage !== null) events.push(chunk([], { usage: usageJson(completion.usage) }));
  events.push('[DONE]');
  return events;
}

async function streamCompletion(
  res: ServerResponse,
  completion: Completion,
  reply: MockReply,
  includeUsage: boolean,
  stop: AbortSignal,
): Promise<void> {
  const events = streamEvents(completion, includeUsage);
  // Where the finish chunk is: before it the usage chunk (when asked for) and `[DONE]` follow.
  const finishAt = events.length - (includeUsage && completion.usage !== null ? 3 : 2);
  if (reply.rawToolCallDeltas !== undefined) {
    const raw = reply.rawToolCallDeltas.map((delta) =>
      JSON.stringify({
        id: completion.id,
        object: 'chat.completion.chunk',
        created: 0,
        model: completion.model,
        choices: [{ index: 0, delta: { tool_calls: [delta] }, finish_reason: null }],
      }),
    );
    events.splice(finishAt, 0, ...raw);
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...reply.headers,
  });
  res.flushHeaders();
  const dropAt = reply.dropConnection === true ? Math.max(1, Math.floor(events.length / 2)) : -1;
  for (const [index, event] of events.entries()) {
    if (index === dropAt) {
      res.socket?.destroy();
      return;
    }
    if (index > 0 && (reply.chunkDelayMs ?? 0) > 0 && !(await wait(reply.chunkDelayMs ?? 0, stop))) return;
    if (res.destroyed) return;
    if (reply.endless !== undefined && index === finishAt) {
      // Never finishes: the same chunk until the client goes away (or the server closes).
      const chunk = `data: ${JSON.stringify({ id: completion.id, object: 'chat.completion.chunk', created: 0, model: completion.model, choices: [{ index: 0, delta: { content: reply.endless }, finish_reason: null }] })}\n\n`;
      while (!res.destroyed && !stop.aborted) {
        if (!res.write(chunk)) await drainedOrClosed(res);
        if ((reply.chunkDelayMs ?? 0) > 0 && !(await wait(reply.chunkDelayMs ?? 0, stop))) return;
      }
      return;
    }
    res.write(`data: ${event}\n\n`);
  }
  res.end();
}

/** Splits text into about `parts` pieces (at least one character each), never inside a code point. */
export function split(text: string, parts: number): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const size = Math.max(1, Math.ceil(chars.length / parts));
  const pieces: string[] = [];
  for (let start = 0; start < chars.length; start += size) pieces.push(chars.slice(start, start + size).join(''));
  return pieces;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  error: { message: string; type?: string; code?: string },
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    status,
    { error: { message: error.message, type: error.type ?? 'api_error', param: null, code: error.code ?? null } },
    headers,
  );
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Resolves when `res` can take more, or is closed; leaves no listener behind (an endless answer waits often). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

export function closedSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (res.destroyed) controller.abort();
  else res.once('close', () => controller.abort());
  return controller.signal;
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
