import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statePaths } from '../../src/engine/paths.js';
import { lockHeldElsewhere, withStateLock } from '../../src/engine/process-lock.js';
import { tempDir } from '../helpers/cli.js';

const WORKER = fileURLToPath(new URL('./fixtures/lock-worker.mjs', import.meta.url));
const POOL = 6;
const DEAD_PID = 999_999_999;

interface Report {
  trial: number;
  outcome: 'entered' | 'locked' | 'error';
  overlap: boolean;
  detail: string;
}

/** A pool of real processes that each race for the lock when told to: the race is between processes. */
class WorkerPool {
  private readonly waiting = new Map<
    number,
    { reports: Report[]; expected: number; resolve: (reports: Report[]) => void }
  >();
  private constructor(readonly workers: ChildProcess[]) {
    for (const worker of workers) {
      worker.on('message', (message: Report | { ready: true }) => {
        if ('ready' in message) return;
        const entry = this.waiting.get(message.trial);
        if (entry === undefined) return;
        entry.reports.push(message);
        if (entry.reports.length === entry.expected) entry.resolve(entry.reports);
      });
    }
  }

  static async start(size: number): Promise<WorkerPool> {
    const workers = Array.from({ length: size }, () =>
      fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    await Promise.all(workers.map((worker) => new Promise<void>((resolve) => worker.once('message', () => resolve()))));
    return new WorkerPool(workers);
  }

  /** Tells the first `count` workers to race for the lock of `dir` at once; resolves with every report. */
  race(trial: number, dir: string, count: number, turns: number): Promise<Report[]> {
    return new Promise((resolve) => {
      this.waiting.set(trial, { reports: [], expected: count, resolve });
      for (const worker of this.workers.slice(0, count)) worker.send({ trial, dir, turns });
    });
  }

  stop(): void {
    for (const worker of this.workers) worker.kill();
  }
}

type Start = 'none' | 'dead-pid' | 'garbage' | 'empty' | 'symlink-out' | 'dead-takeover';

/** The state a trial starts from: no lock, or one a dead process (or a damaged disk, or a clone) left behind. */
async function prepare(dir: string, start: Start): Promise<void> {
  const lock = path.join(dir, '.smol', 'lock');
  await mkdir(path.dirname(lock), { recursive: true });
  const dead = `${JSON.stringify({ pid: DEAD_PID, host: hostname(), command: 'smol run', since: 'then', token: 'dead' })}\n`;
  if (start === 'dead-pid') await writeFile(lock, dead);
  if (start === 'garbage') await writeFile(lock, '{"pid": "not a number"');
  if (start === 'empty') await writeFile(lock, '');
  if (start === 'symlink-out') {
    await writeFile(path.join(dir, 'outside.txt'), 'precious\n');
    await symlink(path.join(dir, 'outside.txt'), lock);
  }
  if (start === 'dead-takeover') {
    // A process died in the middle of taking over a stale lock: its takeover marker is stale too.
    const { createHash } = await import('node:crypto');
    await writeFile(lock, dead);
    const marker = `${lock}.takeover-${createHash('sha256').update(dead).digest('hex').slice(0, 16)}`;
    await writeFile(
      marker,
      `${JSON.stringify({ pid: DEAD_PID, host: hostname(), command: 'smol diff', since: 'then', token: 'dead2' })}\n`,
    );
  }
}

let pool: WorkerPool;
let root: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  root = await tempDir('smol-lock-');
  pool = await WorkerPool.start(POOL);
});
afterAll(async () => {
  pool.stop();
  await root.cleanup();
});

describe('the state lock across processes', () => {
  it('never lets two processes inside at once, whatever lock state they start from (real processes, many trials)', async () => {
    let trial = 0;
    let raced = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: POOL }),
        fc.constantFrom<Start>('none', 'dead-pid', 'dead-pid', 'garbage', 'empty', 'symlink-out', 'dead-takeover'),
        fc.integer({ min: 1, max: 20 }),
        async (count, start, turns) => {
          trial += 1;
          const dir = path.join(root.dir, `trial-${trial}`);
          await prepare(dir, start);
          const reports = await pool.race(trial, dir, count, turns);
          for (const report of reports) {
            expect(report.overlap, `trial ${trial} (${start}, ${count} processes): two inside at once`).toBe(false);
            expect(report.outcome, report.detail).not.toBe('error');
          }
          if (reports.some((report) => report.outcome === 'locked')) raced += 1;
          // Someone always gets in, and everyone who got in released only their own lock: nothing is left held.
          expect(reports.some((report) => report.outcome === 'entered')).toBe(true);
          const left = (await readdir(path.join(dir, '.smol'))).filter((name) => name.startsWith('lock'));
          expect(left).toEqual([]);
          if (start === 'symlink-out') expect(await readFile(path.join(dir, 'outside.txt'), 'utf8')).toBe('precious\n');
        },
      ),
      { numRuns: 300 },
    );
    // The property really raced: in most trials a process was refused while another was inside (nearly
    // all on a quiet machine; a third is far below what even a loaded one gives).
    expect(raced).toBeGreaterThan(100);
  }, 240_000);
});

describe('the state lock in one process', () => {
  it('releases only its own lock: a lock file someone else now owns is left alone', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const paths = statePaths(dir);
      const lock = path.join(paths.stateDir, 'lock');
      const other = `${JSON.stringify({ pid: process.ppid, host: hostname(), command: 'smol run', since: 'now', token: 'someone-else' })}\n`;
      await withStateLock(paths, 'smol test', async () => {
        // The file was replaced under us (a takeover by a process that wrongly judged us dead).
        await rm(lock);
        await writeFile(lock, other);
      });
      expect(await readFile(lock, 'utf8')).toBe(other);
      expect((await lockHeldElsewhere(paths))?.pid).toBe(process.ppid);
    } finally {
      await cleanup();
    }
  });

  it('refuses while a live process holds the lock, naming it, and nests within one process', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const paths = statePaths(dir);
      await mkdir(paths.stateDir, { recursive: true });
      await withStateLock(paths, 'smol run', async () => {
        await withStateLock(paths, 'smol apply', async () => {});
        expect(await lockHeldElsewhere(paths)).toBeUndefined();
      });
      await writeFile(
        path.join(paths.stateDir, 'lock'),
        `${JSON.stringify({ pid: process.ppid, host: hostname(), command: 'smol watch', since: 'now', token: 't' })}\n`,
      );
      await expect(withStateLock(paths, 'smol run', async () => {})).rejects.toThrow(
        /Another smol is working on this spec: `smol watch` \(pid \d+/,
      );
      // A lock from another machine cannot be checked: it is treated as held.
      await writeFile(
        path.join(paths.stateDir, 'lock'),
        `${JSON.stringify({ pid: DEAD_PID, host: `not-${hostname()}`, command: 'smol run', since: 'now' })}\n`,
      );
      await expect(withStateLock(paths, 'smol run', async () => {})).rejects.toThrow(/Another smol/);
    } finally {
      await cleanup();
    }
  });
});
