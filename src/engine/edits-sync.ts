import path from 'node:path';
import { isInside } from '../workspace/inside.js';
import { mapLimit } from '../internal/map-limit.js';
import { readOutputText } from '../workspace/read.js';
import { Bases } from './bases.js';
import { editRecord, renderRecord, writeEditsFile } from './edits-file.js';
import type { Lock } from './lock.js';
import type { StatePaths } from './paths.js';

/** A file's `sha256` and its content, as read (the content may be left out when the hash is the generation's). */
export interface DiskText {
  text: string | undefined;
  hash: string;
}

export interface EditsSync {
  /** True when `smol.edits.patch` was rewritten. */
  changed: boolean;
  /** Edited files whose generation neither `.smol/` nor the edits file holds (a clone could not merge them). */
  missing: string[];
}

/**
 * Brings `smol.edits.patch` in line with the disk: one entry per file that differs from its generation,
 * none for the others. `contents` may give files of the lock's outDir already read (path -> content and
 * its hash, undefined: no file).
 * An entry smol cannot rebuild (its base is only in the committed file, which no longer fits the disk) is
 * kept as it was: it is the only record of that generation.
 */
export async function syncEditsFile(
  paths: StatePaths,
  lock: Lock,
  contents?: ReadonlyMap<string, DiskText | undefined>,
): Promise<EditsSync> {
  // The lock's entries describe the files in the lock's output folder (it may differ from the spec's until
  // the next run carries them over). A folder outside the spec's is never read: the lock is untrusted.
  const outDir = path.resolve(paths.root, lock.outDir);
  if (!isInside(paths.root, outDir)) return { changed: false, missing: [] };
  const bases = await Bases.open(paths);
  const entries = new Map<string, string>();
  const missing: string[] = [];
  const files = Object.entries(lock.files).filter(([, entry]) => entry.generated !== null);
  await mapLimit(files, 32, async ([file, entry]) => {
    const read =
      contents?.has(file) === true ? contents.get(file) : await readOutputText(outDir, file).catch(() => undefined);
    if (read === undefined || read.hash === entry.generated) return;
    const current = read.text ?? (await readOutputText(outDir, file).catch(() => undefined))?.text;
    if (current === undefined) return;
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
