import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import { checkOutputPath, printablePath } from './output-path.js';
import { lstatOrUndefined, realpathOrUndefined } from './sync-fs.js';

/**
 * Folders already proven to be real folders inside their output root, during one pass over a run's files
 * (`withPathChecks`): path checks then cost one `realpath` per folder, not one walk per file access.
 */
const provenFolders = new AsyncLocalStorage<Map<string, string>>();

/** Scopes of `withPathChecks` not yet finished, in this process. */
let openScopes = 0;

/**
 * Runs `work` with a memory of proven folders. Only positive facts are kept (a folder exists and its real
 * path is inside the root); every file is still looked at on each access, so a link planted in a file's
 * place is always refused. The memory is an optimisation only: without it every check is made in full.
 *
 * On Node 20 an AsyncLocalStorage that has been used makes every promise of the process slower (its
 * promise hooks stay on: 3-4 times the cost of an `await`), and a run's streams are made of promises. So
 * when the last scope ends, the storage is disabled, and a run keeps its model calls outside any scope
 * (engine/run.ts).
 */
export async function withPathChecks<T>(work: () => Promise<T>): Promise<T> {
  if (provenFolders.getStore() !== undefined) return work();
  openScopes += 1;
  try {
    return await provenFolders.run(new Map(), work);
  } finally {
    openScopes -= 1;
    if (openScopes === 0) provenFolders.disable();
  }
}

/**
 * Resolves `relative` inside `root` and proves that its real location stays inside `root`: the deepest
 * existing folder on the way is resolved through symlinks, and an existing symlink at the target itself is
 * refused (a write through it would land wherever it points). Throws `UnsafePathError` otherwise.
 * The checks are synchronous system calls (see sync-fs.ts).
 */
export async function resolveInside(root: string, relative: string): Promise<string> {
  return resolveInsideNow(root, relative);
}

/** `resolveInside`, for callers that go on synchronously (reads of files smol checks as it goes). */
export function resolveInsideNow(root: string, relative: string): string {
  const check = checkOutputPath(relative);
  if (!check.ok) throw new UnsafePathError(relative, check.reason);
  const resolvedRoot = path.resolve(root);
  const target = path.join(resolvedRoot, ...check.path.split('/'));
  if (!isInsideNormalised(resolvedRoot, target)) throw new UnsafePathError(check.path, 'leaves the output folder');
  const proven = provenFolders.getStore();
  const stats = lstatOrUndefined(target);
  if (stats?.isSymbolicLink() === true)
    throw new UnsafePathError(check.path, 'is a symbolic link; smol does not write through links');
  // Walk up to the deepest existing folder and make sure its real path is inside the root's.
  // Stop at the root: when even the root does not exist yet, nothing below it can be a link.
  let folder = path.dirname(target);
  while (isInsideNormalised(resolvedRoot, folder)) {
    if (proven?.get(folder) === resolvedRoot) break;
    const real = realpathOrUndefined(folder);
    if (real !== undefined) {
      if (!isInsideNormalised(realRootOf(resolvedRoot, proven), real))
        throw new UnsafePathError(check.path, 'resolves outside the output folder (symlink)');
      proven?.set(folder, resolvedRoot);
      break;
    }
    if (folder === resolvedRoot) break;
    folder = path.dirname(folder);
  }
  return target;
}

function realRootOf(resolvedRoot: string, proven: Map<string, string> | undefined): string {
  const key = `\u0000root:${resolvedRoot}`;
  const known = proven?.get(key);
  if (known !== undefined) return known;
  const real = realpathOrUndefined(resolvedRoot) ?? resolvedRoot;
  proven?.set(key, real);
  return real;
}

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * `isInside` for absolute, normalised paths (what path.resolve, path.join and realpath return): the same
 * answer, `..`-named children included, without path.relative's work (a third of a path check's time).
 */
export function isInsideNormalised(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(path.sep) ? root : `${root}${path.sep}`;
  if (candidate.startsWith(prefix)) return !candidate.slice(prefix.length).startsWith('..');
  // Two absolute POSIX paths without that prefix are apart. Otherwise (a relative root, letter case on
  // Windows): the general answer.
  if (path.sep === '/' && root.startsWith('/') && candidate.startsWith('/')) return false;
  return isInside(root, candidate);
}

export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  readonly path: string;
  readonly reason: string;
  constructor(rawPath: string, reason: string) {
    super(`refused path ${printablePath(rawPath)}: ${reason}`);
    this.path = printablePath(rawPath);
    this.reason = reason;
  }
}
