import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startAnthropicServer, type MockAnthropicServer } from '../helpers/anthropic-server.js';

let server: MockAnthropicServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function client(url: string): Anthropic {
  return new Anthropic({ apiKey: 'sk-ant-test', baseURL: url, maxRetries: 0, logLevel: 'off' });
}

describe('the loopback Anthropic server', () => {
  it('answers a plain (non-streamed) message with text, tool use and usage', async () => {
    server = await startAnthropicServer({
      handler: () => ({
        text: 'Here you go.',
        toolUses: [{ name: 'submit', input: '{"a":1}' }],
        usage: { input_tokens: 10, output_tokens: 4 },
      }),
    });
    const message = await client(server.url).messages.create({
      model: 'claude-x',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([
      { type: 'text', text: 'Here you go.' },
      { type: 'tool_use', id: 'toolu_mock_0', name: 'submit', input: { a: 1 } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toEqual({ input_tokens: 10, output_tokens: 4 });
  });

  it('streams named SSE events in the documented order, tool input as input_json_delta', async () => {
    server = await startAnthropicServer({
      handler: () => ({ text: 'hello', toolUses: [{ name: 'submit', input: '{"files":[]}' }] }),
    });
    const response = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-x',
        max_tokens: 5,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const events = [...(await response.text()).matchAll(/^event: (\w+)$/gm)].map((match) => match[1]);
    expect(events[0]).toBe('message_start');
    expect(events.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(events).toContain('ping');
    expect(events.filter((event) => event === 'content_block_start')).toHaveLength(2);
    const stream = await client(server.url).messages.create({
      model: 'claude-x',
      max_tokens: 5,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const partial: string[] = [];
    for await (const event of stream) {
      if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta')
        partial.push(event.delta.partial_json);
    }
    expect(partial.length).toBeGreaterThan(1);
    expect(partial.join('')).toBe('{"files":[]}');
  });

  it('serves the models endpoints, aliases included, and a 404 in the Anthropic error shape', async () => {
    server = await startAnthropicServer({ models: ['claude-sonnet-4-5-20250929'] });
    const api = client(server.url);
    expect((await api.models.retrieve('claude-sonnet-4-5')).id).toBe('claude-sonnet-4-5-20250929');
    expect((await api.models.list()).data.map((model) => model.id)).toEqual(['claude-sonnet-4-5-20250929']);
    const error = await api.models.retrieve('claude-nine').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 404, type: 'not_found_error' });
  });

  it('sends errors with their headers (429 with Retry-After)', async () => {
    server = await startAnthropicServer({
      handler: () => ({ status: 429, error: { message: 'rate limited' }, headers: { 'retry-after': '3' } }),
    });
    const response = await fetch(`${server.url}/v1/messages`, { method: 'POST', body: JSON.stringify({ model: 'm' }) });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'rate limited' },
    });
  });
});
