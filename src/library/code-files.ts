import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import type { DebugFile } from '../plan/templates.js';
import { checkOutputPath } from '../workspace/safe-path.js';
import { secretByContent, secretByName } from './secret-files.js';

/** A file or folder of the codebase that `init --from-code` did not send, and why. */
export interface SkippedFile {
  /** Relative to the code folder; folders end with `/`. */
  path: string;
  kind: 'secret' | 'ignored' | 'other';
  reason: string;
}

// Never code: version control and smol's own state (not even listed), then dependencies and build output.
const STATE_FOLDERS = new Set(['.git', '.smol']);
const SKIPPED_FOLDERS = new Set([
  'node_modules',
  'dist',
  'build',
  'coverage',
  '.next',
  '.venv',
  'venv',
  '__pycache__',
  'target',
]);
const SKIPPED_FILES =
  /(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb|Cargo\.lock|poetry\.lock|smol\.lock|\.DS_Store)$|\.lock$/;
const MAX_FILE_BYTES = 100_000;

/** The `.gitignore` rules of one folder, matched against paths relative to it. */
interface Scope {
  dir: string;
  rules: Ignore;
}

/**
 * The text files of a codebase to describe, in path order: what git would track (`.gitignore` files from
 * the repository root down, and `.git/info/exclude`), minus secrets, lock files, binaries, big files and
 * paths smol would not write. Symlinks are not followed. Everything left out is listed with its reason.
 */
export async function collectCodeFiles(
  root: string,
  options: { knownSecrets: readonly string[] },
): Promise<{ files: DebugFile[]; skipped: SkippedFile[] }> {
  const files: DebugFile[] = [];
  const skipped: SkippedFile[] = [];
  const skip = (relative: string, kind: SkippedFile['kind'], reason: string): void =>
    void skipped.push({ path: relative, kind, reason });

  const walk = async (dir: string, scopes: readonly Scope[]): Promise<void> => {
    const own = await scopeOf(dir, path.join(dir, '.gitignore'));
    const active = own === undefined ? scopes : [...scopes, own];
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const absolute = path.join(dir, entry.name);
      const relative = path.relative(root, absolute).split(path.sep).join('/');
      if (entry.isDirectory()) {
        if (STATE_FOLDERS.has(entry.name)) continue;
        if (gitIgnored(absolute, true, active)) skip(`${relative}/`, 'ignored', 'git-ignored');
        else if (SKIPPED_FOLDERS.has(entry.name)) skip(`${relative}/`, 'other', 'dependencies or build output');
        else await walk(absolute, active);
        continue;
      }
      // A secret is named as one even when git ignores it too: the user should see that it was noticed.
      const secret = secretByName(relative);
      if (secret !== undefined) {
        skip(relative, 'secret', secret);
        continue;
      }
      if (gitIgnored(absolute, false, active)) {
        skip(relative, 'ignored', 'git-ignored');
        continue;
      }
      if (entry.isSymbolicLink()) {
        skip(relative, 'other', 'a symbolic link (not followed)');
        continue;
      }
      if (!entry.isFile()) {
        skip(relative, 'other', 'not a regular file');
        continue;
      }
      const problem = await fileProblem(absolute, relative);
      if (typeof problem === 'string') {
        skip(relative, 'other', problem);
        continue;
      }
      const secretContent = secretByContent(problem.content, options.knownSecrets);
      if (secretContent !== undefined) skip(relative, 'secret', secretContent);
      else files.push({ path: relative, content: problem.content });
    }
  };
  await walk(root, await outerScopes(root));
  return { files, skipped };
}

/** Why a file is not sent (a lock file, an unwritable path, too big, binary), or its text. */
async function fileProblem(absolute: string, relative: string): Promise<string | { content: string }> {
  if (SKIPPED_FILES.test(relative)) return 'lock or generated file';
  if (!checkOutputPath(relative).ok) return 'a path smol would not write';
  const size = (await lstat(absolute)).size;
  if (size > MAX_FILE_BYTES) return `larger than ${MAX_FILE_BYTES} bytes`;
  const buffer = await readFile(absolute);
  const content = buffer.toString('utf8');
  if (buffer.includes(0) || content.includes('\ufffd')) return 'binary';
  return { content };
}

/**
 * Git's precedence: the last matching rule wins, and a deeper `.gitignore` comes after a shallower one.
 * (A file in an ignored folder is never reached: the walk does not enter ignored folders, as git does not.)
 */
function gitIgnored(absolute: string, isDirectory: boolean, scopes: readonly Scope[]): boolean {
  let ignored = false;
  for (const scope of scopes) {
    const relative = path.relative(scope.dir, absolute).split(path.sep).join('/');
    if (relative === '' || relative.startsWith('../')) continue;
    const result = scope.rules.test(isDirectory ? `${relative}/` : relative);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

/**
 * The rules that reach the code folder from outside it: the repository's `.git/info/exclude` and every
 * `.gitignore` from the repository root (the nearest folder holding `.git`) down to the code folder's parent.
 */
async function outerScopes(root: string): Promise<Scope[]> {
  const above: string[] = [];
  for (let dir = root; ; dir = path.dirname(dir)) {
    if (dir !== root) above.unshift(dir);
    if (await exists(path.join(dir, '.git'))) break;
    if (path.dirname(dir) === dir) return []; // not in a repository: only the code folder's own rules apply
  }
  const repository = above[0] ?? root;
  const sources: [string, string][] = [
    [repository, path.join(repository, '.git', 'info', 'exclude')],
    ...above.map((dir): [string, string] => [dir, path.join(dir, '.gitignore')]),
  ];
  const scopes: Scope[] = [];
  for (const [dir, file] of sources) {
    const scope = await scopeOf(dir, file);
    if (scope !== undefined) scopes.push(scope);
  }
  return scopes;
}

async function scopeOf(dir: string, file: string): Promise<Scope | undefined> {
  try {
    if (!(await lstat(file)).isFile()) return undefined;
    return { dir, rules: ignore().add(await readFile(file, 'utf8')) };
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}
