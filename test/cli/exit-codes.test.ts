import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import type { MockReply, RecordedRequest } from '../helpers/openai-server.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { startTerminal, type Terminal } from '../helpers/pty.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

/**
 * One test per row of the README's exit-code table (issue 12 item 9): 0 success; 1 the run failed (a file
 * failed, conflicts, a provider error, `check` drift, a refused apply, unresolved conflicts, failing checks
 * after an apply); 2 bad usage or a bad spec; 130 cancelled.
 */

const app = (): ScriptedApp => ({
  files: { 'a.txt': { section: 'A.', content: 'a1\na2\na3\n' }, 'b.txt': { section: 'B.', content: 'b\n' } },
});

let project: TestProject | undefined;
let terminal: Terminal | undefined;
afterEach(async () => {
  try {
    terminal?.pty.kill();
  } catch {
    // already gone
  }
  terminal = undefined;
  await project?.close();
  project = undefined;
});

async function generated(
  handler?: (request: RecordedRequest, scripted: MockReply) => MockReply | Promise<MockReply>,
): Promise<{ p: TestProject; current: ScriptedApp }> {
  const current = app();
  const scripted = scriptedModel(() => current);
  project = await createProject((request) =>
    handler === undefined ? scripted(request) : handler(request, scripted(request)),
  );
  await project.writeSpec();
  const first = await project.smol(['run', '--yes']);
  expect(first.code, first.stderr).toBe(0);
  return { p: project, current };
}

/** A hand edit and a new generation that touch the same line: a conflict. */
async function withConflict(p: TestProject, current: ScriptedApp): Promise<void> {
  await p.write('app/a.txt', 'a1\nMINE\na3\n');
  current.files['a.txt'] = { section: 'A2.', content: 'a1\nTHEIRS\na3\n' };
  await p.writeSpec({ sections: { 'a.txt': 'A two.' } });
}

async function writeSpecWith(p: TestProject, frontmatter: string): Promise<void> {
  await writeFile(
    path.join(p.dir, 'prompt.md'),
    `---\nmodel: test-model\noutDir: app\n${frontmatter}---\n# Demo\n\nA tiny demo program.\n`,
  );
}

function term(p: TestProject, args: string[]): Terminal {
  terminal = startTerminal([...args, '--provider', 'openai-compatible', '--base-url', p.server.url], {
    cwd: p.dir,
    env: { OPENAI_API_KEY: FAKE_KEY },
  });
  return terminal;
}

describe('exit code 0: success', () => {
  it('run, status, check and apply with nothing staged', async () => {
    const { p } = await generated();
    for (const args of [['run', '--yes'], ['status'], ['check'], ['apply', '--yes'], ['undo', '--list']])
      expect((await p.smol(args)).code, args.join(' ')).toBe(0);
  });
});

describe('exit code 1: the run failed', () => {
  it('a file failed', async () => {
    const { p, current } = await generated((request, scripted) =>
      request.file === 'b.txt' && request.body?.messages?.some((m: { content: string }) => m.content.includes('B two'))
        ? { content: '```\npartial', finishReason: 'length' }
        : scripted,
    );
    current.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await p.writeSpec({ sections: { 'b.txt': 'B two.' } });
    const run = await p.smol(['run', '--yes']);
    expect(run.stderr).toMatch(/b\.txt/);
    expect(run.code).toBe(1);
  });

  it('a conflict (run --yes), and unresolved conflicts at apply', async () => {
    const { p, current } = await generated();
    await withConflict(p, current);
    const run = await p.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/conflict/);
    const apply = await p.smol(['apply', '--yes']);
    expect(apply.code, apply.stderr).toBe(1);
    expect(await p.read('app/a.txt')).toBe('a1\nMINE\na3\n');
  });

  it('unresolved conflicts at `smol apply` in a terminal', async () => {
    const { p, current } = await generated();
    await withConflict(p, current);
    expect((await p.smol(['diff', '--generate'])).code).toBe(0);
    const screen = term(p, ['apply']);
    // The review asks how to settle the conflict; `n` leaves it staged, so the files are not where asked.
    await screen.waitFor(/conflict in a\.txt: \[t\]heirs/);
    screen.type('n');
    expect(await screen.exited).toBe(1);
  });

  it('a provider error (the account out of quota)', async () => {
    project = await createProject(() => ({
      status: 429,
      error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', code: 'insufficient_quota' },
      headers: { 'retry-after-ms': '10' },
    }));
    await project.writeSpec();
    const run = await project.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/quota/);
  });

  it('check found drift', async () => {
    const { p } = await generated();
    await p.write('app/b.txt', 'edited by hand\n');
    expect((await p.smol(['check'])).code).toBe(1);
  });

  it('a refused apply (the file changed since it was staged)', async () => {
    const { p, current } = await generated();
    current.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await p.writeSpec({ sections: { 'b.txt': 'B two.' } });
    expect((await p.smol(['diff', '--generate'])).code).toBe(0);
    await p.write('app/b.txt', 'touched meanwhile\n');
    expect((await p.smol(['apply', '--yes'])).code).toBe(1);
  });

  describe('failing checks after an apply, on every path', () => {
    /** A spec with a failing check, and a new generation of a.txt for the next run to apply. */
    async function failingCheck(frontmatter = ''): Promise<TestProject> {
      const { p, current } = await generated();
      current.files['a.txt'] = { section: 'A.', content: 'a1\nnew\na3\n' };
      await writeSpecWith(p, `${frontmatter}checks: ["echo checking; exit 3"]\n`);
      return p;
    }

    it('run --yes', async () => {
      const p = await failingCheck();
      const run = await p.smol(['run', '--yes', '--all']);
      expect(run.stdout + run.stderr).toMatch(/checking/);
      expect(run.code, run.stderr).toBe(1);
    });

    it('apply: auto', async () => {
      const p = await failingCheck('apply: auto\n');
      const run = await p.smol(['run', '--all']);
      expect(run.stdout + run.stderr).toMatch(/checking/);
      expect(run.code, run.stderr).toBe(1);
    });

    it('regen PATH --yes', async () => {
      const p = await failingCheck();
      const run = await p.smol(['regen', 'a.txt', '--yes']);
      expect(run.stdout + run.stderr).toMatch(/checking/);
      expect(run.code, run.stderr).toBe(1);
    });

    it('run reviewed in a terminal, all accepted', async () => {
      const p = await failingCheck();
      const screen = term(p, ['run', '--all']);
      await screen.waitFor(/apply a\.txt\?/);
      screen.type('a');
      expect(await screen.exited).toBe(1);
    });
  });
});

