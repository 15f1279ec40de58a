import { afterEach, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/llm/create.js';
import { isAbortError, ProviderError } from '../../src/llm/errors.js';
import { createFakeProvider, type FakeScript } from '../../src/llm/fake.js';
import { withRateLimit, type RateLimitOptions } from '../../src/llm/rate-limit.js';
import type { CompletionRequest, ProviderWait } from '../../src/llm/types.js';
import { startAnthropicServer, type MockAnthropicServer } from '../helpers/anthropic-server.js';
import { startOpenAIServer, type MockOpenAIServer, type ReplyHandler } from '../helpers/openai-server.js';
import { createFakeClock } from './fake-clock.js';

const request = (file = 'a.ts'): CompletionRequest => ({
  stage: 'code',
  file,
  model: 'm',
  maxTokens: 100,
  messages: [{ role: 'user', content: 'hi' }],
});
const usage = (tokens: number) => ({ inputTokens: tokens / 2, outputTokens: tokens / 2, estimated: false });
const rateLimited = (retryAfterMs?: number) =>
  new ProviderError('PROVIDER_RATE_LIMIT', 'test at http://x is rate limiting: slow down', {
    status: 429,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

function limited(script: FakeScript, options: Omit<RateLimitOptions, 'clock'> = {}) {
  const clock = createFakeClock();
  const fake = createFakeProvider(script);
  return { clock, fake, provider: withRateLimit(fake, { ...options, clock }) };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('withRateLimit: rpm and tpm', () => {
  it('rpm: a burst up to the limit goes at once, the next call waits for the bucket to refill', async () => {
    const { clock, fake, provider } = limited(() => ({ text: 'ok' }), { rpm: 2 });
    const waits: ProviderWait[] = [];
    const calls = [0, 1, 2].map((index) =>
      provider.complete(request(`f${index}`), { onWait: (wait) => waits.push(wait) }),
    );
    await clock.waitForSleepers(1);
    expect(fake.calls.map((call) => call.file)).toEqual(['f0', 'f1']);
    expect(waits).toEqual([{ reason: 'rpm', ms: 30_000 }]);
    await clock.advance(30_000);
    await Promise.all(calls);
    expect(fake.calls.map((call) => call.file)).toEqual(['f0', 'f1', 'f2']);
  });

  it('tpm: counts prompt + maxTokens before the call, corrected by the usage the server reports', async () => {
    const { clock, fake, provider } = limited(
      (_request, index) => ({ text: 'ok', usage: usage(index === 0 ? 100 : 600) }),
      { tpm: 1000, estimate: () => 600 },
    );
    await provider.complete(request('a'));
    // 600 were reserved but only 100 used: 900 left, so the next 600 fit at once.
    await provider.complete(request('b'));
    expect(fake.calls).toHaveLength(2);
    // Now 900 - 600 = 300 left: the third waits for 300 more, 18 s at 1000 per minute.
    const waits: ProviderWait[] = [];
    const third = provider.complete(request('c'), { onWait: (wait) => waits.push(wait) });
    await clock.waitForSleepers(1);
    expect(waits).toEqual([{ reason: 'tpm', ms: 18_000 }]);
    expect(fake.calls).toHaveLength(2);
    await clock.advance(18_000);
    await third;
    expect(fake.calls).toHaveLength(3);
  });

  it('a call bigger than the whole tpm still goes once the bucket is full', async () => {
    const { fake, provider } = limited(() => ({ text: 'ok', usage: usage(10) }), { tpm: 100, estimate: () => 5000 });
    await provider.complete(request());
    expect(fake.calls).toHaveLength(1);
  });

  it('admits waiting calls in arrival order', async () => {
    const { clock, fake, provider } = limited(() => ({ text: 'ok' }), { rpm: 1 });
    const calls = ['a', 'b', 'c', 'd'].map((file) => provider.complete(request(file)));
    for (let minute = 0; minute < 3; minute += 1) {
      await clock.waitForSleepers(1);
      await clock.advance(60_000);
    }
    await Promise.all(calls);
    expect(fake.calls.map((call) => call.file)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('an abort while waiting rejects that call only; the queue behind it moves on', async () => {
    const { clock, fake, provider } = limited(() => ({ text: 'ok' }), { rpm: 1 });
    await provider.complete(request('first'));
    const controller = new AbortController();
    const cancelled = provider.complete(request('cancelled'), { signal: controller.signal });
    const next = provider.complete(request('next'));
    await clock.waitForSleepers(1);
    controller.abort();
    expect(isAbortError(await cancelled.catch((error: unknown) => error))).toBe(true);
    await clock.waitForSleepers(1);
    await clock.advance(60_000);
    await next;
    expect(fake.calls.map((call) => call.file)).toEqual(['first', 'next']);
  });
});

describe('withRateLimit: 429 and overload pauses', () => {
  it('a 429 pauses every call for the Retry-After, then retries: no call reaches the server meanwhile', async () => {
    const { clock, fake, provider } = limited((_request, index) => (index === 0 ? rateLimited(5000) : { text: 'ok' }));
    const waits: ProviderWait[] = [];
    const first = provider.complete(request('first'), { onWait: (wait) => waits.push(wait) });
    await clock.waitForSleepers(1);
    // Started after the 429: must wait out the same pause, without touching the server.
    const second = provider.complete(request('second'));
    await settle();
    expect(fake.calls.map((call) => call.file)).toEqual(['first']);
    expect(waits).toEqual([{ reason: 'retry-after', ms: 5000 }]);
    await clock.advance(5000);
    expect((await first).text).toBe('ok');
    expect((await second).text).toBe('ok');
    expect(fake.calls.map((call) => call.file)).toEqual(['first', 'first', 'second']);
  });

  it('without Retry-After it backs off 1s, 2s, 4s ...; an overloaded server is paused the same way', async () => {
    const { clock, fake, provider } = limited((_request, index) =>
      index < 2
        ? rateLimited()
        : index === 2
          ? new ProviderError('PROVIDER_OVERLOADED', 'overloaded', { status: 529 })
          : { text: 'ok' },
    );
    const waits: ProviderWait[] = [];
    const call = provider.complete(request(), { onWait: (wait) => waits.push(wait) });
    for (const ms of [1000, 2000, 4000]) {
      await clock.waitForSleepers(1);
      await clock.advance(ms);
    }
    expect((await call).text).toBe('ok');
    expect(waits).toEqual([
      { reason: 'retry-after', ms: 1000 },
      { reason: 'retry-after', ms: 2000 },
      { reason: 'overloaded', ms: 4000 },
    ]);
    expect(fake.calls).toHaveLength(4);
  });

  it('bounds the total wait: a Retry-After longer than maxWaitMs fails at once, saying so', async () => {
    const { fake, provider } = limited(() => rateLimited(3 * 3600_000), { maxWaitMs: 600_000 });
    const error = await provider.complete(request()).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'PROVIDER_RATE_LIMIT', status: 429 });
    expect((error as Error).message).toMatch(/asks to wait 10800s, longer than smol waits: 600s/);
    expect(fake.calls).toHaveLength(1);
  });

  it('bounds the total wait across retries', async () => {
    const { clock, fake, provider } = limited(() => rateLimited(4000), { maxWaitMs: 10_000 });
    const call = provider.complete(request()).catch((caught: unknown) => caught);
    for (let retry = 0; retry < 2; retry += 1) {
      await clock.waitForSleepers(1);
      await clock.advance(4000);
    }
    const error = await call;
    expect((error as Error).message).toMatch(/still, after 2 retries and 8s of pauses/);
    expect(fake.calls).toHaveLength(3);
  });

  it.each(['PROVIDER_QUOTA', 'PROVIDER_AUTH', 'PROVIDER_SERVER_ERROR', 'PROVIDER_BAD_REQUEST'])(
    '%s passes through at once, unchanged',
    async (code) => {
      const failure = new ProviderError(code, 'no', { status: 429, retryAfterMs: 10 });
      const { fake, provider } = limited(() => failure);
      expect(await provider.complete(request()).catch((caught: unknown) => caught)).toBe(failure);
      expect(fake.calls).toHaveLength(1);
    },
  );
});

describe('rate limits through the real SDKs (createProvider)', () => {
  const servers: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  async function openai(handler: ReplyHandler): Promise<MockOpenAIServer> {
    const server = await startOpenAIServer({ handler });
    servers.push(server);
    return server;
  }

  it('a burst of 429s with retry-after-ms: every call succeeds, the SDK never retries a 429 on its own', async () => {
    let refused = 0;
    const server = await openai(() => {
      if (refused < 6) {
        refused += 1;
        return {
          status: 429,
          error: { message: 'Rate limit reached for requests', code: 'rate_limit_exceeded' },
          headers: { 'retry-after-ms': '30' },
        };
      }
      return { content: 'done' };
    });
    const { provider } = createProvider({ model: 'm', baseURL: server.url }, {}, { maxRetries: 3 });
    const waits: ProviderWait[] = [];
    const results = await Promise.all(
      [0, 1, 2, 3].map((index) => provider.complete(request(`f${index}`), { onWait: (wait) => waits.push(wait) })),
    );
    expect(results.map((result) => result.text)).toEqual(['done', 'done', 'done', 'done']);
    expect(server.requests.filter((seen) => seen.headers['x-stainless-retry-count'] !== '0')).toEqual([]);
    expect(waits.some((wait) => wait.reason === 'retry-after')).toBe(true);
  });

  it('insufficient_quota stops at once: one request, PROVIDER_QUOTA with what to do', async () => {
    const server = await openai(() => ({
      status: 429,
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      },
      headers: { 'retry-after-ms': '10' },
    }));
    const { provider } = createProvider({ model: 'm', baseURL: server.url }, {}, { maxRetries: 3 });
    const error = (await provider.complete(request()).catch((caught: unknown) => caught)) as ProviderError;
    expect(error).toMatchObject({ code: 'PROVIDER_QUOTA', status: 429 });
    expect(error.hint).toMatch(/credit|spending limit/);
    expect(server.requests).toHaveLength(1);
  });

  it('5xx are retried by the SDK with backoff, invisibly', async () => {
    const server = await openai(() =>
      server.requests.length === 1
        ? { status: 503, headers: { 'retry-after-ms': '5' } }
        : server.requests.length === 2
          ? { status: 500, headers: { 'retry-after-ms': '5' } }
          : { content: 'recovered' },
    );
    const { provider } = createProvider({ model: 'm', baseURL: server.url }, {}, { maxRetries: 3 });
    expect((await provider.complete(request())).text).toBe('recovered');
    expect(server.requests).toHaveLength(3);
  });

  it('anthropic: a 429 pauses and retries through the wrapper too', async () => {
    const server: MockAnthropicServer = await startAnthropicServer({
      handler: () =>
        server.requests.length <= 2
          ? { status: 429, error: { message: 'rate limited' }, headers: { 'retry-after-ms': '20' } }
          : { text: 'fine' },
    });
    servers.push(server);
    const { provider } = createProvider(
      { model: 'claude-haiku-4-5', provider: 'anthropic', baseURL: server.url },
      { ANTHROPIC_API_KEY: 'sk-ant-test' },
      { maxRetries: 3 },
    );
    expect((await provider.complete(request())).text).toBe('fine');
    expect(server.requests).toHaveLength(3);
    expect(server.requests.every((seen) => seen.headers['x-stainless-retry-count'] === '0')).toBe(true);
  });
});
