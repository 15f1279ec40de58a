import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, tempDir } from '../helpers/cli.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe('smol serve (the command)', () => {
  it('starts from flags alone (no spec file), prints its URL, needs the token, and stops cleanly on SIGTERM', async () => {
    const temp = await tempDir();
    cleanup = temp.cleanup;
    const child = spawn(
      process.execPath,
      [
        BIN,
        'serve',
        '--port',
        '0',
        '--token',
        't0k',
        '--model',
        'm',
        '--base-url',
        'http://127.0.0.1:9/v1',
        '--allow-models',
        'a,b-*',
        '--cors',
        'https://app.example',
        '--allow-host',
        'proxy.example',
      ],
      {
        cwd: temp.dir,
        env: { PATH: process.env.PATH ?? '', HOME: temp.dir },
      },
    );
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${stderr}`)), 10_000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /(http:\/\/127\.0\.0\.1:\d+)\/ap\/v1\/agent\/tasks/.exec(stderr);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    expect((await fetch(`${url}/ap/v1/agent/tasks`)).status).toBe(401);
    const ok = await fetch(`${url}/ap/v1/agent/tasks`, { headers: { authorization: 'Bearer t0k' } });
    expect(await ok.json()).toEqual({
      tasks: [],
      pagination: { total_items: 0, total_pages: 0, current_page: 1, page_size: 10 },
    });
    const fromPage = await fetch(`${url}/ap/v1/agent/tasks`, {
      headers: { authorization: 'bearer t0k', origin: 'https://app.example' },
    });
    expect(fromPage.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const post = (body: unknown) =>
      fetch(`${url}/ap/v1/agent/tasks`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { authorization: 'Bearer t0k', 'content-type': 'application/json' },
      });
    expect((await post({ input: 'x', additional_input: { model: 'b-2' } })).status).toBe(200);
    expect((await post({ input: 'x', additional_input: { model: 'c' } })).status).toBe(422);
    expect(stderr).toContain('bearer token required');
    expect(stderr).not.toContain('t0k');
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
