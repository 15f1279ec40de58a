import path from 'node:path';
import { sha256 } from '../internal/hash.js';
import { isInside } from '../workspace/safe-path.js';
import { mapLimit } from '../internal/map-limit.js';
import { readOutputFile } from '../workspace/write.js';
import { Bases } from './bases.js';
import { editRecord, renderRecord, writeEditsFile } from './edits-file.js';
import type { Lock } from './lock.js';
import type { StatePaths } from './paths.js';

export interface EditsSync {
  /** True when `smol.edits.patch` was rewritten. */
  changed: boolean;
  /** Edited files whose generation neither `.smol/` nor the edits file holds (a clone could not merge them). */
  missing: string[];
}

/**
 * Brings `smol.edits.patch` in line with the disk: one entry per file that differs from its generation,
 * none for the others. `contents` may give files of the lock's outDir already read (path -> content,
 * undefined: no file).
 * An entry smol cannot rebuild (its base is only in the committed file, which no longer fits the disk) is
 * kept as it was: it is the only record of that generation.
 */
export async function syncEditsFile(paths: StatePaths, lock: Lock, contents?: ReadonlyMap<string, string | undefined>): Promise<EditsSync> {
  // The lock's entries describe the files in the lock's output folder (it may differ from the spec's until
  // the next run carries them over). A folder outside the spec's is never read: the lock is untrusted.
  const outDir = path.resolve(paths.root, lock.outDir);
  if (!isInside(paths.root, outDir)) return { changed: false, missing: [] };
  const bases = await Bases.open(paths);
  const entries = new Map<string, string>();
  const missing: string[] = [];
  const files = Object.entries(lock.files).filter(([, entry]) => entry.generated !== null);
  await mapLimit(files, 32, async ([file, entry]) => {
    const current = contents?.has(file) === true ? contents.get(file) : await readOutputFile(outDir, file).catch(() => undefined);
    if (current === undefined || sha256(current) === entry.generated) return;
    const base = await bases.get(file, entry.generated!, current);
    if (base !== undefined) {
      entries.set(file, editRecord(file, base, current));
      return;
    }
    const record = bases.edits.records.get(file);
    if (record !== undefined && record.generated === entry.generated) entries.set(file, renderRecord(record));
    missing.push(file);
  });
  const changed = await writeEditsFile(paths.editsFile, entries);
  return { changed, missing: missing.sort() };
}
