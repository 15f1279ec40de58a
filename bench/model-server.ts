import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest } from '../test/helpers/openai-server.js';
import { scriptedModel, type ScriptedApp } from '../test/helpers/scripted-model.js';

/** How fast the simulated model is: time to first token, then tokens per second. */
export interface LatencyModel {
  ttftMs: number;
  tokensPerSecond: number;
}

export interface BenchServerStats {
  requests: number;
  byStage: Record<string, number>;
  outputTokens: number;
  rejected429: number;
  /** Model time per request as nominally set (ttft + tokens / tps), by stage. */
  serviceMs: { stage: string; ms: number }[];
  /** Model time per request as actually delivered (first byte of the request to the end of the answer). */
  actualMs: { stage: string; ms: number }[];
}

export interface BenchServer {
  url: string;
  stats: BenchServerStats;
  reset(): void;
  setLatency(latency: LatencyModel): void;
  close(): Promise<void>;
}

const CHARS_PER_TOKEN = 4;
const TICK_MS = 10;

/**
 * A loopback OpenAI-compatible server for benchmarks: answers come from the scripted model used in tests,
 * streamed at a set speed (time to first token, then tokens per second), with an optional requests-per-window
 * limit answered by 429 + retry-after-ms past it.
 */
export async function startBenchServer(options: { app: () => ScriptedApp; latency: LatencyModel; limit?: { requests: number; windowMs: number } }): Promise<BenchServer> {
  const model = scriptedModel(options.app);
  let latency = options.latency;
  const stats: BenchServerStats = { requests: 0, byStage: {}, outputTokens: 0, rejected429: 0, serviceMs: [], actualMs: [] };
  const accepted: number[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void answer(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => res.destroy());
    });
  });

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, text: string): Promise<void> {
    const arrived = performance.now();
    if (options.limit !== undefined) {
      const now = Date.now();
      while (accepted.length > 0 && accepted[0]! <= now - options.limit.windowMs) accepted.shift();
      if (accepted.length >= options.limit.requests) {
        stats.rejected429 += 1;
        const waitMs = accepted[0]! + options.limit.windowMs - now;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': String(waitMs), 'retry-after': String(Math.ceil(waitMs / 1000)) });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }));
        return;
      }
      accepted.push(now);
    }
    const body = JSON.parse(text) as { stream?: boolean; messages?: unknown[] };
    const stage = String(req.headers['x-smol-stage'] ?? 'none');
    const record: RecordedRequest = { stage, file: req.headers['x-smol-file'] as string | undefined, headers: req.headers, body, aborted: false, path: req.url ?? '/' };
    stats.requests += 1;
    stats.byStage[stage] = (stats.byStage[stage] ?? 0) + 1;
    const reply = model(record);
    const content = reply.content ?? '';
    const toolArgs = reply.toolCalls?.[0]?.arguments;
    const outputText = toolArgs ?? content;
    const tokens = Math.max(1, Math.ceil(outputText.length / CHARS_PER_TOKEN));
    stats.outputTokens += tokens;
    stats.serviceMs.push({ stage, ms: latency.ttftMs + (tokens / latency.tokensPerSecond) * 1000 });
    const promptTokens = Math.ceil(JSON.stringify(body.messages ?? []).length / CHARS_PER_TOKEN);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (payload: unknown): boolean => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: unknown, finish: string | null = null) => ({ id: 'bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] });
    await sleep(latency.ttftMs);
    if (toolArgs !== undefined) {
      await sleep((tokens / latency.tokensPerSecond) * 1000);
      send(chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: reply.toolCalls![0]!.name, arguments: toolArgs } }] }));
      send(chunk({}, 'tool_calls'));
    } else {
      // Stream in ticks: each tick carries the tokens the model would produce in that time.
      const perTick = Math.max(1, Math.round((latency.tokensPerSecond * TICK_MS) / 1000)) * CHARS_PER_TOKEN;
      const started = Date.now();
      for (let offset = 0; offset < content.length; offset += perTick) {
        const due = started + ((offset / CHARS_PER_TOKEN / latency.tokensPerSecond) * 1000);
        if (due > Date.now()) await sleep(due - Date.now());
        send(chunk({ content: content.slice(offset, offset + perTick) }));
      }
      const end = started + (tokens / latency.tokensPerSecond) * 1000;
      if (end > Date.now()) await sleep(end - Date.now());
      send(chunk({}, 'stop'));
    }
    send({ id: 'bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: tokens, total_tokens: promptTokens + tokens } });
    res.end('data: [DONE]\n\n');
    stats.actualMs.push({ stage, ms: performance.now() - arrived });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stats,
    reset() {
      stats.requests = 0;
      stats.byStage = {};
      stats.outputTokens = 0;
      stats.rejected429 = 0;
      stats.serviceMs = [];
      stats.actualMs = [];
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
