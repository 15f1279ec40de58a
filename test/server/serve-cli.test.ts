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
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--token', 't0k', '--model', 'm', '--base-url', 'http://127.0.0.1:9/v1'], {
      cwd: temp.dir,
      env: { PATH: process.env.PATH ?? '', HOME: temp.dir },
    });
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
    expect(await ok.json()).toEqual({ tasks: [], pagination: { total_items: 0, total_pages: 0, current_page: 1, page_size: 10 } });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
