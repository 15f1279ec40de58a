import { statSync } from 'node:fs';
import path from 'node:path';
import type { PlannedFile } from '../plan/stages.js';
import type { Spec } from '../spec/types.js';
import {
  checkPlannedPaths,
  isInsideNormalised,
  resolveInsideNow,
  UnsafePathError,
  type PathRejection,
} from '../workspace/safe-path.js';
import { canonicalPath } from '../workspace/output-path.js';
import { lstatOrUndefined, realpathOrUndefined } from '../workspace/sync-fs.js';
import type { StatePaths } from './paths.js';

/**
 * Paths from the model are hostile input (design.md 6): keep the safe ones, report the rest. Beyond the
 * lexical checks: the real location (symlinks resolved) must stay in outDir, must not be the spec, an
 * include, the lock, the edits file or `.smol/` (compared by real path: outDir may reach the spec's folder
 * through a link), and nothing on disk may be in the way (a folder where the file goes, a file where a
 * folder must be).
 */
export async function acceptedFiles(
  planned: readonly PlannedFile[],
  spec: Spec,
  paths: StatePaths,
): Promise<{ files: PlannedFile[]; rejected: PathRejection[] }> {
  const { accepted, rejected } = checkPlannedPaths(
    planned.map((file) => file.path),
    { maxFiles: spec.settings.maxFiles, ignore: spec.settings.ignore },
  );
  const guard = protectedLocations(spec, paths);
  // Synchronous checks, a few system calls per path (workspace/sync-fs.ts says why).
  const verdicts = accepted.map((candidate) => ({ candidate, problem: problemWith(spec.outDir, candidate, guard) }));
  const safe = new Set<string>();
  for (const { candidate, problem } of verdicts) {
    if (problem === undefined) safe.add(candidate);
    else rejected.push({ path: candidate, reason: problem });
  }
  const normalised = planned.map((file) => ({ ...file, path: canonicalPath(file.path) }));
  const files = normalised
    .filter((file) => safe.has(file.path))
    .filter((file, index, all) => all.findIndex((other) => other.path === file.path) === index)
    .map((file) => ({
      ...file,
      dependsOn: [...new Set(file.dependsOn.map(canonicalPath))].filter((dependency) => safe.has(dependency)).sort(),
    }));
  return { files, rejected };
}

interface ProtectedLocations {
  files: Set<string>;
  folders: string[];
}

/** The real paths generated output must never land on. */
function protectedLocations(spec: Spec, paths: StatePaths): ProtectedLocations {
  const files = [
    spec.file,
    paths.lockFile,
    paths.editsFile,
    ...spec.includes.map((include) => include.absolutePath),
  ].map(realOf);
  return {
    files: new Set([...files, spec.file, paths.lockFile, paths.editsFile]),
    folders: [paths.stateDir, realOf(paths.stateDir)],
  };
}

function problemWith(outDir: string, candidate: string, guard: ProtectedLocations): string | undefined {
  let target: string;
  try {
    // The real location counts: a symlink inside outDir must not carry a write outside it.
    target = resolveInsideNow(outDir, candidate);
  } catch (error) {
    return error instanceof UnsafePathError ? error.reason : String(error);
  }
  const realTarget = realOf(target);
  if (
    guard.files.has(target) ||
    guard.files.has(realTarget) ||
    guard.folders.some((folder) => isInsideNormalised(folder, target) || isInsideNormalised(folder, realTarget))
  ) {
    return 'would overwrite the spec, an include, smol.lock, smol.edits.patch or .smol/';
  }
  return obstacle(outDir, candidate);
}

/** What on disk would make writing `candidate` fail: a folder in its place, or a file where a folder must be. */
function obstacle(outDir: string, candidate: string): string | undefined {
  const segments = candidate.split('/');
  for (let index = 1; index <= segments.length; index += 1) {
    const here = path.join(outDir, ...segments.slice(0, index));
    const last = index === segments.length;
    // Folders on the way may be links that stay inside outDir (resolveInside proved it): follow those.
    const stats = last ? lstatOrUndefined(here) : statOrUndefined(here);
    if (stats === undefined) return undefined;
    if (last && stats.isDirectory()) return 'a folder of that name is in the way';
    if (!last && !stats.isDirectory())
      return `the file ${segments.slice(0, index).join('/')} is in the way of a folder`;
  }
  return undefined;
}

/** The real path of `file`: its deepest existing ancestor resolved through links, plus the rest. */
function realOf(file: string): string {
  const absolute = path.resolve(file);
  let existing = absolute;
  const rest: string[] = [];
  for (;;) {
    const resolved = realpathOrUndefined(existing);
    if (resolved !== undefined) return path.join(resolved, ...rest.reverse());
    const parent = path.dirname(existing);
    if (parent === existing) return absolute;
    rest.push(path.basename(existing));
    existing = parent;
  }
}

function statOrUndefined(file: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
