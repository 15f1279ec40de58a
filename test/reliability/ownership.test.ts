import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/internal/hash.js';
import { runMain } from '../helpers/main-in-process.js';
import { tempDir } from '../helpers/cli.js';
import { createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { exists } from './sandbox.js';

/**
 * Issue 13 item 4: smol deletes a file that left the plan only when it wrote that very file in this working
 * copy (the ledger's inode), and never an ignored path. A poisoned or stale lock, `ignore`, or a fresh clone
 * (no `.smol/`) never makes it delete a file a person wrote.
 */

const UNIVERSE = ['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt'];
const app: ScriptedApp = { files: {} };
let project: TestProject;
beforeAll(async () => {
  project = await createProject(scriptedModel(() => app));
});
afterAll(async () => project.close());

function plan(files: readonly string[]): void {
  app.files = Object.fromEntries(
    files.map((file) => [file, { section: `Section of ${file}.`, content: `generated ${file}\n` }]),
  );
}

async function writeSpec(version: number, ignore: readonly string[] = []): Promise<void> {
  const ignoreLine = ignore.length === 0 ? '' : `ignore: ${JSON.stringify(ignore)}\n`;
  await writeFile(
    path.join(project.dir, 'prompt.md'),
    `---\nmodel: test-model\noutDir: app\n${ignoreLine}---\n# Demo\n\nVersion ${version}.\n`,
  );
}

async function reset(): Promise<void> {
  for (const entry of ['app', '.smol', 'smol.lock', 'smol.edits.patch'])
    await rm(path.join(project.dir, entry), { recursive: true, force: true });
}

/** Adds lock entries claiming smol wrote these files with the content they have now (what a poisoned lock says). */
async function poisonLock(files: readonly string[]): Promise<void> {
  const lock = JSON.parse(await project.read('smol.lock')) as {
    files: Record<string, { generated: string; written: string }>;
  };
  const template = Object.values(lock.files)[0]!;
  for (const file of files) {
    const hash = sha256(await project.read(`app/${file}`));
    lock.files[file] = { ...template, generated: hash, written: hash };
  }
  await writeFile(path.join(project.dir, 'smol.lock'), JSON.stringify(lock, null, 2));
}

describe('only files smol wrote here are deleted (issue 13.4)', () => {
  it('a poisoned lock entry for a hand-written file that is not in the plan: kept', async () => {
    await reset();
    plan(['f0.txt', 'f1.txt']);
    await writeSpec(1);
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    await project.write('app/mine.txt', 'written by hand\n');
    await poisonLock(['mine.txt']);
    const run = await project.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(await project.read('app/mine.txt')).toBe('written by hand\n');
    // Also when it leaves a plan that did name it (the lock says smol generated it: it did not, here).
    plan(['f0.txt']);
    await writeSpec(2);
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    expect(await project.read('app/mine.txt')).toBe('written by hand\n');
  });

  it('adding a path to `ignore` never deletes it', async () => {
    await reset();
    plan(['f0.txt', 'f1.txt', 'f2.txt']);
    await writeSpec(1);
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    await writeSpec(1, ['f1.txt', 'f2.*']);
    const run = await project.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/deleted/);
    expect(await project.read('app/f1.txt')).toBe('generated f1.txt\n');
    expect(await project.read('app/f2.txt')).toBe('generated f2.txt\n');
  });

  it('a fresh clone (no .smol/) never deletes a file that left the plan', async () => {
    await reset();
    plan(['f0.txt', 'f1.txt']);
    await writeSpec(1);
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const { dir: clone, cleanup } = await tempDir('smol-clone-');
    try {
      // What git would check out: the spec, the lock and the outputs, as new files.
      for (const entry of ['prompt.md', 'smol.lock', 'app'])
        await cp(path.join(project.dir, entry), path.join(clone, entry), { recursive: true });
      plan(['f0.txt']);
      await writeFile(
        path.join(clone, 'prompt.md'),
        (await readFile(path.join(clone, 'prompt.md'), 'utf8')).replace('Version 1.', 'Version 2.'),
      );
      const run = await runMain(['run', '--yes', '--provider', 'openai-compatible', '--base-url', project.server.url], {
        cwd: clone,
        env: { OPENAI_API_KEY: FAKE_KEY },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(await readFile(path.join(clone, 'app', 'f1.txt'), 'utf8')).toBe('generated f1.txt\n');
      // In the working copy that wrote it, the same change deletes it.
      await writeSpec(2);
      expect((await project.smol(['run', '--yes'])).code).toBe(0);
      expect(await exists(path.join(project.dir, 'app', 'f1.txt'))).toBe(false);
    } finally {
      await cleanup();
    }
  });

  it('property: over random plans, hand-written, edited, ignored files, poisoned entries and clones, a file is deleted only when smol wrote it here, it left the plan, is unedited and not ignored', async () => {
    const subset = fc.subarray(UNIVERSE);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          first: subset.filter((files) => files.length > 0),
          second: subset.filter((files) => files.length > 0),
          hand: subset,
          edited: subset,
          ignored: subset,
          poison: fc.boolean(),
          clone: fc.boolean(),
        }),
        async ({ first, second, hand, edited, ignored, poison, clone }) => {
          await reset();
          plan(first);
          await writeSpec(1);
          expect((await project.smol(['run', '--yes'])).code).toBe(0);
          const handWritten = hand.filter((file) => !first.includes(file));
          const editedFiles = edited.filter((file) => first.includes(file));
          for (const file of handWritten) await project.write(`app/${file}`, `hand ${file}\n`);
          for (const file of editedFiles) await project.write(`app/${file}`, `generated ${file}\nedit\n`);
          if (poison) await poisonLock(handWritten.filter((file) => !second.includes(file)));
          if (clone) await rm(path.join(project.dir, '.smol'), { recursive: true });
          const before = new Map<string, string>();
          for (const file of UNIVERSE) {
            const content = await project.readOrUndefined(`app/${file}`);
            if (content !== undefined) before.set(file, content);
          }
          plan(second);
          await writeSpec(2, ignored);
          const run = await project.smol(['run', '--yes']);
          expect(run.stderr).not.toContain('smol hit a bug');
          for (const [file, content] of before) {
            const now = await project.readOrUndefined(`app/${file}`);
            const mayDelete =
              !clone &&
              first.includes(file) &&
              !second.includes(file) &&
              !editedFiles.includes(file) &&
              !ignored.includes(file);
            if (now === undefined) expect(mayDelete, `${file} deleted: ${run.stderr}`).toBe(true);
            // Files of a person's are never changed by the deletion rule (hand-written ones at all).
            if (handWritten.includes(file) || editedFiles.includes(file)) expect(now, file).toBe(content);
            // And the rule does delete: a file smol wrote here that left the plan goes.
            if (mayDelete && !(handWritten.includes(file) || editedFiles.includes(file)))
              expect(now, `${file} kept: ${run.stderr}`).toBeUndefined();
          }
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);
});
