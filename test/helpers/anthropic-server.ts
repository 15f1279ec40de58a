import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  closedSignal,
  headerValue,
  readBody,
  split,
  wait,
  type MockReply,
  type RecordedRequest,
} from './openai-server.js';

/**
 * A real HTTP server on 127.0.0.1 speaking the Anthropic Messages wire format: plain JSON and streamed SSE
 * (message_start / content_block_* / message_delta with usage / message_stop, tool use as input_json_delta
 * fragments), the models endpoints, and faults: errors with Retry-After, 529 overloaded, an error event in
 * the middle of a stream, dropped connections. The official SDK talks to it end to end.
 */

interface MockToolUse {
  name: string;
  /** The input as JSON text; streamed in fragments. */
  input: string;
}

export interface MockAnthropicReply {
  text?: string;
  toolUses?: MockToolUse[];
  /** Defaults to `tool_use` when there are tool uses, else `end_turn`. */
  stopReason?: string;
  /** Defaults to a rough count (characters / 4); `null` sends none. */
  usage?: { input_tokens: number; output_tokens: number } | null;
  /** An error status (400, 401, 404, 429, 500, 529 ...): the reply is an Anthropic error body. */
  status?: number;
  error?: { type?: string; message: string };
  headers?: Record<string, string>;
  delayMs?: number;
  chunkDelayMs?: number;
  /** Destroy the socket halfway through the stream. */
  dropConnection?: boolean;
  /** Send an `event: error` halfway through the stream (as the API does when overloaded mid-answer). */
  streamError?: { type: string; message: string };
}

/** The same answer in Anthropic's terms: one scripted model (`scriptedModel`) serves both wire formats. */
export function anthropicReplyFrom(reply: MockReply): MockAnthropicReply {
  return {
    ...(reply.content === undefined ? {} : { text: reply.content }),
    ...(reply.toolCalls === undefined
      ? {}
      : { toolUses: reply.toolCalls.map((call) => ({ name: call.name, input: call.arguments })) }),
    ...(reply.status === undefined ? {} : { status: reply.status }),
    ...(reply.error === undefined ? {} : { error: { message: reply.error.message } }),
  };
}

export type AnthropicHandler = (request: RecordedRequest) => MockAnthropicReply | Promise<MockAnthropicReply>;

export interface MockAnthropicServer {
  /** The server root (what `baseURL` takes for `provider: anthropic`), e.g. `http://127.0.0.1:PORT`. */
  url: string;
  requests: RecordedRequest[];
  setHandler(handler: AnthropicHandler): void;
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export async function startAnthropicServer(
  options: { handler?: AnthropicHandler; models?: string[] } = {},
): Promise<MockAnthropicServer> {
  let handler: AnthropicHandler = options.handler ?? (() => ({ text: 'ok' }));
  const requests: RecordedRequest[] = [];
  const models = options.models ?? ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001'];
  const closing = new AbortController();
  let sequence = 0;

  const server = http.createServer((req, res) => {
    res.on('error', () => {});
    route(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      sendError(res, 500, { message: `mock server failed: ${String(error)}` });
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        data: models.map(modelInfo),
        has_more: false,
        first_id: models[0] ?? null,
        last_id: models.at(-1) ?? null,
      });
      return;
    }
    const modelRoute = /^\/v1\/models\/(.+)$/.exec(path);
    if (req.method === 'GET' && modelRoute !== null) {
      const id = decodeURIComponent(modelRoute[1]!);
      // Aliases resolve to the newest snapshot, as the API does (`claude-sonnet-4-5` -> `claude-sonnet-4-5-2025...`).
      const found = models.find((model) => model === id || model.startsWith(`${id}-`));
      if (found === undefined) sendError(res, 404, { message: `model: ${id}` });
      else sendJson(res, 200, modelInfo(found));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/messages') {
      await readBody(req);
      sendError(res, 404, { message: `Unknown route ${req.method ?? ''} ${path}` });
      return;
    }
    const text = await readBody(req);
    // biome-ignore lint/suspicious/noExplicitAny: tests poke at arbitrary wire fields, as with RecordedRequest.body.
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      sendError(res, 400, { message: 'Request body is not JSON' });
      return;
    }
    const record: RecordedRequest = {
      stage: headerValue(req.headers['x-smol-stage']),
      file: headerValue(req.headers['x-smol-file']),
      headers: req.headers,
      body,
      aborted: false,
      path,
    };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });

    const reply = await handler(record);
    const stop = AbortSignal.any([closing.signal, closedSignal(res)]);
    if ((reply.delayMs ?? 0) > 0 && !(await wait(reply.delayMs ?? 0, stop))) return;
    if (res.destroyed) return;
    if (reply.status !== undefined && reply.status >= 400) {
      sendError(res, reply.status, reply.error ?? { message: `mock error ${reply.status}` }, reply.headers);
      return;
    }
    sequence += 1;
    const message = buildMessage(`msg_mock_${sequence}`, body, reply);
    if (body?.stream === true) await stream(res, message, reply, stop);
    else if (reply.dropConnection === true) res.socket?.destroy();
    else sendJson(res, 200, messageJson(message), reply.headers);
  }

  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
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

