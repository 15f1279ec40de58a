import { lstat, mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../../src/internal/hash.js';

/**
 * Helpers for the untrusted-state and hostile-path tests: a "home" folder outside the project whose every
 * file is snapshotted before and after, and a way to plant what a cloned repository could carry in `.smol/`.
 */

/** Every entry under `dir`: files by content, links by target, folders as `dir`. */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, full);
    if (entry.isSymbolicLink()) result[relative] = `-> ${await readlink(full)}`;
    else if (entry.isDirectory()) result[relative] = 'dir';
    else if (entry.isFile()) result[relative] = await readFile(full, 'utf8');
    else result[relative] = 'special';
  }
  return result;
}

/** A home folder with the kind of files an attacker wants: a shell profile, keys, a precious file. */
export async function seedHome(home: string): Promise<void> {
  await mkdir(path.join(home, '.ssh'), { recursive: true });
  await writeFile(path.join(home, '.bashrc'), 'export PATH=$HOME/bin:$PATH\n');
  await writeFile(path.join(home, '.ssh', 'known_hosts'), 'github.com ssh-ed25519 AAAA\n');
  await writeFile(path.join(home, 'precious.txt'), 'precious\n');
}

/** Stores `content` in `.smol/objects/` the way smol does (a cloned `.smol/` can carry any object). */
async function plantObject(projectDir: string, content: string): Promise<string> {
  const hash = sha256(content);
  const folder = path.join(projectDir, '.smol', 'objects', hash.slice(0, 2));
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, hash.slice(2)), content);
  return hash;
}

export interface PlantedChange {
  path: string;
  /** The content the journal says the file had (null: no file). */
  before: string | null;
  /** The content the journal would write (null: delete). */
  after: string | null;
}

/** Writes a pending `.smol/journal.json` naming `outDir` and `files`, with every content in the object store. */
export async function plantJournal(
  projectDir: string,
  outDir: string,
  files: readonly PlantedChange[],
  options: { lockAfter?: string } = {},
): Promise<void> {
  const changes = [];
  for (const file of files) {
    changes.push({
      path: file.path,
      before: file.before === null ? null : await plantObject(projectDir, file.before),
      after: file.after === null ? null : await plantObject(projectDir, file.after),
    });
  }
  const lockAfter = options.lockAfter === undefined ? null : await plantObject(projectDir, options.lockAfter);
  const journal = {
    version: 2,
    id: 'planted',
    state: 'pending',
    createdAt: new Date(0).toISOString(),
    outDir,
    files: changes,
    lockBefore: null,
    lockAfter,
    history: {
      op: 'push',
      index: 1,
      entry: {
        command: 'run',
        createdAt: new Date(0).toISOString(),
        summary: 'planted',
        files: changes,
        lockBefore: null,
        lockAfter,
      },
    },
  };
  await mkdir(path.join(projectDir, '.smol'), { recursive: true });
  await writeFile(path.join(projectDir, '.smol', 'journal.json'), JSON.stringify(journal));
}

/** True when `file` exists (links not followed). */
export async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}
