import { spawn } from 'node:child_process';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/main-in-process.js';
import type { RecordedRequest } from '../helpers/openai-server.js';
import { allText, createProject, FAKE_KEY, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { snapshotTree } from './sandbox.js';

/**
 * Crash safety (design.md 5, issue 17 item 8) at known points: a test-only entry (test/helpers/crash-bin.mjs)
 * kills the process with SIGKILL at a chosen journal step. Each test checks the kill landed there (signal,
 * pending journal, which files moved), then recovers and checks every file is old or new, the lock true to
 * the disk, the hand edits intact, and the undo history consistent (undo restores the exact earlier state).
 */

const CRASH_BIN = fileURLToPath(new URL('../helpers/crash-bin.mjs', import.meta.url));
const COUNT = 20;
const lines = (tag: string, index: number): string =>
  `${Array.from({ length: 6 }, (_, line) => `${tag} ${index} line ${line}`).join('\n')}\n`;
const name = (index: number): string => `dir${index % 4}/file${index}.txt`;
const oldContent = (index: number): string => lines('old', index);
const newContent = (index: number): string => oldContent(index).replace(`old ${index} line 5`, `new ${index} line 5`);
const HAND_OLD = oldContent(0).replace('old 0 line 0', 'HAND EDIT line 0');
const HAND_NEW = newContent(0).replace('old 0 line 0', 'HAND EDIT line 0');

/** v1: files 0..19. v2: every file's last line changes, file 19 leaves the plan, file 20 is new. */
function appVersion(version: 1 | 2): ScriptedApp {
  const files: ScriptedApp['files'] = {};
  const indexes = version === 1 ? [...Array(COUNT).keys()] : [...Array(COUNT - 1).keys(), COUNT];
  for (const index of indexes)
    files[name(index)] = { section: `v${version}`, content: version === 1 ? oldContent(index) : newContent(index) };
  return { global: `Version ${version}.`, files };
}

let app = appVersion(1);
let project: TestProject;
/** Calls to the model, for the kill during generation. */
let onCodeCall: ((request: RecordedRequest) => void) | undefined;
let template: string;
let templateApp: Record<string, string>;

beforeAll(async () => {
  const model = scriptedModel(() => app);
  project = await createProject((request) => {
    if (request.stage === 'code') onCodeCall?.(request);
    return model(request);
  });
  await project.writeSpec();
  expect((await project.smol(['run', '--yes'])).code).toBe(0);
  // A hand edit the next regeneration merges, and a file of the user's own in outDir.
  await project.write(`app/${name(0)}`, HAND_OLD);
  await project.write('app/hand.txt', 'a file smol does not own\n');
  app = appVersion(2);
  await project.writeSpec({ body: '# Demo\n\nVersion two.' });
  template = project.dir;
  templateApp = await snapshotTree(path.join(template, 'app'));
  // Stage v2 in the template: each copy applies it with no model call.
  const diff = await project.smol(['diff', '--generate']);
  expect(diff.code, diff.stderr).toBe(0);
});
afterAll(async () => project.close());

/** Runs the CLI through crash-bin in `cwd`, to be killed at `crashAt`. */
function crashingSmol(
  cwd: string,
  args: string[],
  crashAt: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CRASH_BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, NO_COLOR: '1', OPENAI_API_KEY: FAKE_KEY, SMOL_CRASH_AT: crashAt },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const smolIn = (cwd: string, args: string[]) =>
  runMain([...args, '--provider', 'openai-compatible', '--base-url', project.server.url], {
    cwd,
    env: { OPENAI_API_KEY: FAKE_KEY },
  });

async function journalState(dir: string): Promise<string | undefined> {
  const text = await readFile(path.join(dir, '.smol', 'journal.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as { state: string }).state;
}

/** How many outputs are at their v2 content; throws on a torn file (neither version). */
async function classify(dir: string): Promise<{ news: number; olds: number }> {
  let news = 0;
  let olds = 0;
  for (let index = 0; index <= COUNT; index += 1) {
    const content = await readFile(path.join(dir, 'app', name(index)), 'utf8').catch(() => undefined);
    const old = index === 0 ? HAND_OLD : index === COUNT ? undefined : oldContent(index);
    const fresh = index === 0 ? HAND_NEW : index === COUNT - 1 ? undefined : newContent(index);
    if (content === fresh) news += 1;
    else if (content === old) olds += 1;
    else throw new Error(`torn file ${name(index)}: ${JSON.stringify(content)}`);
  }
  return { news, olds };
}

async function historyEntries(dir: string): Promise<{ command: string; undone: boolean }[]> {
  const list = await smolIn(dir, ['undo', '--list', '--json']);
  expect(list.code, list.stderr).toBe(0);
  return (JSON.parse(list.stdout) as { entries: { command: string; undone: boolean }[] }).entries;
}

/** After recovery: everything v2, the lock true, hand edits intact, and undo back to exactly the v1 state. */
async function expectRecoveredToV2(dir: string): Promise<void> {
  const status = await smolIn(dir, ['status', '--json']);
  expect(status.code, status.stderr).toBe(0);
  expect(await journalState(dir)).toBe('done');
  expect(await classify(dir)).toEqual({ news: COUNT + 1, olds: 0 });
  const report = JSON.parse(status.stdout) as { files: { path: string; disk: string }[] };
  for (const file of report.files) expect(file.disk, file.path).toBe(file.path === name(0) ? 'edited' : 'clean');
  expect(report.files.map((file) => file.path)).not.toContain(name(COUNT - 1));
  const check = await smolIn(dir, ['check']);
  expect(check.code, check.stdout + check.stderr).toBe(0);
  expect(await readFile(path.join(dir, 'app', 'hand.txt'), 'utf8')).toBe('a file smol does not own\n');
  expect((await historyEntries(dir)).map((entry) => entry.undone)).toEqual([false, false]);
  const undo = await smolIn(dir, ['undo']);
  expect(undo.code, undo.stderr).toBe(0);
  expect(await snapshotTree(path.join(dir, 'app'))).toEqual(templateApp);
  await expectLockTrue(dir);
  expect((await historyEntries(dir)).map((entry) => entry.undone)).toEqual([false, true]);
}

/** The lock agrees with the disk (the spec is a version ahead after an undo: only the files are compared). */
async function expectLockTrue(dir: string): Promise<void> {
  const status = await smolIn(dir, ['status', '--json']);
  const report = JSON.parse(status.stdout) as { files: { path: string; disk: string }[] };
  expect(report.files.length).toBeGreaterThan(0);
  for (const file of report.files) expect(file.disk, file.path).toBe(file.path === name(0) ? 'edited' : 'clean');
}

async function inCopy(work: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir('smol-crash-');
  try {
    await cp(template, dir, { recursive: true });
    await work(dir);
  } finally {
    await cleanup();
  }
}

describe('SIGKILL at each step of an apply (20 files, a merge, a deletion, a creation)', () => {
  const points: { at: string; landed: (dir: string, moved: { news: number; olds: number }) => Promise<void> }[] = [
    { at: 'journal-written', landed: async (_dir, moved) => expect(moved.news).toBe(0) },
    { at: 'file-written:1', landed: async (_dir, moved) => expect(moved.news).toBeGreaterThanOrEqual(1) },
    { at: 'file-written:10', landed: async (_dir, moved) => expect(moved.news).toBeGreaterThanOrEqual(10) },
    { at: `file-written:${COUNT + 1}`, landed: async (_dir, moved) => expect(moved.news).toBe(COUNT + 1) },
    {
      at: 'lock-written',
      landed: async (dir, moved) => {
        expect(moved.news).toBe(COUNT + 1);
        expect(await readFile(path.join(dir, 'smol.lock'), 'utf8')).toContain(name(COUNT));
      },
    },
    {
      at: 'history-written',
      landed: async (dir) => expect(await readdir(path.join(dir, '.smol', 'history'))).toContain('000002.json'),
    },
  ];
  it.concurrent.each(points.map((point) => [point.at, point] as const))(
    'killed at %s: recovered to the new version, undo back to the old',
    async (at, point) => {
      await inCopy(async (dir) => {
        const killed = await crashingSmol(dir, ['apply', '--yes'], at);
        // The kill landed where asked: by signal, mid-apply (the journal still pending).
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        expect(await journalState(dir)).toBe('pending');
        const moved = await classify(dir);
        await point.landed(dir, moved);
        // The deletion and the new file are each all or nothing too (classify covers both).
        await expectRecoveredToV2(dir);
      });
    },
  );
});

describe('what a write cut short leaves beside the files', () => {
  it("recovery removes the atomic writer's temp files of the journal's writes, and nothing of the user's", async () => {
    await inCopy(async (dir) => {
      expect((await crashingSmol(dir, ['apply', '--yes'], 'journal-written')).signal).toBe('SIGKILL');
      // As a kill in the middle of writing file 1 leaves it: its temp file with the first bytes of the new content.
      await writeFile(path.join(dir, 'app', `${name(1)}.3435897461`), newContent(1).slice(0, 20));
      await writeFile(path.join(dir, 'app', `${name(2)}.42`), "a file of the user's\n");
      await writeFile(path.join(dir, 'app', `${name(3)}.77`), `${newContent(3)}and more\n`);
      expect((await smolIn(dir, ['status'])).code).toBe(0);
      const after = await snapshotTree(path.join(dir, 'app'));
      expect(after[`${name(1)}.3435897461`]).toBeUndefined();
      expect(after[`${name(2)}.42`]).toBe("a file of the user's\n");
      expect(after[`${name(3)}.77`]).toBe(`${newContent(3)}and more\n`);
    });
  });
});

describe('SIGKILL during an undo and while generating', () => {
  it.concurrent.each(['journal-written', 'file-written:5'])(
    'undo killed at %s: recovery finishes the undo; redo re-applies',
    async (at) => {
      await inCopy(async (dir) => {
        expect((await smolIn(dir, ['apply', '--yes'])).code).toBe(0);
        const applied = await snapshotTree(path.join(dir, 'app'));
        const killed = await crashingSmol(dir, ['undo'], at);
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        expect(await journalState(dir)).toBe('pending');
        const status = await smolIn(dir, ['status']);
        expect(status.stderr).toMatch(/interrupted/);
        expect(await snapshotTree(path.join(dir, 'app'))).toEqual(templateApp);
        await expectLockTrue(dir);
        expect((await smolIn(dir, ['redo'])).code).toBe(0);
        expect(await snapshotTree(path.join(dir, 'app'))).toEqual(applied);
      });
    },
  );

  it('run killed at its 3rd generation call: nothing written, no journal; the next run finishes the job', async () => {
    await inCopy(async (dir) => {
      // Nothing staged or remembered: every file is generated by the model again.
      for (const folder of ['cache', 'generations', 'staging'])
        await rm(path.join(dir, '.smol', folder), { recursive: true, force: true });
      let calls = 0;
      let child: ReturnType<typeof spawn> | undefined;
      const arrived = new Promise<void>((resolve) => {
        onCodeCall = () => {
          calls += 1;
          if (calls === 3) resolve();
        };
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => {
        child = spawn(
          process.execPath,
          [CRASH_BIN, 'run', '--yes', '--provider', 'openai-compatible', '--base-url', project.server.url],
          {
            cwd: dir,
            env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1', OPENAI_API_KEY: FAKE_KEY },
            stdio: 'ignore',
          },
        );
        child.on('close', (_code, signal) => resolve(signal));
      });
      await arrived;
      child!.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      onCodeCall = undefined;
      expect(await snapshotTree(path.join(dir, 'app'))).toEqual(templateApp);
      expect(await journalState(dir)).not.toBe('pending');
      const run = await smolIn(dir, ['run', '--yes']);
      expect(run.code, run.stderr).toBe(0);
      // All new, but file 19: the copy is a clone (new inodes), so smol keeps the file that left the plan.
      expect(await classify(dir)).toEqual({ news: COUNT, olds: 1 });
      expect(await readFile(path.join(dir, 'app', name(COUNT - 1)), 'utf8')).toBe(oldContent(COUNT - 1));
      expect(await readFile(path.join(dir, 'app', 'hand.txt'), 'utf8')).toBe('a file smol does not own\n');
      expect(await allText(dir)).not.toContain(FAKE_KEY);
    });
  });
});
