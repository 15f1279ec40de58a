import picomatch from 'picomatch';
import { checkOutputPath, printablePath, type PathRejection } from './output-path.js';

export * from './inside.js';
export * from './output-path.js';

export interface PathLimits {
  maxFiles: number;
  /** Glob patterns (relative to outDir) that smol never writes or deletes. */
  ignore: readonly string[];
}

/**
 * Checks a whole list of planned paths: each one lexically, then duplicates (including ones that differ
 * only in case, which collide on macOS and Windows), the ignore globs, and the file-count limit.
 */
export function checkPlannedPaths(
  raws: readonly string[],
  limits: PathLimits,
): { accepted: string[]; rejected: PathRejection[] } {
  const accepted: string[] = [];
  const rejected: PathRejection[] = [];
  const seen = new Map<string, string>();
  const ignored = limits.ignore.length > 0 ? picomatch(limits.ignore as string[], { dot: true }) : () => false;
  for (const raw of raws) {
    const check = checkOutputPath(raw);
    if (!check.ok) {
      rejected.push({ path: printablePath(String(raw)), reason: check.reason });
      continue;
    }
    const folded = check.path.toLowerCase();
    const previous = seen.get(folded);
    if (previous !== undefined) {
      const reason = previous === check.path ? 'listed twice' : `differs only in case from ${previous}`;
      rejected.push({ path: check.path, reason });
      continue;
    }
    if (ignored(check.path)) {
      rejected.push({ path: check.path, reason: 'matches `ignore` in the spec' });
      continue;
    }
    if (accepted.length >= limits.maxFiles) {
      rejected.push({ path: check.path, reason: `more than maxFiles (${limits.maxFiles}) files planned` });
      continue;
    }
    seen.set(folded, check.path);
    accepted.push(check.path);
  }
  // A file and a folder of the same name cannot both be written (`src` and `src/a.ts`): the file goes.
  const folders = new Set(accepted.flatMap((file) => ancestorsOf(file).map((folder) => folder.toLowerCase())));
  const kept = accepted.filter((file) => {
    if (!folders.has(file.toLowerCase())) return true;
    rejected.push({ path: file, reason: 'is also the name of a folder in the file list' });
    return false;
  });
  return { accepted: kept, rejected };
}

/** `a/b/c.ts` -> [`a`, `a/b`]. */
function ancestorsOf(relative: string): string[] {
  const segments = relative.split('/');
  return segments.slice(0, -1).map((_, index) => segments.slice(0, index + 1).join('/'));
}
