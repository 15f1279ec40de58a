import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { findSpec } from '../../src/cli/find-spec.js';
import { tempDir, type CliResult } from '../helpers/cli.js';
import { runMain } from '../helpers/main-in-process.js';
import { createProject, FAKE_KEY, specText, type TestProject } from '../helpers/project.js';
import { callsByStage, codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { startInProcess } from '../helpers/watch-in-process.js';

const APP: ScriptedApp = {
  files: {
    'src/util/log.ts': { content: 'export const log = console.log;\n' },
    'src/index.ts': { content: "import { log } from './util/log.js';\nlog('hi');\n" },
  },
};

let project: TestProject | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await project?.close();
  project = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** The CLI run from a folder of the project (as `cd sub && smol …`), against the project's model server. */
function smolIn(owner: TestProject, relativeCwd: string, args: string[]): Promise<CliResult> {
  return runMain([...args, '--provider', 'openai-compatible', '--base-url', owner.server.url], {
    cwd: path.join(owner.dir, relativeCwd),
    env: { OPENAI_API_KEY: FAKE_KEY },
  });
}

async function repoWithApp(): Promise<TestProject> {
  const created = await createProject(scriptedModel(() => APP));
  // The project folder is a repository root: the upward search stops there, whatever is above it.
  await mkdir(path.join(created.dir, '.git'));
  await created.writeSpec();
  await mkdir(path.join(created.dir, 'app', 'src', 'util'), { recursive: true });
  return created;
}

describe('finding the spec', () => {
  it('looks for prompt.md in the folders above, up to the repository root, as git does', async () => {
    project = await repoWithApp();
    const run = await smolIn(project, 'app/src/util', ['run', '--yes']);
    expect(run.stderr).not.toContain('bug');
    expect(run.code).toBe(0);
    expect(await project.read('app/src/util/log.ts')).toBe(APP.files['src/util/log.ts']!.content);
    // Messages name the spec as seen from where the user stands.
    expect(run.stderr).toContain(`smol: ${path.join('..', '..', '..', 'prompt.md')}`);
    const status = await smolIn(project, 'app/src', ['status', '--json']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('src/util/log.ts');
  });

  it('stops at the repository root and says where it looked', async () => {
    project = await repoWithApp();
    await mkdir(path.join(project.dir, 'nested', 'repo', '.git'), { recursive: true });
    await mkdir(path.join(project.dir, 'nested', 'repo', 'src'), { recursive: true });
    const result = await smolIn(project, 'nested/repo/src', ['status']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `No prompt.md found in ${path.join(project.dir, 'nested', 'repo', 'src')} or any folder above it up to ${path.join(project.dir, 'nested', 'repo')}`,
    );
    expect(result.stderr).toContain('smol init');
    expect(result.stderr).not.toContain('bug');
  });

  it('takes a folder as SPEC (its prompt.md)', async () => {
    project = await repoWithApp();
    await mkdir(path.join(project.dir, 'specs', 'todo'), { recursive: true });
    await writeFile(path.join(project.dir, 'specs', 'todo', 'prompt.md'), specText({ settings: { outDir: 'out' } }));
    const result = await project.smol(['run', 'specs/todo', '--yes']);
    expect(result.code).toBe(0);
    expect(await project.read('specs/todo/out/src/index.ts')).toBe(APP.files['src/index.ts']!.content);
  });

  it('-C DIR runs as if started in DIR, before or after the command name', async () => {
    project = await repoWithApp();
    await mkdir(path.join(project.dir, 'elsewhere'));
    const before = await runMain(
      ['-C', project.dir, 'run', '--yes', '--provider', 'openai-compatible', '--base-url', project.server.url],
      {
        cwd: path.join(project.dir, 'elsewhere'),
        env: { OPENAI_API_KEY: FAKE_KEY },
      },
    );
    expect(before.code).toBe(0);
    expect(await project.read('app/src/index.ts')).toBe(APP.files['src/index.ts']!.content);
    const after = await runMain(['status', '--json', '-C', '..'], { cwd: path.join(project.dir, 'elsewhere') });
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('src/index.ts');
  });

  it('-C with a folder that does not exist is a usage error', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const result = await runMain(['-C', 'nope', 'status'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`-C nope: no such folder (looked for ${path.join(dir, 'nope')})`);
  });

  it('doctor finds the spec above too (and still works with none)', async () => {
    project = await repoWithApp();
    const found = await smolIn(project, 'app', ['doctor', '--json']);
    expect(JSON.parse(found.stdout).checks[0]).toEqual({
      name: 'spec',
      status: 'ok',
      message: path.join(project.dir, 'prompt.md'),
    });
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    await mkdir(path.join(dir, '.git'));
    const none = await runMain(
      ['doctor', '--json', '--model', 'gpt-4o', '--provider', 'openai-compatible', '--base-url', project.server.url],
      { cwd: dir, env: { OPENAI_API_KEY: FAKE_KEY } },
    );
    expect(JSON.parse(none.stdout).checks[0]).toMatchObject({
      name: 'spec',
      status: 'ok',
      message: expect.stringContaining('no prompt.md here'),
    });
  });

  it('watch finds the spec above too', async () => {
    project = await repoWithApp();
    const watch = startInProcess(
      ['watch', '--json', '--provider', 'openai-compatible', '--base-url', project.server.url],
      {
        cwd: path.join(project.dir, 'app', 'src'),
        env: { OPENAI_API_KEY: FAKE_KEY },
      },
    );
    try {
      const ready = await watch.waitFor((event) => event.type === 'watch-ready');
      expect(ready.spec).toBe(path.join('..', '..', 'prompt.md'));
    } finally {
      await watch.stop();
    }
  });

  it('property: finds the nearest prompt.md at or above the start, never beyond the repository root', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
        fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
        async (depth, specLevels, gitLevel) => {
          // A chain of folders root/l1/l2/…; prompt.md at some levels, .git at one.
          const root = path.join(dir, `case-${(round += 1)}`);
          const levels = Array.from({ length: depth + 1 }, (_, level) =>
            path.join(root, ...Array.from({ length: level }, (__, index) => `l${index + 1}`)),
          );
          await mkdir(levels[depth]!, { recursive: true });
          await mkdir(path.join(root, '.git'));
          for (const level of specLevels)
            if (level <= depth) await writeFile(path.join(levels[level]!, 'prompt.md'), 'x');
          if (gitLevel !== undefined && gitLevel <= depth)
            await mkdir(path.join(levels[gitLevel]!, '.git'), { recursive: true });
          const boundary = Math.max(0, ...(gitLevel !== undefined && gitLevel <= depth ? [gitLevel] : []));
          const expected = [...specLevels]
            .filter((level) => level <= depth && level >= boundary)
            .sort((a, b) => b - a)[0];
          const found = await findSpec(undefined, levels[depth]!).catch(() => undefined);
          expect(found?.file).toBe(expected === undefined ? undefined : path.join(levels[expected]!, 'prompt.md'));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('output paths on the command line', () => {
  it('regen accepts paths relative to outDir, to the current folder (tab completion) or absolute', async () => {
    project = await repoWithApp();
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const requestsBefore = project.server.requests.length;
    const fromRoot = await project.smol(['regen', 'app/src/util/log.ts', '--yes']);
    expect(fromRoot.stderr).not.toContain('bug');
    expect(fromRoot.code).toBe(0);
    const inside = await smolIn(project, 'app/src', ['regen', './util/log.ts', 'src\\index.ts', '--yes']);
    expect(inside.code).toBe(0);
    const absolute = await project.smol(['regen', path.join(project.dir, 'app', 'src', 'index.ts'), '--yes']);
    expect(absolute.code).toBe(0);
    expect(codeCalls(project.server.requests.slice(requestsBefore))).toEqual([
      'src/index.ts',
      'src/index.ts',
      'src/util/log.ts',
      'src/util/log.ts',
    ]);
    expect(callsByStage(project.server.requests.slice(requestsBefore)).code).toBe(4);
  });

  it('a path that names no planned file is refused, naming both ways to write it', async () => {
    project = await repoWithApp();
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const result = await project.smol(['regen', 'app/src/nope.ts', '../outside.ts']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not in the plan: app/src/nope.ts, ../outside.ts.');
    expect(result.stderr).toContain(
      '`src/index.ts` (relative to the output folder) or `app/src/index.ts` (relative to this folder)',
    );
  });
});
