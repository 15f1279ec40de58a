import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, type CliResult } from '../helpers/cli.js';
import { runMain } from '../helpers/main-in-process.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { plantJournal, snapshotTree } from './sandbox.js';

/**
 * Issue 13 items 3 and 5: protected files compared by real path (outDir may reach the spec's folder through
 * a link), and model paths that cannot be written (a file and a folder of one name, something on disk in the
 * way, names too long in bytes) refused at acceptance with a reason, leaving nothing wedged.
 */

let project: TestProject | undefined;
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await project?.close();
  project = undefined;
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

const files = (...paths: string[]): ScriptedApp => ({
  files: Object.fromEntries(paths.map((file) => [file, { section: `Section of ${file}.`, content: 'ok\n' }])),
});

async function projectWith(app: ScriptedApp, frontmatter: Record<string, string>): Promise<TestProject> {
  project = await createProject(scriptedModel(() => app));
  const settings = Object.entries({ model: 'test-model', ...frontmatter }).map(([key, value]) => `${key}: ${value}`);
  await writeFile(
    path.join(project.dir, 'prompt.md'),
    `---\n${settings.join('\n')}\n---\n# Demo\n\nA tiny demo program.\n`,
  );
  return project;
}

function refusals(result: CliResult): string[] {
  return [...`${result.stdout}\n${result.stderr}`.matchAll(/refused (\S+): (.+)/g)].map(
    (match) => `${match[1]}: ${match[2]}`,
  );
}

/** Every command works after whatever happened: none crashes, each ends with an ordinary exit code. */
async function nothingWedged(p: TestProject): Promise<void> {
  for (const args of [['status'], ['check'], ['plan'], ['run', '--yes'], ['diff'], ['undo'], ['status', '--json']]) {
    const result = await p.smol(args);
    expect(result.stderr, args.join(' ')).not.toContain('smol hit a bug');
    expect([0, 1], `${args.join(' ')}: ${result.stderr}`).toContain(result.code);
  }
}

