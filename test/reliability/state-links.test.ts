import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, type CliResult } from '../helpers/cli.js';
import { createProject, type TestProject } from '../helpers/project.js';
import { scriptedModel, type ScriptedApp } from '../helpers/scripted-model.js';
import { plantJournal, seedHome, snapshotTree } from './sandbox.js';

/**
 * Issue 13 item 2: smol's state files are never followed through links, and a FIFO, a folder or a huge
 * file in their place neither hangs smol nor makes it write anywhere: each is a user error naming the file
 * and the fix, and nothing outside the project changes.
 */

const APP: ScriptedApp = {
  files: { 'a.txt': { section: 'A.', content: 'a\n' }, 'b.txt': { section: 'B.', content: 'b\n' } },
};

let project: TestProject;
let home: string;
let cleanHome: () => Promise<void>;
beforeEach(async () => {
  ({ dir: home, cleanup: cleanHome } = await tempDir('smol-home-'));
  await seedHome(home);
  project = await createProject(scriptedModel(() => APP));
  await project.writeSpec();
});
afterEach(async () => {
  await project.close();
  await cleanHome();
});

const precious = (): string => path.join(home, 'precious.txt');

/**
 * The CLI in-process, raced against a deadline: a read that blocked on a FIFO would never settle. The deadline
 * only detects that failure (it is far beyond any run); nothing waits for it.
 */
