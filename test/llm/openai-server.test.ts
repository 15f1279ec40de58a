import { afterEach, describe, expect, it } from 'vitest';
import { startOpenAIServer, type MockOpenAIServer } from '../helpers/openai-server.js';

/** Raw wire JSON. */
// biome-ignore lint/suspicious/noExplicitAny: keeps these assertions on arbitrary OpenAI fields short.
type Wire = Record<string, any>;

/** The test server itself, seen raw (no SDK), so the wire format other tests rely on stays honest. */
describe('startOpenAIServer', () => {
  let server: MockOpenAIServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('answers a non-streamed request with a chat.completion, and records the request', async () => {
    server = await startOpenAIServer({
      handler: () => ({ content: 'hi there', usage: { prompt_tokens: 3, completion_tokens: 2 } }),
    });
    const response = await post(
      server.url,
      { model: 'm1', messages: [{ role: 'user', content: 'hi' }] },
      { 'X-Smol-Stage': 'plan' },
    );
    const json = (await response.json()) as Wire;
    expect(json.object).toBe('chat.completion');
    expect(json.choices[0]).toMatchObject({
      message: { role: 'assistant', content: 'hi there' },
      finish_reason: 'stop',
    });
    expect(json.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    expect(server.requests[0]).toMatchObject({ stage: 'plan', file: undefined, aborted: false, body: { model: 'm1' } });
  });

  it('streams SSE chunks: role, content pieces, tool-call fragments, finish, usage, [DONE]', async () => {
    server = await startOpenAIServer({
      handler: () => ({ content: 'abcdefgh', toolCalls: [{ name: 'f', arguments: '{"a":123456}' }] }),
    });
    const response = await post(server.url, {
      model: 'm',
      messages: [],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = (await response.text())
      .split('\n\n')
      .filter((e) => e !== '')
      .map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as Wire);
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(content).toBe('abcdefgh');
    const toolFragments = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
    expect(toolFragments.length).toBeGreaterThan(2);
    expect(toolFragments[0]).toMatchObject({ index: 0, id: 'call_mock_0', type: 'function', function: { name: 'f' } });
    expect(toolFragments.slice(1).every((f: Wire) => f.id === undefined && f.function.name === undefined)).toBe(true);
    expect(toolFragments.map((f: Wire) => f.function.arguments).join('')).toBe('{"a":123456}');
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: expect.any(Number) } });
  });

  it('sends no usage chunk unless include_usage is asked for', async () => {
    server = await startOpenAIServer();
    const response = await post(server.url, { model: 'm', messages: [], stream: true });
    const text = await response.text();
    expect(text).not.toContain('"usage"');
  });

  it('answers errors with the status, the OpenAI error body and the headers', async () => {
    server = await startOpenAIServer({
      handler: () => ({
        status: 429,
        error: { message: 'slow down', code: 'rate_limit_exceeded' },
        headers: { 'retry-after': '1' },
      }),
    });
    const response = await post(server.url, { model: 'm', messages: [] });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toEqual({
      error: { message: 'slow down', type: 'api_error', param: null, code: 'rate_limit_exceeded' },
    });
  });

  it('lists the models it has seen, and 404s unknown routes', async () => {
    server = await startOpenAIServer();
    await (await post(server.url, { model: 'llama3', messages: [] })).text();
    const models = (await (await fetch(`${server.url}/models`)).json()) as Wire;
    expect(models.data.map((m: { id: string }) => m.id)).toEqual(['llama3']);
    expect((await fetch(`${server.url}/embeddings`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('setHandler changes later replies; close ends a reply still waiting', async () => {
    server = await startOpenAIServer();
    server.setHandler(() => ({ content: 'second', delayMs: 60_000 }));
    const pending = post(server.url, { model: 'm', messages: [] }).then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => server?.requests.length).toBe(1);
    await server.close();
    expect(await pending).toBe('failed');
  });
});
