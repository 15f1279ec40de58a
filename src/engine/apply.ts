import { ObjectStore } from '../workspace/object-store.js';
import { removeOutputFile, writeOutputFile } from '../workspace/write.js';
import type { FileChange } from './changes.js';
import type { EventSink } from './events.js';
import { writeLock, type Lock } from './lock.js';
import type { StatePaths } from './paths.js';

/**
 * Writes the accepted changes (each file atomically), records every written version in the object store,
 * then writes the lock. The lock comes last so that it never claims a file smol did not write.
 */
export async function applyChanges(options: {
  outDir: string;
  paths: StatePaths;
  changes: readonly FileChange[];
  lock: Lock;
  onEvent: EventSink;
}): Promise<string[]> {
  const objects = new ObjectStore(options.paths.objects);
  const written: string[] = [];
  for (const change of options.changes) {
    if (change.action === 'delete') {
      await removeOutputFile(options.outDir, change.path);
    } else if ((change.action === 'create' || change.action === 'update') && change.after !== undefined) {
      await objects.put(change.after);
      await writeOutputFile(options.outDir, change.path, change.after);
    } else {
      continue;
    }
    written.push(change.path);
    options.onEvent({ type: 'file-written', path: change.path, action: change.action });
  }
  await writeLock(options.paths.lockFile, options.lock);
  return written;
}
