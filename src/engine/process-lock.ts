import { hostname } from 'node:os';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { SmolError } from '../errors.js';
import type { StatePaths } from './paths.js';

/** Who holds `.smol/lock`: shown to a second smol process so the user knows what to wait for. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

// Locks this process holds, by file, with a count: a run that applies takes the lock once.
const held = new Map<string, number>();

function lockFile(paths: StatePaths): string {
  return path.join(paths.stateDir, 'lock');
}

/**
 * Runs `work` holding the spec's state lock, so two smol processes never interleave writes to the same
 * outDir, lock or staging area. A lock left by a process that died is taken over.
 */
export async function withStateLock<T>(paths: StatePaths, command: string, work: () => Promise<T>): Promise<T> {
  const file = lockFile(paths);
  const count = held.get(file) ?? 0;
  if (count === 0) await acquire(file, command);
  held.set(file, count + 1);
  try {
    return await work();
  } finally {
    const left = (held.get(file) ?? 1) - 1;
    if (left === 0) {
      held.delete(file);
      await rm(file, { force: true });
    } else {
      held.set(file, left);
    }
  }
}

/** The live holder of the lock other than this process, if any. */
export async function lockHeldElsewhere(paths: StatePaths): Promise<LockHolder | undefined> {
  const file = lockFile(paths);
  if (held.has(file)) return undefined;
  const holder = await readHolder(file);
  return holder !== undefined && isAlive(holder) ? holder : undefined;
}

async function acquire(file: string, command: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(`${JSON.stringify(me)}\n`);
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(file);
    if (holder !== undefined && isAlive(holder)) {
      throw new SmolError(
        'STATE_LOCKED',
        `Another smol is working on this spec: \`${holder.command}\` (pid ${holder.pid} on ${holder.host}, since ${holder.since}).`,
        { hint: 'Wait for it to finish, or stop it; smol never lets two processes write the same outDir at once.' },
      );
    }
    // The holder died (or the file is unreadable garbage): take the lock over.
    await rm(file, { force: true });
  }
  throw new SmolError('STATE_LOCKED', `Could not take ${file}.`, { hint: 'Remove it if no smol is running.' });
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
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
