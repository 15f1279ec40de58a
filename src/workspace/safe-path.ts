import { AsyncLocalStorage } from 'node:async_hooks';
import path from 'node:path';
import picomatch from 'picomatch';
import { lstatOrUndefined, realpathOrUndefined } from './sync-fs.js';

/** Output paths smol refuses to touch whatever the model says (design.md 6). */
const RESERVED_TOP_FOLDERS = new Set(['.git', '.smol']);
// Control characters (C0, DEL, C1) and NUL: never part of a file name smol writes.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE_LETTER = /^[a-zA-Z]:/;
// Invisible and bidirectional-override characters make a path read differently from what it is.
const INVISIBLE_CHARS = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
// Windows device names are refused everywhere so a spec stays portable.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** The longest file or folder name smol writes, in bytes: 255 minus room for an atomic write's temp suffix. */
export const MAX_NAME_BYTES = 240;

export interface PathRejection {
  /** The path exactly as the model produced it (control characters escaped for printing). */
  path: string;
  reason: string;
}

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/** Renders a hostile path so it can be printed safely on one line. */
export function printablePath(raw: string): string {
  return JSON.stringify(raw).slice(1, -1);
}

/**
 * Lexical checks on one model-supplied path. Returns the normalised relative path (forward slashes,
 * no `./` segments) or why it is refused. No file-system access.
 */
export function checkOutputPath(raw: string): PathCheck {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, reason: 'empty path' };
  if (raw.length > 1024) return { ok: false, reason: 'path longer than 1024 characters' };
  if (CONTROL_CHARS.test(raw)) return { ok: false, reason: 'contains NUL or control characters' };
  if (INVISIBLE_CHARS.test(raw)) return { ok: false, reason: 'contains invisible or bidirectional-override characters' };
  if (raw !== raw.trim()) return { ok: false, reason: 'leading or trailing whitespace' };
  if (raw.startsWith('/') || raw.startsWith('\\')) return { ok: false, reason: 'absolute path' };
  if (DRIVE_LETTER.test(raw)) return { ok: false, reason: 'drive letter' };
  if (raw.startsWith('~')) return { ok: false, reason: 'home-relative path' };
  const segments = raw.split(/[\\/]+/);
  if (segments.some((segment) => segment === '..')) return { ok: false, reason: '`..` segment' };
  const kept = segments.filter((segment) => segment !== '.' && segment !== '');
  if (kept.length === 0) return { ok: false, reason: 'names no file' };
  if (raw.endsWith('/') || raw.endsWith('\\')) return { ok: false, reason: 'names a folder, not a file' };
  const top = kept[0]!.toLowerCase();
  if (RESERVED_TOP_FOLDERS.has(top)) return { ok: false, reason: `inside ${kept[0]}/, which smol never writes` };
  if (kept.some((segment) => segment.toLowerCase() === '.git')) return { ok: false, reason: 'inside a .git folder' };
  if (kept.some((segment) => WINDOWS_DEVICE.test(segment))) return { ok: false, reason: 'reserved device name' };
  if (kept.some((segment) => /[<>:"|?*]/.test(segment))) return { ok: false, reason: 'character not allowed in file names (<>:"|?*)' };
  // File systems limit a name to 255 bytes, and an atomic write adds a temp suffix to it.
  if (kept.some((segment) => Buffer.byteLength(segment) > MAX_NAME_BYTES)) return { ok: false, reason: `a file or folder name longer than ${MAX_NAME_BYTES} bytes` };
  return { ok: true, path: kept.join('/') };
}

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
export function ancestorsOf(relative: string): string[] {
  const segments = relative.split('/');
  return segments.slice(0, -1).map((_, index) => segments.slice(0, index + 1).join('/'));
}

/**
 * Folders already proven to be real folders inside their output root, during one run (`withPathChecks`):
 * path checks then cost one `realpath` per folder per run, not one walk per file access.
 */
const provenFolders = new AsyncLocalStorage<Map<string, string>>();

/**
 * Runs `work` with a per-run memory of proven folders. Only positive facts are kept (a folder exists and
 * its real path is inside the root); every file is still looked at on each access, so a link planted in a
 * file's place is always refused.
 */
export function withPathChecks<T>(work: () => Promise<T>): Promise<T> {
  return provenFolders.getStore() === undefined ? provenFolders.run(new Map(), work) : work();
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
  if (!isInside(resolvedRoot, target)) throw new UnsafePathError(check.path, 'leaves the output folder');
  const proven = provenFolders.getStore();
  const stats = lstatOrUndefined(target);
  if (stats?.isSymbolicLink() === true) throw new UnsafePathError(check.path, 'is a symbolic link; smol does not write through links');
  // Walk up to the deepest existing folder and make sure its real path is inside the root's.
  // Stop at the root: when even the root does not exist yet, nothing below it can be a link.
  let folder = path.dirname(target);
  while (isInside(resolvedRoot, folder)) {
    if (proven?.get(folder) === resolvedRoot) break;
    const real = realpathOrUndefined(folder);
    if (real !== undefined) {
      if (!isInside(realRootOf(resolvedRoot, proven), real)) throw new UnsafePathError(check.path, 'resolves outside the output folder (symlink)');
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
