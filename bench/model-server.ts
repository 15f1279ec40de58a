import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from '../test/helpers/openai-server.js';
import { scriptedModel, type ScriptedApp } from '../test/helpers/scripted-model.js';

/**
 * How fast the simulated model is: time to first token, then tokens per second; or every call lasting
 * `callMs` whatever its length (the first token at 30 % of it, the rest streamed evenly), which makes the
 * critical path exact: plan + file list + waves x callMs.
 */
export type LatencyModel = { ttftMs: number; tokensPerSecond: number } | { callMs: number };

/** Time to first token and streaming speed for an answer of `tokens` tokens. */
function pace(latency: LatencyModel, tokens: number): { ttftMs: number; tokensPerSecond: number; nominalMs: number } {
  if ('callMs' in latency) {
    const ttftMs = latency.callMs * 0.3;
    return { ttftMs, tokensPerSecond: tokens / ((latency.callMs - ttftMs) / 1000), nominalMs: latency.callMs };
  }
  return { ...latency, nominalMs: latency.ttftMs + (tokens / latency.tokensPerSecond) * 1000 };
}

/** `100 ms to first token, 1000 tokens/s` or `1000 ms a call`. */
export function describeLatency(latency: LatencyModel): string {
  return 'callMs' in latency
    ? `${latency.callMs} ms a call`
    : `${latency.ttftMs} ms to first token, ${latency.tokensPerSecond} tokens/s`;
}

/** A requests-per-window limit (a sliding window log): past it, 429 with `retry-after-ms` and `retry-after`. */
export interface RequestLimit {
  requests: number;
  windowMs: number;
}

/** One request as the server handled it; times are `performance.now()` in the bench process. */
export interface ServedCall {
  stage: string;
  file: string | undefined;
  status: 200 | 429;
  arrivedAt: number;
  endedAt: number;
  /** The request body's size in tokens (characters / 4): everything sent, JSON included. */
  inputTokens: number;
  outputTokens: number;
  /** What the latency model says this answer takes (0 for a 429). */
  nominalMs: number;
}

export interface BenchServer {
  url: string;
  /** Every request since the last `reset()`, in arrival order. */
  calls: ServedCall[];
  reset(): void;
  setLatency(latency: LatencyModel): void;
  close(): Promise<void>;
}

/** Output tokens are counted as characters / 4, the rule of thumb the scripted answers are sized with. */
const CHARS_PER_TOKEN = 4;
/** The stream sends what the model "produced" every tick. */
const TICK_MS = 10;

/**
 * A loopback (127.0.0.1) OpenAI-compatible server for benchmarks: answers come from the scripted model the
 * tests use (stable re-plans included), streamed at the speed the latency model sets, optionally behind a
 * request limit. It runs in the bench process; smol runs as a subprocess, so they never share an event loop.
 */
export async function startBenchServer(options: {
  app: () => ScriptedApp;
  latency: LatencyModel;
  limit?: RequestLimit;
}): Promise<BenchServer> {
  const model = scriptedModel(options.app);
  let latency = options.latency;
  let calls: ServedCall[] = [];
  const admitted: number[] = [];
  const server = http.createServer((req, res) => {
    const arrivedAt = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on(
      'end',
      () => void answer(req, res, Buffer.concat(chunks).toString('utf8'), arrivedAt).catch(() => res.destroy()),
    );
  });

  /** Null when the request is within the limit; else the milliseconds until the oldest admitted one leaves the window. */
  function refusal(): number | null {
    const limit = options.limit;
    if (limit === undefined) return null;
    const now = Date.now();
    while (admitted.length > 0 && admitted[0]! <= now - limit.windowMs) admitted.shift();
    if (admitted.length < limit.requests) {
      admitted.push(now);
      return null;
    }
    return admitted[0]! + limit.windowMs - now;
  }

  async function answer(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    text: string,
    arrivedAt: number,
  ): Promise<void> {
    const stage = String(req.headers['x-smol-stage'] ?? 'none');
    const file = typeof req.headers['x-smol-file'] === 'string' ? req.headers['x-smol-file'] : undefined;
    const waitMs = refusal();
    if (waitMs !== null) {
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after-ms': String(waitMs),
        'retry-after': String(Math.ceil(waitMs / 1000)),
      });
      res.end(
        JSON.stringify({
          error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
        }),
      );
      calls.push({
        stage,
        file,
        status: 429,
        arrivedAt,
        endedAt: performance.now(),
        inputTokens: 0,
        outputTokens: 0,
        nominalMs: 0,
      });
      return;
    }
    const body = JSON.parse(text) as { messages?: unknown[] };
    const record: RecordedRequest = { stage, file, headers: req.headers, body, aborted: false, path: req.url ?? '/' };
    const reply = model(record);
    const content = reply.content ?? '';
    const tool = reply.toolCalls?.[0];
    const outputTokens = Math.max(1, Math.ceil((tool?.arguments ?? content).length / CHARS_PER_TOKEN));
    const { ttftMs, tokensPerSecond, nominalMs } = pace(latency, outputTokens);
    const promptTokens = Math.ceil(text.length / CHARS_PER_TOKEN);
    const send = (payload: unknown): void => void res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: unknown, finish: string | null = null) => ({
      id: 'bench',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'bench',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // Times are measured from arrival, so the server's own scheduling slop never accumulates.
    await sleepUntil(arrivedAt + ttftMs);
    if (tool !== undefined) {
      // Tool arguments are not worth streaming token by token: they arrive whole, at the time they would end.
      await sleepUntil(arrivedAt + nominalMs);
      send(
        chunk({
          role: 'assistant',
          tool_calls: [
            { index: 0, id: 'call_1', type: 'function', function: { name: tool.name, arguments: tool.arguments } },
          ],
        }),
      );
      send(chunk({}, 'tool_calls'));
    } else {
      const charsPerTick = Math.max(1, Math.round((tokensPerSecond * TICK_MS) / 1000)) * CHARS_PER_TOKEN;
      for (let offset = 0; offset < content.length; offset += charsPerTick) {
        await sleepUntil(arrivedAt + ttftMs + (offset / CHARS_PER_TOKEN / tokensPerSecond) * 1000);
        send(chunk({ content: content.slice(offset, offset + charsPerTick) }));
      }
      await sleepUntil(arrivedAt + nominalMs);
      send(chunk({}, 'stop'));
    }
    send({
      id: 'bench',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'bench',
      choices: [],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: outputTokens,
        total_tokens: promptTokens + outputTokens,
      },
    });
    res.end('data: [DONE]\n\n');
    calls.push({
      stage,
      file,
      status: 200,
      arrivedAt,
      endedAt: performance.now(),
      inputTokens: promptTokens,
      outputTokens,
      nominalMs,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get calls() {
      return calls;
    },
    reset() {
      calls = [];
    },
    setLatency(next) {
      latency = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sleepUntil(at: number): Promise<void> {
  const ms = at - performance.now();
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** Answered (non-429) calls. */
export function answered(calls: readonly ServedCall[]): ServedCall[] {
  return calls.filter((call) => call.status === 200);
}

/** Answered calls per stage, e.g. `{ plan: 1, code: 1 }`. */
export function callsByStage(calls: readonly ServedCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of answered(calls)) counts[call.stage] = (counts[call.stage] ?? 0) + 1;
  return counts;
}

export function tokensOf(calls: readonly ServedCall[]): { input: number; output: number } {
  const served = answered(calls);
  return {
    input: served.reduce((total, call) => total + call.inputTokens, 0),
    output: served.reduce((total, call) => total + call.outputTokens, 0),
  };
}
