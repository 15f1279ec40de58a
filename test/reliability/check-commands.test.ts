import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { describeStatus } from '../../src/debug/checks.js';
import { runCommand } from '../../src/debug/command.js';
import { tempDir } from '../helpers/cli.js';

// A grandchild in a new session (out of the command's process group) that keeps stdout and stderr open,
// as `setsid sleep 30 &` does; it writes its pid so the test can stop it.
const ESCAPED = (pidFile: string): string =>
  `node -e "const c = require('child_process').spawn('sleep', ['600'], { detached: true, stdio: ['ignore', 1, 2] }); require('fs').writeFileSync('${pidFile}', String(c.pid)); c.unref()"`;
// A background process in the command's own group (a dev server started with `&`).
const BACKGROUND = (pidFile: string): string =>
  `node -e "require('fs').writeFileSync('${pidFile}', String(process.pid)); setInterval(() => {}, 1000)" &`;

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function workDir(): Promise<string> {
  const { dir, cleanup } = await tempDir('smol-cmd-');
  cleanups.push(cleanup);
  return dir;
}

async function pidIn(file: string): Promise<number> {
  const pid = Number(await readFile(file, 'utf8'));
  cleanups.push(async () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  return pid;
}

/** Gone, or a zombie waiting for a parent that is not ours to reap it. */
async function stopped(pid: number): Promise<boolean> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (/^\d+ \(.*\) Z/.test(stat)) return true;
    // Not our child: no exit event to wait for. The kill was sent already; look again shortly, without
    // spinning a core that the dying process needs on a loaded machine.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const LONG = 600_000; // a timeout no test reaches: the command must end on its own

describe('check commands end when their process does', () => {
  it('does not wait for a background process that holds the output pipe (`setsid sleep 30 & exit 1`)', async () => {
    const dir = await workDir();
    const pidFile = path.join(dir, 'escaped.pid');
    const result = await runCommand(`${ESCAPED(pidFile)}; echo before exit; exit 1`, {
      cwd: dir,
      env: process.env,
      timeoutMs: LONG,
    });
    await pidIn(pidFile);
    expect(result).toMatchObject({ exitCode: 1, signal: null, timedOut: false });
    expect(result.output).toContain('before exit');
    expect(describeStatus(result)).toBe('exit 1');
  });

  it('reports a passing check that starts a background server as passing, and stops the server', async () => {
    const dir = await workDir();
    const pidFile = path.join(dir, 'server.pid');
    const result = await runCommand(
      `${BACKGROUND(pidFile)} while [ ! -s ${pidFile} ]; do sleep 0.01; done; echo started`,
      { cwd: dir, env: process.env, timeoutMs: LONG },
    );
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.output).toContain('started');
    expect(await stopped(await pidIn(pidFile))).toBe(true);
  });

  it('kills the whole process group when cancelled, even when a background process holds the pipe', async () => {
    const dir = await workDir();
    const escaped = path.join(dir, 'escaped.pid');
    const server = path.join(dir, 'server.pid');
    const controller = new AbortController();
    const result = await runCommand(
      `${ESCAPED(escaped)}; ${BACKGROUND(server)} while [ ! -s ${server} ]; do sleep 0.01; done; echo ready; sleep 600`,
      {
        cwd: dir,
        env: process.env,
        timeoutMs: LONG,
        signal: controller.signal,
        onOutput: (chunk) => {
          if (chunk.includes('ready')) controller.abort();
        },
      },
    );
    await pidIn(escaped);
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false });
    expect(await stopped(await pidIn(server))).toBe(true);
  });

  it('kills a command that outlives checkTimeout and says so', async () => {
    const dir = await workDir();
    const result = await runCommand('echo waiting; sleep 600', { cwd: dir, env: process.env, timeoutMs: 300 });
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true });
    expect(result.output).toContain('killed after 0s (checkTimeout)');
    expect(describeStatus(result)).toBe('killed: timed out');
  });

  it('reports a command killed by a signal as such, not as "exit null"', async () => {
    const dir = await workDir();
    const result = await runCommand('echo dying; kill -TERM $$', { cwd: dir, env: process.env, timeoutMs: LONG });
    expect(result).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false });
    expect(describeStatus(result)).toBe('killed by SIGTERM');
  });

  it('a command that cannot start is reported, not waited for', async () => {
    const dir = await workDir();
    const result = await runCommand('echo hi', { cwd: path.join(dir, 'missing'), env: process.env, timeoutMs: LONG });
    expect(result.exitCode).toBeNull();
    expect(result.output).toContain('ENOENT');
  });

  it('any exit status and any amount of output come back exactly, with or without a background process (property)', async () => {
    const dir = await workDir();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 150_000 }),
        fc.boolean(),
        async (code, bytes, background) => {
          const pidFile = path.join(dir, `bg-${code}-${bytes}.pid`);
          // The output comes from coreutils, not a Node start per case: the property is about the pipe.
          const command = `${background ? `${BACKGROUND(pidFile)} ` : ''}head -c ${bytes} /dev/zero | tr '\\0' x; echo; echo end; exit ${code}`;
          const result = await runCommand(command, { cwd: dir, env: process.env, timeoutMs: LONG });
          expect(result).toMatchObject({ exitCode: code, timedOut: false });
          // Compared whole, but reported briefly: the output can be 150 kB.
          const expected = `${'x'.repeat(bytes)}\nend\n`;
          expect(
            result.output === expected,
            `output of ${result.output.length} characters, expected ${expected.length}: …${result.output.slice(-40)}`,
          ).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("check commands run without smol's credentials", () => {
  it('strips provider keys and tokens from the environment and keeps everything else', async () => {
    const dir = await workDir();
    const env = {
      PATH: process.env.PATH ?? '',
      OPENAI_API_KEY: 'sk-openai-secret-1234',
      ANTHROPIC_API_KEY: 'sk-ant-secret-1234',
      AZURE_OPENAI_API_KEY: 'azure-secret-1234',
      SMOL_SERVE_TOKEN: 'serve-token-1234',
      OPENAI_ADMIN_KEY: 'admin-secret-1234',
      MY_APP_SETTING: 'kept',
    };
    const result = await runCommand('env', { cwd: dir, timeoutMs: LONG, env });
    expect(result.output).toContain('MY_APP_SETTING=kept');
    for (const secret of [
      'sk-openai-secret-1234',
      'sk-ant-secret-1234',
      'azure-secret-1234',
      'serve-token-1234',
      'admin-secret-1234',
    ]) {
      expect(result.output).not.toContain(secret);
    }
  });
});
