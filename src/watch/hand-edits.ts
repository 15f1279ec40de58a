import { fstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { computeStatus } from '../engine/status.js';
import type { Spec } from '../spec/types.js';

/** A file in outDir that differs from what smol last wrote. */
export interface HandEdit {
  path: string;
  /** `edited`: changed by hand (kept, merged into the next regeneration); `missing`: deleted by hand (not recreated). */
  disk: 'edited' | 'missing';
}

/** A file by identity, so a log the daemon itself writes to (`smol watch --json > log`) is recognised. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * Notices hand edits in outDir with no model call. It reports only when the set of edited or deleted
 * files changes, and never an empty set: outDir can hold files that change all the time (a log, a build)
 * without being hand edits of smol's files (issue 13, item 15).
 */
export function createHandEditTracker() {
  let reported = '';
  let lastError = '';
  return {
    /** The hand edits to report now, or undefined when there is nothing new to say. */
    async check(spec: Spec): Promise<{ edits: HandEdit[] } | { error: unknown } | undefined> {
      let edits: HandEdit[];
      try {
        const report = await computeStatus(spec);
        edits = report.files.flatMap((file): HandEdit[] =>
          file.disk === 'edited' || file.disk === 'conflict'
            ? [{ path: file.path, disk: 'edited' }]
            : file.disk === 'missing'
              ? [{ path: file.path, disk: 'missing' }]
              : [],
        );
        lastError = '';
      } catch (error) {
        // A damaged lock is said once, not on every write in outDir.
        const message = error instanceof Error ? error.message : String(error);
        if (message === lastError) return undefined;
        lastError = message;
        return { error };
      }
      const key = JSON.stringify(edits);
      if (edits.length === 0 || key === reported) {
        if (edits.length === 0) reported = '';
        return undefined;
      }
      reported = key;
      return { edits };
    },
  };
}

/** Identities of the regular files behind these descriptors (stdout or stderr redirected to a file); pipes and terminals are skipped. */
export function filesBehind(descriptors: readonly number[]): FileIdentity[] {
  return descriptors.flatMap((fd) => {
    try {
      const stats = fstatSync(fd);
      return stats.isFile() ? [{ dev: stats.dev, ino: stats.ino }] : [];
    } catch {
      return [];
    }
  });
}

/** True when `file` is one of `owned` (compared by device and inode, so any path to it matches). */
export async function isOwnedFile(file: string, owned: readonly FileIdentity[]): Promise<boolean> {
  if (owned.length === 0) return false;
  const stats = await lstat(file).catch(() => undefined);
  return stats !== undefined && owned.some((identity) => identity.dev === stats.dev && identity.ino === stats.ino);
}
