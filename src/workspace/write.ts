import { lstat, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { asDiskError } from './disk-errors.js';
import { durableWrites } from './durability.js';
import { resolveInside } from './inside.js';
import { lstatOrUndefined } from './sync-fs.js';

// Reads live in read.ts (commands that only read need not load the atomic writer); re-exported here.
export { readOutputFile, readOutputText } from './read.js';

/**
 * Writes `content` to `relative` inside `root` atomically (temp file in the same folder, fsync, rename),
 * after proving the real target stays inside `root`. Parent folders are created inside `root` only.
 */
export async function writeOutputFile(root: string, relative: string, content: string | Buffer): Promise<string> {
  const target = await resolveInside(root, relative);
  try {
    // A folder that is there needs no mkdir (a look is a synchronous lstat; creating is not: sync-fs.ts).
    const folder = path.dirname(target);
    if (lstatOrUndefined(folder)?.isDirectory() !== true) await mkdir(folder, { recursive: true });
    // Re-check after mkdir: a folder created concurrently could be a link planted in between.
    await resolveInside(root, relative);
    await writeFileAtomic(target, content, { fsync: durableWrites() });
  } catch (error) {
    throw asDiskError(error, 'write', target);
  }
  return target;
}

/** Deletes an output file inside `root`; a missing file is fine. */
export async function removeOutputFile(root: string, relative: string): Promise<void> {
  const target = await resolveInside(root, relative);
  await rm(target, { force: true }).catch((error: unknown) => {
    throw asDiskError(error, 'delete', target);
  });
}

/**
 * Removes what a write of `content` to `relative` left behind when the process was killed mid-write: the
 * atomic writer's temp file beside it (`name.<digits>`, write-file-atomic's naming), recognised by its name
 * and by holding a prefix of `content`, so a file of the user's is never taken for one. For crash recovery.
 */
export async function removeWriteLeftovers(root: string, relative: string, content: string): Promise<void> {
  const target = await resolveInside(root, relative);
  const folder = path.dirname(target);
  const name = path.basename(target);
  const names = await readdir(folder).catch(() => [] as string[]);
  const bytes = Buffer.from(content);
  for (const candidate of names) {
    if (!candidate.startsWith(`${name}.`) || !/^\d{1,10}$/.test(candidate.slice(name.length + 1))) continue;
    const file = path.join(folder, candidate);
    const stats = await lstat(file).catch(() => undefined);
    if (stats === undefined || !stats.isFile() || stats.size > bytes.length) continue;
    const held = await readFile(file).catch(() => undefined);
    if (held !== undefined && bytes.subarray(0, held.length).equals(held))
      await rm(file, { force: true }).catch(() => {});
  }
}
