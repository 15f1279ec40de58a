import { spawn } from 'node:child_process';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, tempDir } from '../helpers/cli.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { runMain } from '../helpers/main-in-process.js';
import { callsByStage, codeCalls, scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';

/** Issues 12, 18 and 20 as a user meets them: each reproduction from the issues, driven through the CLI. */
function makeApp(): ScriptedApp {
  const body = (name: string): string =>
    Array.from({ length: 8 }, (_, index) => `// ${name} line ${index + 1}`).join('\n');
  return {
    files: {
      'src/a.ts': { section: 'Exports a().', content: `${body('a')}\nexport const a = 1;\n` },
      'src/b.ts': { section: 'Exports b().', content: `${body('b')}\nexport const b = 2;\n` },
      'src/c.ts': { section: 'Exports c().', content: `${body('c')}\nexport const c = 3;\n` },
    },
  };
}
const SECTIONS = { 'src/a.ts': 'Module a.', 'src/b.ts': 'Module b.', 'src/c.ts': 'Module c.' };

let project: TestProject | undefined;
let app: ScriptedApp;
let settings: Record<string, string | number> = {};
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await project?.close();
  project = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function generated(frontmatter: Record<string, string | number> = {}): Promise<TestProject> {
  settings = frontmatter;
  app = makeApp();
  project = await createProject(scriptedModel(() => app));
  await project.writeSpec({ settings, sections: SECTIONS });
  const first = await project.smol(['run', '--yes']);
  expect(first.code, first.stderr).toBe(0);
  project.server.requests.length = 0;
  return project;
}

/** Changes the plan section of one file (and the spec section that leads to it). */
async function editSection(p: TestProject, file: 'src/a.ts' | 'src/b.ts' | 'src/c.ts', version: number): Promise<void> {
  const entry = app.files[file]!;
  entry.section = `${(entry.section ?? '').split(' v')[0]} v${version}.`;
  entry.content = (entry.content as string).replace(/= \d+;/, `= ${version * 10};`);
  await p.writeSpec({ settings, sections: { ...SECTIONS, [file]: `${SECTIONS[file]} v${version}` } });
}

async function status(
  p: TestProject,
): Promise<{ files: { path: string; disk: string; recorded: boolean }[]; staged: { path: string; action: string }[] }> {
  return JSON.parse((await p.smol(['status', '--json'])).stdout) as never;
}

describe('what a person wrote survives (issue 12)', () => {
  it('accept records a hand edit (check passes) without giving it up: the next regeneration merges it again', async () => {
    const p = await generated();
    await p.write('app/src/a.ts', `// MINE\n${await p.read('app/src/a.ts')}`);
    const drift = await p.smol(['check']);
    expect(drift.code).toBe(1);
    expect(drift.stderr).toContain('smol accept src/a.ts');
    const accepted = await p.smol(['accept', 'src/a.ts']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect((await p.smol(['check'])).code).toBe(0);
    expect((await status(p)).files.find((file) => file.path === 'src/a.ts')).toMatchObject({
      disk: 'edited',
      recorded: true,
    });
    await editSection(p, 'src/a.ts', 2);
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    expect(await p.read('app/src/a.ts')).toMatch(/^\/\/ MINE[\s\S]*= 20;/);
    expect((await p.smol(['accept', 'src/zzz.ts'])).code).toBe(2);
  });

  it('regen PATH writes only that file, even with a spec edit pending for others', async () => {
    const p = await generated();
    await editSection(p, 'src/b.ts', 2);
    await editSection(p, 'src/c.ts', 3);
    const regen = await p.smol(['regen', 'src/a.ts', '--yes']);
    expect(regen.code, regen.stderr).toBe(0);
    expect(codeCalls(p.server.requests)).toEqual(['src/a.ts']);
    expect(await p.read('app/src/b.ts')).toContain('= 2;');
    expect(await p.read('app/src/c.ts')).toContain('= 3;');
    // The others are still stale, and the next run regenerates them.
    const run = await p.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(await p.read('app/src/c.ts')).toContain('= 30;');
  });

  it('an outDir change recreates the files in the new folder with no model call, and says what it left', async () => {
    const p = await generated();
    await p.write('app/src/b.ts', `${await p.read('app/src/b.ts')}// MINE\n`);
    await p.writeSpec({ settings: { outDir: 'web' }, sections: SECTIONS });
    const moved = await p.smol(['run', '--yes']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(p.server.requests.filter((request) => request.stage === 'code')).toEqual([]);
    expect(moved.stderr).toMatch(
      /outDir changed from app to web: 3 files recreated there with no model call; app\/ is left as it was/,
    );
    expect(await p.read('web/src/a.ts')).toBe(await p.read('app/src/a.ts'));
    expect(await p.read('web/src/b.ts')).toContain('// MINE');
    expect((await status(p)).files.find((file) => file.path === 'src/b.ts')?.disk).toBe('edited');
    expect((await p.smol(['check'])).code).toBe(0);
  });

  it('smol check gives the same answer whatever the environment holds', async () => {
    app = makeApp();
    project = await createProject(scriptedModel(() => app));
    const p = project;
    await p.writeSpec({ sections: SECTIONS });
    // Generated with --base-url only (no provider in the spec); checked without any flag.
    expect(
      (await runMain(['run', '--yes', '--base-url', p.server.url], { cwd: p.dir, env: { OPENAI_API_KEY: FAKE_KEY } }))
        .code,
    ).toBe(0);
    const bare = { cwd: p.dir };
    const withKey = await runMain(['check'], { ...bare, env: { OPENAI_API_KEY: FAKE_KEY } });
    const withAnthropic = await runMain(['check'], { ...bare, env: { ANTHROPIC_API_KEY: 'x' } });
    const without = await runMain(['check'], bare);
    expect([withKey.code, withAnthropic.code, without.code]).toEqual([0, 0, 0]);
  });

  it('undo walks back one apply per call, --list shows the history, and it says when nothing is left', async () => {
    const p = await generated();
    await editSection(p, 'src/a.ts', 2);
    expect((await p.smol(['run', '--yes'])).code).toBe(0);
    const list = await p.smol(['undo', '--list']);
    expect(list.stdout).toMatch(/2 .*run: 1 file \(src\/a\.ts\)[\s\S]*1 .*run: 3 files/);
    expect((await p.smol(['undo'])).code).toBe(0);
    expect(await p.read('app/src/a.ts')).toContain('= 1;');
    expect((await p.smol(['undo'])).code).toBe(0);
    expect(await p.readOrUndefined('app/src/a.ts')).toBeUndefined();
    const nothing = await p.smol(['undo']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('Nothing to undo');
    expect((await p.smol(['undo', '--list'])).stdout).toContain('undone');
  });
});

describe('what the commands say (issue 18)', () => {
  it('status after a run that staged its changes shows them, with the next command', async () => {
    app = makeApp();
    project = await createProject(scriptedModel(() => app));
    await project.writeSpec({ sections: SECTIONS });
    expect((await project.smol(['run'])).code).toBe(0);
    const text = (await project.smol(['status'])).stdout;
    expect(text).toContain('3 changes staged');
    const json = await status(project);
    expect(json.staged.map((change) => change.action)).toEqual(['create', 'create', 'create']);
  });

  it('smol gc shrinks .smol/ and keeps what undo needs', async () => {
    const p = await generated();
    for (const version of [2, 3, 4]) {
      await editSection(p, 'src/a.ts', version);
      expect((await p.smol(['run', '--yes'])).code).toBe(0);
    }
    // Drop an answer the history no longer needs: the memo of a generation that is in no lock any more.
    const gc = await p.smol(['gc', '--cache-days', '0', '--json']);
    expect(gc.code, gc.stderr).toBe(0);
    const result = JSON.parse(gc.stdout) as { bytesBefore: number; bytesAfter: number; removedCacheEntries: number };
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore);
    expect(result.removedCacheEntries).toBeGreaterThan(0);
    for (const content of ['= 30;', '= 20;', '= 1;']) {
      expect((await p.smol(['undo'])).code).toBe(0);
      expect(await p.read('app/src/a.ts')).toContain(content);
    }
  });

  it('a closed stdout ends a command quietly (`smol status | head -1`)', async () => {
    const p = await generated();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'undo', '--list'], {
        cwd: p.dir,
        env: { PATH: process.env.PATH ?? '' },
      });
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      // The reader goes away before smol writes: every write meets a closed pipe.
      child.stdout.destroy();
      child.on('error', reject);
      child.on('close', (exit) => resolve({ code: exit, stderr: err }));
    });
    expect(stderr).not.toMatch(/EPIPE|bug/);
    expect(code).toBe(0);
  });

  it('an include outside the repository is refused, never read', async () => {
    const p = await generated();
    await mkdir(path.join(p.dir, '.git'));
    // A file that exists, one folder above the repository.
    await writeFile(path.join(p.dir, '..', `outside-${path.basename(p.dir)}.txt`), 'a secret\n');
    const spec = await p.read('prompt.md');
    await p.write(
      'prompt.md',
      spec.replace('model: test-model', `model: test-model\ninclude: ["../outside-${path.basename(p.dir)}.txt"]`),
    );
    const run = await p.smol(['run', '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('inside the repository');
    expect(p.server.requests).toEqual([]);
  });
});

describe('a fresh clone merges as the author does (issue 20)', () => {
  it("a teammate with no .smol/ merges the author's hand edit instead of a conflict, and check passes there", async () => {
    const p = await generated({ outDir: 'out' });
    await p.write('out/src/b.ts', `// TEAM-EDIT\n${await p.read('out/src/b.ts')}`);
    // What the author runs before committing (any command records the edit in smol.edits.patch).
    expect((await p.smol(['accept', 'src/b.ts'])).code).toBe(0);
    const patch = await p.read('smol.edits.patch');
    expect(patch).toContain('+// TEAM-EDIT');
    // The clone: the committed files only.
    const { dir: clone, cleanup } = await tempDir('smol-clone-');
    cleanups.push(cleanup);
    for (const name of ['prompt.md', 'smol.lock', 'smol.edits.patch', 'out'])
      await cp(path.join(p.dir, name), path.join(clone, name), { recursive: true });
    const teammate = {
      ...p,
      dir: clone,
      smol: (args: string[]) =>
        runMain([...args, '--provider', 'openai-compatible', '--base-url', p.server.url], {
          cwd: clone,
          env: { OPENAI_API_KEY: FAKE_KEY },
        }),
    };
    expect((await teammate.smol(['check'])).code).toBe(0);
    await editSection(p, 'src/b.ts', 2);
    await cp(path.join(p.dir, 'prompt.md'), path.join(clone, 'prompt.md'));
    const run = await teammate.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/conflict/);
    const merged = await (await import('node:fs/promises')).readFile(path.join(clone, 'out/src/b.ts'), 'utf8');
    expect(merged).toMatch(/^\/\/ TEAM-EDIT[\s\S]*= 20;/);
    expect((await readdir(clone)).sort()).toEqual(['.smol', 'out', 'prompt.md', 'smol.edits.patch', 'smol.lock']);
    await rm(path.join(clone, '.smol'), { recursive: true, force: true });
    expect(callsByStage(p.server.requests).code).toBeGreaterThan(0);
  });
});