describe('outDir reaching the spec folder through a link: protected files refused by real path (issue 13.3)', () => {
  const PROTECTED = ['prompt.md', 'smol.lock', 'smol.edits.patch', 'notes.md', 'state/journal.json', 'state/x'];
  const cases: { name: string; outDir: (dir: string) => Promise<string> }[] = [
    {
      name: 'outDir a link to the spec folder',
      outDir: async (dir) => {
        await symlink('.', path.join(dir, 'out'));
        return 'out';
      },
    },
    {
      name: 'absolute outDir through a linked path to the checkout',
      outDir: async (dir) => {
        const { dir: elsewhere, cleanup } = await tempDir('smol-link-');
        cleanups.push(cleanup);
        await symlink(dir, path.join(elsewhere, 'checkout'));
        return JSON.stringify(path.join(elsewhere, 'checkout'));
      },
    },
    {
      name: 'outDir a link, one folder down, back up to the spec folder',
      outDir: async (dir) => {
        await mkdir(path.join(dir, 'up'));
        await symlink('..', path.join(dir, 'up', 'back'));
        return 'up/back';
      },
    },
  ];
  it.each(cases.map((entry) => [entry.name, entry] as const))('%s', async (_name, entry) => {
    const app = files(...PROTECTED, 'ok.txt');
    const p = await projectWith(app, { outDir: 'app' });
    await writeFile(path.join(p.dir, 'notes.md'), 'Included notes.\n');
    const outDir = await entry.outDir(p.dir);
    // A folder of outDir that is a link to .smol: its real path is protected as well.
    const settings = [`model: test-model`, `outDir: ${outDir}`, `include: ["notes.md"]`];
    await writeFile(
      path.join(p.dir, 'prompt.md'),
      `---\n${settings.join('\n')}\n---\n# Demo\n\nA tiny demo program.\n`,
    );
    expect((await p.smol(['status'])).code).toBe(0);
    await mkdir(path.join(p.dir, '.smol'), { recursive: true });
    await symlink(path.join(p.dir, '.smol'), path.join(p.dir, 'state'));
    for (const attempt of [1, 2]) {
      if (attempt === 2) {
        // Again with smol.lock and the edits file present: a new file makes the model list every path again.
        app.files['ok2.txt'] = { section: 'Another.', content: 'ok\n' };
        await writeFile(
          path.join(p.dir, 'prompt.md'),
          `---\n${settings.join('\n')}\n---\n# Demo\n\nA tiny demo program, and another file.\n`,
        );
        await p.write('ok.txt', 'ok\nmine\n');
      }
      const spec = await readFile(path.join(p.dir, 'prompt.md'), 'utf8');
      const run = await p.smol(['run', '--yes']);
      expect(run.stderr).not.toContain('smol hit a bug');
      const refused = refusals(run).map((line) => line.split(':')[0]);
      for (const file of PROTECTED) expect(refused, `attempt ${attempt}: ${run.stderr}`).toContain(file);
      expect(await readFile(path.join(p.dir, 'prompt.md'), 'utf8')).toBe(spec);
      expect(await readFile(path.join(p.dir, 'notes.md'), 'utf8')).toBe('Included notes.\n');
      const lock = await p.readOrUndefined('smol.lock');
      if (lock !== undefined) expect(lock).toMatch(/^\{/);
      expect(await p.readOrUndefined('smol.edits.patch')).not.toBe('ok\n');
      expect((await snapshotTree(path.join(p.dir, '.smol'))).x).toBeUndefined();
      expect(await p.read('ok.txt')).toBe(attempt === 1 ? 'ok\n' : 'ok\nmine\n');
    }
    await nothingWedged(p);
  });
});

describe('a checkout reached through a link (issue 13.3)', () => {
  it('works as any other: the edits file, accept, check and undo write beside the spec', async () => {
    const p = await projectWith(files('a.txt'), { outDir: 'app' });
    const { dir: elsewhere, cleanup } = await tempDir('smol-link-');
    cleanups.push(cleanup);
    await symlink(p.dir, path.join(elsewhere, 'checkout'));
    const smol = (args: string[]) =>
      runMain([...args, '--provider', 'openai-compatible', '--base-url', p.server.url], {
        cwd: path.join(elsewhere, 'checkout'),
        env: { OPENAI_API_KEY: FAKE_KEY },
      });
    expect((await smol(['run', '--yes', path.join(elsewhere, 'checkout', 'prompt.md')])).code).toBe(0);
    await p.write('app/a.txt', 'ok\nmine\n');
    const status = await smol(['status', path.join(elsewhere, 'checkout', 'prompt.md')]);
    expect(status.code, status.stderr).toBe(0);
    expect(await p.read('smol.edits.patch')).toContain('a.txt');
    const accept = await smol(['accept', 'a.txt', '--spec', path.join(elsewhere, 'checkout', 'prompt.md')]);
    expect(accept.code, accept.stderr).toBe(0);
    expect((await smol(['check', path.join(elsewhere, 'checkout', 'prompt.md')])).code).toBe(0);
    expect((await smol(['undo', path.join(elsewhere, 'checkout', 'prompt.md')])).code).toBe(0);
    expect(await p.read('app/a.txt')).toBe('ok\nmine\n');
  });
});

describe('model paths that cannot be written are refused at acceptance with a reason (issue 13.5)', () => {
  const long = `${'x'.repeat(250)}.ts`;
  const accented = `${'é'.repeat(200)}.ts`;
  const cases: {
    name: string;
    app: ScriptedApp;
    setup?: (outDir: string) => Promise<unknown>;
    refused: Record<string, RegExp>;
    written: string[];
  }[] = [
    {
      name: 'a file and a folder of one name',
      app: files('src', 'src/a.ts'),
      refused: { src: /also the name of a folder/ },
      written: ['src/a.ts'],
    },
    {
      name: 'a file and a folder differing in case',
      app: files('Lib', 'lib/a.ts'),
      refused: { Lib: /folder/ },
      written: ['lib/a.ts'],
    },
    {
      name: 'a planned folder where the user has a file',
      app: files('notes/todo.md', 'b.txt'),
      setup: (outDir) => writeFile(path.join(outDir, 'notes'), 'my notes\n'),
      refused: { 'notes/todo.md': /the file notes is in the way/ },
      written: ['b.txt'],
    },
    {
      name: 'a planned file where a folder exists',
      app: files('lib', 'b.txt'),
      setup: (outDir) => mkdir(path.join(outDir, 'lib', 'inner'), { recursive: true }),
      refused: { lib: /folder of that name is in the way/ },
      written: ['b.txt'],
    },
    {
      name: '250 ASCII characters + .ts',
      app: files(long, 'b.txt'),
      refused: { [long]: /longer than 240 bytes/ },
      written: ['b.txt'],
    },
    {
      name: '200 × é (400 bytes)',
      app: files(accented, 'b.txt'),
      refused: { [accented]: /longer than 240 bytes/ },
      written: ['b.txt'],
    },
    {
      name: 'a long folder name',
      app: files(`${'d'.repeat(241)}/a.ts`, 'b.txt'),
      refused: { [`${'d'.repeat(241)}/a.ts`]: /longer than 240 bytes/ },
      written: ['b.txt'],
    },
  ];
  it.each(cases.map((entry) => [entry.name, entry] as const))('%s', async (_name, entry) => {
    const p = await projectWith(entry.app, { outDir: 'app' });
    await mkdir(path.join(p.dir, 'app'), { recursive: true });
    await entry.setup?.(path.join(p.dir, 'app'));
    const userFiles = await snapshotTree(path.join(p.dir, 'app'));
    const run = await p.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    const refused = new Map(
      refusals(run).map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]),
    );
    for (const [file, reason] of Object.entries(entry.refused))
      expect(refused.get(file), `${file} in ${run.stderr}`).toMatch(reason);
    for (const file of entry.written) expect(await p.read(`app/${file}`)).toBe('ok\n');
    // The user's files are as they were.
    const after = await snapshotTree(path.join(p.dir, 'app'));
    for (const [file, content] of Object.entries(userFiles)) expect(after[file]).toBe(content);
    expect(
      await p
        .readOrUndefined('.smol/journal.json')
        .then((text) => text === undefined || JSON.parse(text).state === 'done'),
    ).toBe(true);
    await nothingWedged(p);
  });
});

