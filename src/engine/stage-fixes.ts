import { sha256 } from '../internal/hash.js';
import { ObjectStore } from '../workspace/object-store.js';
import { readOutputFile } from '../workspace/read.js';
import { lockFileHash, type Lock } from './lock.js';
import type { StatePaths } from './paths.js';
import type { StagedChange, StagedRun } from './staging.js';

/**
 * Stages whole-file fixes (from `smol debug`) as a change set the usual review and journaled apply take.
 * A fix becomes its file's generation in the lock (the next merge base): it is not a hand edit. Paths must
 * already have passed the path checks; fixes equal to the file on disk are left out.
 */
export async function stageFixes(options: {
  paths: StatePaths;
  outDir: string;
  lock: Lock;
  fixes: readonly { path: string; content: string }[];
  command: string;
}): Promise<StagedRun> {
  const { paths, lock } = options;
  const objects = new ObjectStore(paths.objects);
  const changes: StagedChange[] = [];
  for (const fix of options.fixes) {
    const current = await readOutputFile(options.outDir, fix.path);
    if (current === fix.content) continue;
    if (current !== undefined) await objects.put(current);
    const after = await objects.put(fix.content);
    const entry = lock.files[fix.path];
    changes.push({
      path: fix.path,
      action: current === undefined ? 'create' : 'update',
      reasons: [{ kind: 'fix' }],
      merged: false,
      before: current === undefined ? null : sha256(current),
      after,
      generated: after,
      // The fix keeps the file's fingerprint: it is not stale, and the fix becomes its base.
      fresh: entry === undefined ? null : { fingerprint: entry.fingerprint, inputs: entry.inputs },
      previous: entry ?? null,
    });
  }
  const changed = new Set(changes.map((change) => change.path));
  const { files, ...lockHead } = lock;
  return {
    version: 2,
    createdAt: new Date().toISOString(),
    command: options.command,
    lockHash: await lockFileHash(paths.lockFile),
    lockHead,
    keep: Object.fromEntries(Object.entries(files).filter(([file]) => !changed.has(file))),
    changes,
  };
}
