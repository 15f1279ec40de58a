import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SmolError } from '../errors.js';
import { asDiskError } from './disk-errors.js';
import { durableWrites } from './durability.js';
import { lstatOrUndefined } from './sync-fs.js';

/** smol's own state (lock, edits file, journal, staging, history, objects) is never larger than this. */
const MAX_STATE_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Reads one of smol's state files without following a symlink and without blocking on a FIFO or device
 * (a cloned repository may carry any of these in place of `smol.lock` or `.smol/…`). `undefined` when there
 * is no such file. A link, a folder or a special file is a user error that names the file and the fix.
 */
export async function readStateFile(file: string, options: { maxBytes?: number } = {}): Promise<string | undefined> {
  const buffer = await readStateBytes(file, options);
  return buffer?.toString('utf8');
}

export async function readStateBytes(file: string, options: { maxBytes?: number } = {}): Promise<Buffer | undefined> {
  const maxBytes = options.maxBytes ?? MAX_STATE_FILE_BYTES;
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink fails with ELOOP; O_NONBLOCK: a FIFO opens at once instead of waiting for a writer.
    // Synchronous calls: see sync-fs.ts.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw notRegular(file, 'a symbolic link');
    if (code === 'EISDIR') throw notRegular(file, 'a folder');
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(file, 'not a regular file');
    if (stats.size > maxBytes) {
      throw new SmolError(
        'STATE_TOO_LARGE',
        `${file} is ${stats.size} bytes, more than smol ever writes there (${maxBytes}).`,
        {
          hint: 'It was not written by smol: remove it (smol rebuilds its state), or restore it from git.',
        },
      );
    }
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a state file atomically (a temp file in the same folder, fsync, rename) without following links:
 * the folders on the way from `root` must be real folders, and a link in the file's place is replaced by
 * the rename, never written through. write-file-atomic does not fit here: it resolves the target's real
 * path first, which is exactly the write through a planted link this must never do.
 */
export async function writeStateFile(
  file: string,
  content: string | Buffer,
  options: { root?: string; durable?: boolean } = {},
): Promise<void> {
  const folder = path.dirname(file);
  // Without a root only the file itself is guarded: the spec's own folder may be reached through a link.
  await ensureRealFolder(folder, options.root ?? folder);
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    try {
      await handle.writeFile(content);
      // Caches (`durable: false`) can be lost in a crash at no cost but a call; everything else is fsynced.
      if (options.durable !== false && durableWrites()) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw asDiskError(error, 'write', file);
  }
}

/**
 * Removes a state file: never what a link points to (`rm` removes the link itself), never through a linked
 * folder on the way from `root` (`.smol/staging -> elsewhere`), and never a folder in the file's place.
 */
export async function removeStateFile(file: string, options: { root?: string } = {}): Promise<void> {
  if (options.root !== undefined && !(await realFolderOrMissing(path.dirname(file), options.root))) return;
  const stats = lstatOrUndefined(file);
  if (stats === undefined) return;
  if (stats.isDirectory()) throw notRegular(file, 'a folder');
  await rm(file, { force: true }).catch((error: unknown) => {
    throw asDiskError(error, 'delete', file);
  });
}

/**
 * Throws when a folder on the way from `root` to `folder` is a link or not a folder (smol's state is never
 * read or changed through one); false when one is missing, true when all are real folders. Creates nothing.
 */
export async function realFolderOrMissing(folder: string, root: string): Promise<boolean> {
  const relative = path.relative(root, folder);
  let current = root;
  for (const segment of relative === '' ? [] : relative.split(path.sep)) {
    current = path.join(current, segment);
    const stats = lstatOrUndefined(current);
    if (stats === undefined) return false;
    if (stats.isSymbolicLink()) throw notRegular(current, 'a symbolic link');
    if (!stats.isDirectory()) throw notRegular(current, 'not a folder');
  }
  return true;
}

/**
 * Creates `folder` (and its parents up to `root`) as real folders. An existing link or file on the way is a
 * user error: smol's state is never redirected elsewhere (`.smol -> /home/you` in a cloned repository).
 */
export async function ensureRealFolder(folder: string, root: string): Promise<void> {
  const relative = path.relative(root, folder);
  const segments = relative === '' ? [] : relative.split(path.sep);
  let current = root;
  for (const segment of segments) {
    current = path.join(current, segment);
    const stats = lstatOrUndefined(current);
    if (stats === undefined) {
      try {
        await mkdir(current);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw asDiskError(error, 'create', current);
      }
      // Re-check: a link planted between the lstat and the mkdir must not be used either.
      const created = await lstat(current);
      if (!created.isDirectory()) throw notRegular(current, 'not a folder');
      continue;
    }
    if (stats.isSymbolicLink()) throw notRegular(current, 'a symbolic link');
    if (!stats.isDirectory()) throw notRegular(current, 'not a folder');
  }
}

function notRegular(file: string, what: string): SmolError {
  return new SmolError(
    'STATE_NOT_REGULAR',
    `${file} is ${what}; smol never follows links or reads special files for its own state.`,
    {
      hint: `Remove it (\`rm ${JSON.stringify(file)}\`) or restore it from git; smol recreates its state as regular files.`,
    },
  );
}