async function smolOrHang(args: string[]): Promise<CliResult | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 15_000)));
  try {
    return await Promise.race([project.smol(args), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function expectUserError(result: CliResult, what: RegExp): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toMatch(what);
  expect(result.stderr).not.toContain('smol hit a bug');
}

describe('state files that are links (issue 13.2)', () => {
  it('smol.lock -> a file outside: reported, never read or written through, and `run --all` replaces the link', async () => {
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const before = await snapshotTree(home);
    await rm(path.join(project.dir, 'smol.lock'));
    await symlink(precious(), path.join(project.dir, 'smol.lock'));
    for (const args of [['status'], ['check'], ['run', '--yes'], ['diff'], ['undo']]) {
      expectUserError(await project.smol(args), /smol\.lock is a symbolic link/);
      expect(await snapshotTree(home), args.join(' ')).toEqual(before);
    }
    // The damaged-lock message advises `run --all`: it rebuilds the lock as a regular file beside the spec.
    const rebuilt = await project.smol(['run', '--all', '--yes']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(await snapshotTree(home)).toEqual(before);
    expect((await snapshotTree(project.dir))['smol.lock']).toMatch(/^\{/);
    expect((await project.smol(['check'])).code).toBe(0);
  });

  it('smol.edits.patch -> a file outside: never written through', async () => {
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    await symlink(precious(), path.join(project.dir, 'smol.edits.patch'));
    const before = await snapshotTree(home);
    await project.write('app/a.txt', 'a\nmine\n');
    for (const args of [['status'], ['check'], ['run', '--yes'], ['accept', 'a.txt']]) {
      await project.smol(args);
      expect(await snapshotTree(home), args.join(' ')).toEqual(before);
    }
  });

  it('.smol -> a folder outside (holding a journal, staging and history): nothing there is read, written or deleted', async () => {
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    // What an attacker puts in the folder .smol points to: a pending journal (with its objects), staging, history.
    const state = path.join(home, 'other', '.smol');
    await rm(path.join(project.dir, '.smol'), { recursive: true });
    await plantJournal(path.join(home, 'other'), 'app', [{ path: 'a.txt', before: 'a\n', after: 'owned\n' }]);
    await mkdir(path.join(state, 'staging'));
    await writeFile(path.join(state, 'staging', 'changes.json'), '{}');
    await mkdir(path.join(state, 'history'));
    await writeFile(path.join(state, 'history', '000001.json'), '{}');
    await symlink(state, path.join(project.dir, '.smol'));
    const before = await snapshotTree(home);
    const commands = [
      ['status'],
      ['check'],
      ['plan'],
      ['diff'],
      ['diff', '--generate'],
      ['apply', '--yes'],
      ['run', '--yes'],
      ['run', '--all', '--yes'],
      ['regen', 'a.txt', '--yes'],
      ['undo'],
      ['redo'],
      ['accept', 'a.txt'],
    ];
    for (const args of commands) {
      const result = await project.smol(args);
      expectUserError(result, /\.smol is a symbolic link/);
      expect(await snapshotTree(home), args.join(' ')).toEqual(before);
      expect(await project.read('app/a.txt')).toBe('a\n');
    }
    // The way out the message gives works.
    await rm(path.join(project.dir, '.smol'));
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    expect(await snapshotTree(home)).toEqual(before);
  });

  it.each(['objects', 'generations', 'cache', 'staging', 'history'])(
    '.smol/%s/… folders -> a folder outside: nothing written there',
    async (name) => {
      expect((await project.smol(['run', '--yes'])).code).toBe(0);
      const outside = path.join(home, 'planted');
      await mkdir(outside);
      const folder = path.join(project.dir, '.smol', name);
      await rm(folder, { recursive: true, force: true });
      if (name === 'staging' || name === 'history') {
        await symlink(outside, folder);
        await writeFile(path.join(outside, name === 'staging' ? 'changes.json' : 'state.json'), '{}');
      } else {
        // Every two-hex-digit folder (where each entry goes by its hash) is a link out.
        await mkdir(folder);
        for (let byte = 0; byte < 256; byte += 1)
          await symlink(outside, path.join(folder, byte.toString(16).padStart(2, '0')));
      }
      const before = await snapshotTree(home);
      // A fresh generation of everything: objects, generations and cache entries are all written.
      await rm(path.join(project.dir, 'smol.lock'));
      await rm(path.join(project.dir, 'app'), { recursive: true });
      for (const args of [['run', '--yes'], ['diff', '--generate'], ['apply', '--yes'], ['status'], ['undo']]) {
        const result = await project.smol(args);
        expect(result.stderr, args.join(' ')).not.toContain('smol hit a bug');
        expect(await snapshotTree(home), args.join(' ')).toEqual(before);
      }
    },
  );

  it('cache and generation entries that are links to a file outside: never written through', async () => {
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const entries = await stateEntries(['cache', 'generations']);
    expect(entries.length).toBeGreaterThan(3);
    for (const entry of entries) {
      await rm(entry);
      await symlink(precious(), entry);
    }
    const before = await snapshotTree(home);
    // The same requests and fingerprints again: every entry is looked up, then written.
    await rm(path.join(project.dir, 'smol.lock'));
    await rm(path.join(project.dir, 'app'), { recursive: true });
    const run = await project.smol(['run', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(await snapshotTree(home)).toEqual(before);
  });
});

describe('state files that are FIFOs, folders or huge (issue 13.2)', () => {
  const mkfifo = (file: string): void => {
    execFileSync('mkfifo', [file]);
  };

  it.each([
    ['.smol/journal.json'],
    ['.smol/staging/changes.json'],
    ['.smol/ledger.json'],
    ['.smol/history/state.json'],
    ['smol.lock'],
    ['smol.edits.patch'],
  ])('%s as a FIFO: no command hangs', async (relative) => {
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const file = path.join(project.dir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await rm(file, { force: true });
    mkfifo(file);
    for (const args of [['status'], ['check'], ['apply', '--yes'], ['run', '--yes'], ['undo']]) {
      const result = await smolOrHang(args);
      expect(result, `${args.join(' ')} hung on the FIFO`).not.toBe('hung');
      expect((result as CliResult).stderr).not.toContain('smol hit a bug');
    }
  });

  it('cache and generation entries as FIFOs: the run neither hangs nor fails', async () => {
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    for (const entry of await stateEntries(['cache', 'generations'])) {
      await rm(entry);
      mkfifo(entry);
    }
    await rm(path.join(project.dir, 'smol.lock'));
    await rm(path.join(project.dir, 'app'), { recursive: true });
    const result = await smolOrHang(['run', '--yes']);
    expect(result, 'hung on a FIFO').not.toBe('hung');
    expect((result as CliResult).code, (result as CliResult).stderr).toBe(0);
    expect(await project.read('app/a.txt')).toBe('a\n');
  });

  it.each([['smol.lock'], ['.smol/journal.json'], ['.smol/staging/changes.json']])(
    '%s as a folder: a user error or ignored, never a bug',
    async (relative) => {
      expect((await project.smol(['run', '--yes'])).code).toBe(0);
      const file = path.join(project.dir, relative);
      await rm(file, { force: true });
      await mkdir(file, { recursive: true });
      for (const args of [['status'], ['check'], ['run', '--yes']]) {
        const result = await project.smol(args);
        expect(result.stderr, args.join(' ')).not.toContain('smol hit a bug');
      }
    },
  );

  it('a huge file in place of smol.lock is refused by its size, without reading it', async () => {
    expect((await project.smol(['run', '--yes'])).code).toBe(0);
    const lock = path.join(project.dir, 'smol.lock');
    await rm(lock);
    // Sparse: 2 GB on paper, nothing on disk. Reading it whole would take the memory of the machine.
    execFileSync('truncate', ['-s', '2G', lock]);
    const result = await project.smol(['status']);
    expectUserError(result, /more than smol ever writes/);
    const rebuilt = await project.smol(['run', '--all', '--yes']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
  });
});

/** Every entry file under `.smol/<folder>/xx/`. */
async function stateEntries(folders: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const folder of folders) {
    const root = path.join(project.dir, '.smol', folder);
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])) {
      if (entry.isFile()) files.push(path.join(entry.parentPath, entry.name));
    }
  }
  return files;
}
