import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ObjectStore } from '../workspace/object-store.js';
import { readStateFile } from '../workspace/state-file.js';
import { listHistory } from './history.js';
import { readJournal, recoverJournal } from './journal.js';
import { parseAnyLockText, type Lock } from './lock.js';
import type { StatePaths } from './paths.js';
import { withStateLock } from './process-lock.js';
import { loadStaged } from './staging.js';

export interface GcResult {
  /** Objects kept because the lock, the undo history, the staging area, the journal or a kept memo needs them. */
  keptObjects: number;
  removedObjects: number;
  /** Generation memos removed (their fingerprint is in no lock smol can still return to). */
  removedMemos: number;
  /** Response-cache entries removed (unused for longer than `cacheDays`). */
  removedCacheEntries: number;
  bytesBefore: number;
  bytesAfter: number;
}

const HASH = /^[0-9a-f]{64}$/;

/**
 * `smol gc` (issue 18): `.smol/` keeps every version smol generated or wrote, every lock of the history and
 * every answer. This keeps what undo, redo, merges and the cache still need, and removes the rest:
 * - objects named by the lock (generations and written contents), by any lock of the undo history, by the
 *   history's files, by the staging area and the journal, and by the memos that are kept;
 * - generation memos whose fingerprint is in one of those locks (editing the spec back stays free);
 * - response-cache entries used within `cacheDays` days (0 empties the cache).
 */
export async function collectGarbage(
  paths: StatePaths,
  outDir: string,
  options: { cacheDays: number; now?: number },
): Promise<GcResult> {
  return withStateLock(paths, 'smol gc', async () => {
    await recoverJournal(paths, outDir);
    const bytesBefore = await folderBytes(paths.stateDir);
    const objects = new ObjectStore(paths.objects);
    const roots = new Set<string>();
    const fingerprints = new Set<string>();
    const addLock = (lock: Lock | undefined): void => {
      for (const entry of Object.values(lock?.files ?? {})) {
        if (entry.generated !== null) roots.add(entry.generated);
        if (entry.written !== null) roots.add(entry.written);
        fingerprints.add(entry.fingerprint);
      }
    };
    const lockText = await readStateFile(paths.lockFile).catch(() => undefined);
    addLock(lockText === undefined ? undefined : parseAnyLockText(lockText));
    for (const { entry } of await listHistory(paths)) {
      for (const file of entry.files) for (const hash of [file.before, file.after]) if (hash !== null) roots.add(hash);
      for (const hash of [entry.lockBefore, entry.lockAfter]) {
        if (hash === null) continue;
        roots.add(hash);
        const text = await objects.get(hash);
        if (text !== undefined) addLock(parseAnyLockText(text));
      }
    }
    const staged = await loadStaged(paths);
    for (const change of staged?.changes ?? []) {
      for (const hash of [change.before, change.after, change.generated, change.markers ?? null])
        if (hash !== null) roots.add(hash);
      for (const entry of [change.previous])
        if (entry !== null) for (const hash of [entry.generated, entry.written]) if (hash !== null) roots.add(hash);
    }
    for (const entry of Object.values(staged?.keep ?? {}))
      for (const hash of [entry.generated, entry.written]) if (hash !== null) roots.add(hash);
    const journal = await readJournal(paths);
    for (const file of journal?.files ?? [])
      for (const hash of [file.before, file.after]) if (hash !== null) roots.add(hash);
    for (const hash of [journal?.lockBefore ?? null, journal?.lockAfter ?? null]) if (hash !== null) roots.add(hash);

    const removedMemos = await sweepMemos(paths, fingerprints, roots);
    const { kept, removed } = await sweepObjects(paths, roots);
    const removedCacheEntries = await sweepCache(paths, options.cacheDays, options.now ?? Date.now());
    return {
      keptObjects: kept,
      removedObjects: removed,
      removedMemos,
      removedCacheEntries,
      bytesBefore,
      bytesAfter: await folderBytes(paths.stateDir),
    };
  });
}

/** Keeps the memos of kept fingerprints (and their objects); removes the others. */
async function sweepMemos(paths: StatePaths, fingerprints: ReadonlySet<string>, roots: Set<string>): Promise<number> {
  let removed = 0;
  for (const file of await filesUnder(paths.generations)) {
    const fingerprint = path.basename(path.dirname(file)) + path.basename(file);
    const hash = (await readStateFile(file).catch(() => undefined))?.trim();
    if (HASH.test(fingerprint) && fingerprints.has(fingerprint) && hash !== undefined && HASH.test(hash)) {
      roots.add(hash);
      continue;
    }
    await rm(file, { force: true });
    removed += 1;
  }
  return removed;
}

async function sweepObjects(paths: StatePaths, roots: ReadonlySet<string>): Promise<{ kept: number; removed: number }> {
  let kept = 0;
  let removed = 0;
  for (const file of await filesUnder(paths.objects)) {
    const hash = path.basename(path.dirname(file)) + path.basename(file);
    if (HASH.test(hash) && roots.has(hash)) {
      kept += 1;
      continue;
    }
    await rm(file, { force: true });
    removed += 1;
  }
  return { kept, removed };
}

async function sweepCache(paths: StatePaths, days: number, now: number): Promise<number> {
  let removed = 0;
  const cutoff = now - days * 24 * 60 * 60 * 1000;
  for (const file of await filesUnder(paths.cache)) {
    const stats = await lstat(file).catch(() => undefined);
    // A cache hit does not touch the entry, so its age is when the answer arrived: old answers go first.
    if (stats !== undefined && stats.mtimeMs >= cutoff && days > 0) continue;
    await rm(file, { force: true });
    removed += 1;
  }
  return removed;
}

/** Regular files two levels down (`xx/rest`), never following links: the layout of objects, memos and cache. */
async function filesUnder(root: string): Promise<string[]> {
  const rootStats = await lstat(root).catch(() => undefined);
  if (rootStats === undefined || !rootStats.isDirectory()) return [];
  const files: string[] = [];
  for (const shard of await readdir(root, { withFileTypes: true })) {
    if (!shard.isDirectory()) continue;
    for (const entry of await readdir(path.join(root, shard.name), { withFileTypes: true })) {
      if (entry.isFile()) files.push(path.join(root, shard.name, entry.name));
    }
  }
  return files;
}

async function folderBytes(root: string): Promise<number> {
  const stats = await lstat(root).catch(() => undefined);
  if (stats === undefined || !stats.isDirectory()) return 0;
  let total = 0;
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    total += (await lstat(path.join(entry.parentPath, entry.name)).catch(() => undefined))?.size ?? 0;
  }
  return total;
}
