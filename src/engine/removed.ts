import picomatch from 'picomatch';
import { mapLimit } from '../internal/map-limit.js';
import type { PlannedFile } from '../plan/stages.js';
import { readOutputText } from '../workspace/read.js';
import { changeForRemoved, type FileChange, type KeptReason } from './changes.js';
import type { Ledger } from './ledger.js';
import { wroteHere } from './ledger.js';
import type { Lock } from './lock.js';

/**
 * Files of the lock that left the plan (design.md 4.4): deleted only when smol wrote their current content
 * in this working copy (the ledger's inode proves it) and they are not ignored; otherwise kept and said why.
 */
export async function removedFromPlan(options: {
  lock: Lock | undefined;
  files: readonly PlannedFile[];
  outDir: string;
  ignore: readonly string[];
  ledger: Ledger;
}): Promise<FileChange[]> {
  const { lock, outDir, ledger } = options;
  if (lock === undefined) return [];
  const planned = new Set(options.files.map((file) => file.path));
  const ignored = options.ignore.length > 0 ? picomatch(options.ignore as string[], { dot: true }) : () => false;
  const gone = Object.entries(lock.files).filter(([file]) => !planned.has(file));
  return mapLimit(gone, 32, async ([file, entry]) => {
    const read = await readOutputText(outDir, file).catch(() => undefined);
    if (read === undefined) return changeForRemoved(file, undefined, undefined);
    const { text: current, hash } = read;
    let keep: KeptReason | undefined;
    if (ignored(file)) keep = 'ignored';
    else if (hash !== entry.written && hash !== entry.generated) keep = 'edited';
    else if (!wroteHere(ledger, outDir, file, hash)) keep = 'not-written-here';
    return changeForRemoved(file, current, keep);
  });
}