interface Message {
  id: string;
  model: string;
  text: string | undefined;
  toolUses: MockToolUse[];
  stopReason: string;
  usage: { input_tokens: number; output_tokens: number } | null;
}

// biome-ignore lint/suspicious/noExplicitAny: `body` is the raw wire body, as in the request handler.
function buildMessage(id: string, body: any, reply: MockAnthropicReply): Message {
  const toolUses = reply.toolUses ?? [];
  const text = reply.text ?? (toolUses.length > 0 ? undefined : '');
  const promptChars = JSON.stringify(body?.messages ?? []).length + String(body?.system ?? '').length;
  const outputChars = (text ?? '').length + toolUses.reduce((n, use) => n + use.input.length, 0);
  return {
    id,
    model: typeof body?.model === 'string' ? body.model : 'claude-mock',
    text,
    toolUses,
    stopReason: reply.stopReason ?? (toolUses.length > 0 ? 'tool_use' : 'end_turn'),
    usage:
      reply.usage === null
        ? null
        : (reply.usage ?? {
            input_tokens: Math.max(1, Math.ceil(promptChars / 4)),
            output_tokens: Math.max(1, Math.ceil(outputChars / 4)),
          }),
  };
}

function content(message: Message): unknown[] {
  const blocks: unknown[] = [];
  if (message.text !== undefined) blocks.push({ type: 'text', text: message.text });
  for (const [index, use] of message.toolUses.entries()) {
    blocks.push({ type: 'tool_use', id: `toolu_mock_${index}`, name: use.name, input: JSON.parse(use.input || '{}') });
  }
  return blocks;
}

function messageJson(message: Message) {
  return {
    id: message.id,
    type: 'message',
    role: 'assistant',
    model: message.model,
    content: content(message),
    stop_reason: message.stopReason,
    stop_sequence: null,
    ...(message.usage === null ? {} : { usage: message.usage }),
  };
}

/** The SSE events of a streamed message, in order: [event name, data]. */
function streamEvents(message: Message): [string, unknown][] {
  const events: [string, unknown][] = [];
  events.push([
    'message_start',
    {
      type: 'message_start',
      message: {
        id: message.id,
        type: 'message',
        role: 'assistant',
        model: message.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        ...(message.usage === null ? {} : { usage: { input_tokens: message.usage.input_tokens, output_tokens: 1 } }),
      },
    },
  ]);
  events.push(['ping', { type: 'ping' }]);
  let index = 0;
  if (message.text !== undefined) {
    events.push([
      'content_block_start',
      { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
    ]);
    for (const piece of split(message.text, 4))
      events.push([
        'content_block_delta',
        { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } },
      ]);
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index += 1;
  }
  for (const [toolIndex, use] of message.toolUses.entries()) {
    events.push([
      'content_block_start',
      {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: `toolu_mock_${toolIndex}`, name: use.name, input: {} },
      },
    ]);
    for (const piece of split(use.input, 3)) {
      events.push([
        'content_block_delta',
        { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } },
      ]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
    index += 1;
  }
  events.push([
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: message.stopReason, stop_sequence: null },
      ...(message.usage === null ? {} : { usage: { output_tokens: message.usage.output_tokens } }),
    },
  ]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return events;
}

async function stream(
  res: ServerResponse,
  message: Message,
  reply: MockAnthropicReply,
  stop: AbortSignal,
): Promise<void> {
  const events = streamEvents(message);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...reply.headers,
  });
  res.flushHeaders();
  const half = Math.max(1, Math.floor(events.length / 2));
  for (const [index, [event, data]] of events.entries()) {
    if (index === half && reply.dropConnection === true) {
      res.socket?.destroy();
      return;
    }
    if (index === half && reply.streamError !== undefined) {
      res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', error: reply.streamError })}\n\n`);
      res.end();
      return;
    }
    if (index > 0 && (reply.chunkDelayMs ?? 0) > 0 && !(await wait(reply.chunkDelayMs ?? 0, stop))) return;
    if (res.destroyed) return;
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
  res.end();
}

function modelInfo(id: string) {
  return { type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  error: { type?: string; message: string },
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    status,
    { type: 'error', error: { type: error.type ?? ERROR_TYPES[status] ?? 'api_error', message: error.message } },
    headers,
  );
}