describe('a recovery that cannot write a file settles the journal and says so (issue 13.5)', () => {
  it.each([
    [
      'a folder where the file goes (EISDIR)',
      'lib',
      async (outDir: string) => mkdir(path.join(outDir, 'lib', 'inner'), { recursive: true }),
    ],
    [
      'a file where a folder goes (ENOTDIR)',
      'notes/todo.md',
      async (outDir: string) => writeFile(path.join(outDir, 'notes'), 'my notes\n'),
    ],
  ])('%s', async (_name, blocked, setup) => {
    const p = await projectWith(files('a.txt'), { outDir: 'app' });
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    await setup(path.join(p.dir, 'app'));
    const lock = await p.read('smol.lock');
    // An apply cut short: a.txt was written, `blocked` could not be.
    await plantJournal(
      p.dir,
      'app',
      [
        { path: 'a.txt', before: 'ok\n', after: 'ok\n' },
        { path: blocked, before: null, after: 'new\n' },
      ],
      { lockAfter: lock },
    );
    const status = await p.smol(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toMatch(/interrupted/);
    expect(status.stderr).toContain(blocked);
    expect(JSON.parse(await p.read('.smol/journal.json')).state).toBe('done');
    expect((await p.smol(['check'])).code).toBe(0);
    await nothingWedged(p);
    await rm(path.join(p.dir, 'app'), { recursive: true });
  });
});