describe('exit code 2: bad usage or a bad spec', () => {
  it('an unknown flag', async () => {
    project = await createProject(scriptedModel(app));
    await project.writeSpec();
    expect((await project.smol(['run', '--bogus'])).code).toBe(2);
    expect((await project.smol(['frobnicate'])).code).toBe(2);
  });

  it('a provider that refuses the key, or has no such model: the setup is wrong', async () => {
    project = await createProject(() => ({
      status: 401,
      error: { message: 'bad key', type: 'invalid_request_error' },
    }));
    await project.writeSpec();
    const run = await project.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/OPENAI_API_KEY/);
  });

  it('a bad spec', async () => {
    project = await createProject(scriptedModel(app));
    await writeSpecWith(project, 'concurrency: -1\n');
    const run = await project.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/concurrency/);
    expect((await project.smol(['status'])).code).toBe(2);
  });

  it('`apply --theirs PATH` with nothing staged, and with PATH not a conflict', async () => {
    const { p, current } = await generated();
    expect((await p.smol(['apply', '--theirs', 'a.txt'])).code).toBe(2);
    current.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await p.writeSpec({ sections: { 'b.txt': 'B two.' } });
    expect((await p.smol(['diff', '--generate'])).code).toBe(0);
    expect((await p.smol(['apply', '--theirs', 'b.txt'])).code).toBe(2);
  });

  it('apply without --yes and without a terminal', async () => {
    const { p, current } = await generated();
    current.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await p.writeSpec({ sections: { 'b.txt': 'B two.' } });
    expect((await p.smol(['diff', '--generate'])).code).toBe(0);
    const apply = await p.smol(['apply']);
    expect(apply.code).toBe(2);
    expect(apply.stderr).toContain('--yes');
  });
});

describe('exit code 130: cancelled', () => {
  it('Ctrl+C at a review prompt: nothing applied, the changes stay staged', async () => {
    const { p, current } = await generated();
    current.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    current.files['c.txt'] = { section: 'C.', content: 'c\n' };
    await p.writeSpec({ sections: { 'b.txt': 'B two.', 'c.txt': 'C.' } });
    const screen = term(p, ['run']);
    const at = await screen.waitFor(/apply b\.txt\?/);
    screen.type('y');
    await screen.waitFor(/apply c\.txt\?/, { from: at });
    screen.type('\u0003');
    expect(await screen.exited).toBe(130);
    expect(await p.read('app/b.txt')).toBe('b\n');
    expect(await p.readOrUndefined('app/c.txt')).toBeUndefined();
    // `q` is not a cancel: what was accepted is applied, exit 0 (test/cli/terminal.test.ts).
    const staged = await p.smol(['apply', '--yes']);
    expect(staged.code, staged.stderr).toBe(0);
    expect(await p.read('app/c.txt')).toBe('c\n');
  });

  it('SIGINT during a run (a generation call in flight): nothing half-written', async () => {
    let arrive: () => void = () => {};
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    let hold = false;
    const { p, current } = await generated(async (request, scripted) => {
      if (hold && request.stage === 'code' && request.file === 'b.txt') {
        arrive();
        // Held until the client goes away (the cancel aborts the request).
        return { ...scripted, delayMs: 60_000 };
      }
      return scripted;
    });
    current.files['b.txt'] = { section: 'B2.', content: 'b2\n' };
    await p.writeSpec({ sections: { 'b.txt': 'B two.' } });
    hold = true;
    const child = spawn(
      process.execPath,
      [BIN, 'run', '--yes', '--provider', 'openai-compatible', '--base-url', p.server.url],
      {
        cwd: p.dir,
        env: { PATH: process.env.PATH ?? '', HOME: p.dir, NO_COLOR: '1', OPENAI_API_KEY: FAKE_KEY },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await arrived;
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toMatch(/Cancelled/);
    expect(await p.read('app/b.txt')).toBe('b\n');
  });
});
