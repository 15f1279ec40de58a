import { createHash, randomUUID } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { link, open, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { SmolError } from '../errors.js';
import { ensureRealFolder } from '../workspace/state-file.js';
import type { StatePaths } from './paths.js';

/** Who holds `.smol/lock`: shown to a second smol process so the user knows what to wait for. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
  /** Unique per acquisition: a process releases the lock only while the file still holds its token. */
  token?: string | undefined;
}

const holderSchema = z.object({
  pid: z.int(),
  host: z.string(),
  command: z.string(),
  since: z.string(),
  token: z.string().optional(),
});

// Locks this process holds, by file: a run that applies takes the lock once, with a count.
const held = new Map<string, { count: number; me: LockHolder }>();

// How deep takeovers of takeover markers go (each level needs a process that died mid-takeover).
const MAX_TAKEOVER_DEPTH = 3;
const MAX_RECORD_BYTES = 64 * 1024;

function lockFile(paths: StatePaths): string {
  return path.join(paths.stateDir, 'lock');
}

/**
 * Runs `work` holding the spec's state lock, so two smol processes never interleave writes to the same
 * outDir, lock or staging area. A lock left by a process that died is taken over, atomically: of several
 * processes that find it at once, exactly one gets in.
 */
export async function withStateLock<T>(paths: StatePaths, command: string, work: () => Promise<T>): Promise<T> {
  const file = lockFile(paths);
  let entry = held.get(file);
  if (entry === undefined) {
    const me: LockHolder = {
      pid: process.pid,
      host: hostname(),
      command,
      since: new Date().toISOString(),
      token: randomUUID(),
    };
    // `.smol` must be a real folder: a link would put the lock (and all state after it) elsewhere.
    await ensureRealFolder(paths.stateDir, paths.root);
    const holder = await claim(file, me, 0);
    if (holder !== undefined) throw lockedError(holder);
    entry = { count: 0, me };
    held.set(file, entry);
  }
  entry.count += 1;
  try {
    return await work();
  } finally {
    entry.count -= 1;
    if (entry.count === 0) {
      held.delete(file);
      await releaseIfMine(file, entry.me);
    }
  }
}

/** The live holder of the lock other than this process, if any. */
export async function lockHeldElsewhere(paths: StatePaths): Promise<LockHolder | undefined> {
  const file = lockFile(paths);
  if (held.has(file)) return undefined;
  const record = await readRecord(file);
  return record?.holder !== undefined && isAlive(record.holder) ? record.holder : undefined;
}

/**
 * Creates `file` holding `me`, or returns the live process holding it. A file whose holder is dead (or
 * that is unreadable) is removed only by whoever first creates its takeover marker, named after a hash of
 * the exact bytes judged stale, and only if the file still holds those bytes: removing a stale lock is a
 * compare-and-delete, so a slow process can never delete the lock another process has just taken.
 */
async function claim(file: string, me: LockHolder, depth: number): Promise<LockHolder | undefined> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (await createExclusive(file, me)) return undefined;
    const seen = await readRecord(file);
    if (seen === undefined) continue; // released between our create and our read: try again
    if (seen.holder !== undefined && isAlive(seen.holder)) return seen.holder;
    if (depth >= MAX_TAKEOVER_DEPTH) break;
    const marker = `${file}.takeover-${seen.id}`;
    const taker = await claim(marker, me, depth + 1);
    // Another live process is taking this stale lock over right now: it will hold it in a moment.
    if (taker !== undefined) return taker;
    try {
      const now = await readRecord(file);
      if (now !== undefined && now.id === seen.id) await removeStale(file);
    } finally {
      await releaseIfMine(marker, me);
    }
  }
  throw new SmolError(
    'STATE_LOCKED',
    `Could not take ${file}: it keeps changing, or stale takeover markers are in the way.`,
    {
      hint: `If no smol is running, remove ${file} and ${file}.takeover-* and try again.`,
    },
  );
}

/**
 * Creates `file` with `me` in it, atomically and only if it does not exist: the record is written to a
 * private temp file first and hard-linked into place, so nobody ever reads a half-written lock.
 */
async function createExclusive(file: string, me: LockHolder): Promise<boolean> {
  const temp = `${file}.${me.token ?? randomUUID()}.${createHash('sha256').update(file).digest('hex').slice(0, 8)}.tmp`;
  await writeFile(temp, `${JSON.stringify(me)}\n`, { flag: 'wx' });
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // No hard links on this file system (some network and FAT mounts): an exclusive create is the next best.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP')
      return createWithOpen(file, me);
    throw error;
  } finally {
    await unlink(temp).catch(ignoreMissing);
  }
}

async function createWithOpen(file: string, me: LockHolder): Promise<boolean> {
  try {
    const handle = await open(file, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(me)}\n`);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Deletes `file` only while it still holds this acquisition's token (nobody takes over a live holder's lock). */
async function releaseIfMine(file: string, me: LockHolder): Promise<void> {
  const record = await readRecord(file);
  if (record?.holder?.token !== undefined && record.holder.token === me.token) await unlink(file).catch(ignoreMissing);
}

/**
 * Reads a lock record without following a symlink or blocking on a FIFO (`.smol/` may come from a clone).
 * `id` names the exact bytes; `holder` is undefined when they are not a valid record.
 */
async function readRecord(file: string): Promise<{ id: string; holder: LockHolder | undefined } | undefined> {
  let bytes: Buffer;
  try {
    // Read by synchronous calls (workspace/sync-fs.ts says why); the lock is created and removed asynchronously.
    const fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    try {
      const stats = fstatSync(fd);
      if (!stats.isFile()) return { id: `not-a-file-${stats.ino}`, holder: undefined };
      const buffer = Buffer.alloc(MAX_RECORD_BYTES);
      const bytesRead = readSync(fd, buffer, 0, MAX_RECORD_BYTES, 0);
      bytes = buffer.subarray(0, bytesRead);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // A symlink (ELOOP) or anything else unreadable is not a lock: it is taken over like a dead one.
    return { id: `unreadable-${code ?? 'error'}`, holder: undefined };
  }
  const id = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  try {
    const parsed = holderSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    return { id, holder: parsed.success ? parsed.data : undefined };
  } catch {
    return { id, holder: undefined };
  }
}

function isAlive(holder: LockHolder): boolean {
  // A lock from another machine (a shared folder) cannot be checked: treat it as held.
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockedError(holder: LockHolder): SmolError {
  return new SmolError(
    'STATE_LOCKED',
    `Another smol is working on this spec: \`${holder.command}\` (pid ${holder.pid} on ${holder.host}, since ${holder.since}).`,
    { hint: 'Wait for it to finish, or stop it; smol never lets two processes write the same outDir at once.' },
  );
}

async function removeStale(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new SmolError(
      'STATE_LOCK_DAMAGED',
      `${file} is not a lock file smol can remove (${code ?? String(error)}).`,
      {
        hint: `Remove ${file} by hand if no smol is running.`,
      },
    );
  }
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
