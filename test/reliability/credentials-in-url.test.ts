import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redactURL } from '../../src/llm/url.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main-in-process.js';
import { startOpenAIServer } from '../helpers/openai-server.js';
import { allText } from '../helpers/project.js';
import { scriptedModel } from '../helpers/scripted-model.js';

// Issue 13.14: credentials in `baseURL` (user info, query values) are shown nowhere: not in connection
// errors, doctor's lines, `--json` events, the lock or `.smol/`. They are still sent to the server.

const PASSWORD = 'hunter2-PASSWORD';
const TOKEN = 'SECRET-TOKEN-9f8e7d';
const withCredentials = (url: string) =>
  `${url.replace('http://', `http://bob:${PASSWORD}@`)}?token=${TOKEN}&team=blue`;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function project(): Promise<string> {
  const { dir, cleanup } = await tempDir('smol-credentials-');
  cleanups.push(cleanup);
  await writeFile(path.join(dir, 'prompt.md'), '---\nmodel: m\noutDir: app\n---\nTwo text files.\n');
  return dir;
}

describe('credentials in baseURL (13.14)', () => {
  it('redactURL hides user info and every query value, keeping what says where', () => {
    expect(redactURL(`http://bob:${PASSWORD}@host:8080/v1?token=${TOKEN}&team=blue`)).toBe(
      'http://***@host:8080/v1?token=***&team=***',
    );
    expect(redactURL('https://gw.example.com/v1')).toBe('https://gw.example.com/v1');
    expect(redactURL(`not a url //bob:${PASSWORD}@x?token=${TOKEN}`)).not.toMatch(new RegExp(`${PASSWORD}|${TOKEN}`));
  });

  it('a server that is down: the connection error, its --json event and doctor (human and --json) name the server without them', async () => {
    const server = await startOpenAIServer({});
    await server.close();
    const url = withCredentials(server.url);
    const cwd = await project();
    // One after the other: two runs on one spec would meet its state lock. One run: with --json the error
    // is printed for people on stderr and as an event on stdout (each run waits out the SDK's retries).
    const outputs = [];
    for (const args of [
      ['run', '--yes', '--json'],
      ['doctor', '--model', 'm'],
      ['doctor', '--json', '--model', 'm'],
    ]) {
      outputs.push(await runMain([...args, '--base-url', url], { cwd }));
    }
    const [run, doctor] = outputs;
    expect(run!.stderr).toContain(
      `Could not connect to openai-compatible at ${server.url.replace('http://', 'http://***@')}?token=***&team=***`,
    );
    // A run that fails on its first call still ends stdout with an error event.
    expect(JSON.parse(run!.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      type: 'error',
      code: 'PROVIDER_UNREACHABLE',
      message: expect.stringContaining('Could not connect'),
      hint: expect.any(String),
    });
    expect(doctor!.stdout).toMatch(
      /FAIL\s+server\s+Could not connect to openai-compatible at http:\/\/\*\*\*@127\.0\.0\.1:\d+\/v1\?token=\*\*\*&team=\*\*\*/,
    );
    for (const output of outputs) expect(output.stdout + output.stderr).not.toMatch(new RegExp(`${PASSWORD}|${TOKEN}`));
  });

  it('a server that is up gets them (query on every request, user info as Basic auth); events, the lock and .smol/ never hold them', async () => {
    const server = await startOpenAIServer({
      handler: scriptedModel(() => ({ files: { 'a.txt': { content: 'alpha\n' }, 'b.txt': { content: 'bravo\n' } } })),
    });
    cleanups.push(() => server.close());
    const cwd = await project();
    const result = await runMain(['run', '--yes', '--json', '--base-url', withCredentials(server.url)], { cwd });
    expect(result.stderr).not.toContain('bug');
    expect(result.code).toBe(0);
    expect(server.requests.length).toBeGreaterThan(0);
    for (const request of server.requests) {
      expect(new URLSearchParams(request.search ?? '').get('token')).toBe(TOKEN);
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from(`bob:${PASSWORD}`).toString('base64')}`);
    }
    const start = JSON.parse(result.stdout.split('\n')[0]!) as { type: string; provider: string };
    expect(start.type).toBe('run-start');
    expect(result.stdout + result.stderr + (await allText(cwd))).not.toMatch(new RegExp(`${PASSWORD}|${TOKEN}`));
  });
});
