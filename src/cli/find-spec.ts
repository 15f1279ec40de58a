import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SmolError } from '../errors.js';

/** The spec file a command uses when none is named, and the file a folder given as SPEC stands for. */
export const DEFAULT_SPEC = 'prompt.md';

/** Where the spec is: its absolute path, and the path to print (relative to where the user stands). */
export interface FoundSpec {
  file: string;
  display: string;
}

/**
 * The spec a command works on, found the way git and npm find their files:
 * - SPEC given and a folder: that folder's `prompt.md`;
 * - SPEC given and anything else: that path, relative to `cwd` (a missing file is reported by the loader);
 * - no SPEC: `prompt.md` in `cwd`, else in each folder above it, up to the repository root (the first
 *   folder holding `.git`) or the filesystem root.
 *
 * @throws SmolError `SPEC_NOT_FOUND` (exit 2) when no SPEC was given and no `prompt.md` was found
 */
export async function findSpec(specArg: string | undefined, cwd: string): Promise<FoundSpec> {
  if (specArg !== undefined) {
    const given = path.resolve(cwd, specArg);
    const file = (await kindOf(given)) === 'dir' ? path.join(given, DEFAULT_SPEC) : given;
    return { file, display: displayFrom(cwd, file, file === given ? specArg : undefined) };
  }
  const start = path.resolve(cwd);
  for (let dir = start; ; ) {
    const candidate = path.join(dir, DEFAULT_SPEC);
    if ((await kindOf(candidate)) === 'file')
      return { file: candidate, display: displayFrom(cwd, candidate, undefined) };
    const parent = path.dirname(dir);
    // The repository root bounds the search (a `.git` folder, or a file in a worktree or submodule).
    if (parent === dir || (await kindOf(path.join(dir, '.git'))) !== 'none') {
      const where = dir === start ? start : `${start} or any folder above it up to ${dir}`;
      throw new SmolError('SPEC_NOT_FOUND', `No ${DEFAULT_SPEC} found in ${where}.`, {
        exitCode: 2,
        hint: 'Run `smol init` to write a documented prompt.md, pass the path of your spec (a file, or the folder holding prompt.md), or use -C DIR.',
      });
    }
    dir = parent;
  }
}

/**
 * Like {@link findSpec}, for commands that also work without a spec (`mcp`, `doctor`): undefined when no
 * SPEC was given and no `prompt.md` was found.
 */
export async function locateSpec(specArg: string | undefined, cwd: string): Promise<FoundSpec | undefined> {
  try {
    return await findSpec(specArg, cwd);
  } catch (error) {
    if (error instanceof SmolError && error.code === 'SPEC_NOT_FOUND') return undefined;
    throw error;
  }
}

/** `prompt.md`, `../prompt.md`, `specs/app.md`: short for messages; absolute when far away. */
function displayFrom(cwd: string, file: string, asGiven: string | undefined): string {
  if (asGiven !== undefined) return asGiven;
  const relative = path.relative(cwd, file);
  return relative === '' || path.isAbsolute(relative) ? file : relative;
}

async function kindOf(file: string): Promise<'file' | 'dir' | 'other' | 'none'> {
  try {
    const stats = await stat(file);
    return stats.isDirectory() ? 'dir' : stats.isFile() ? 'file' : 'other';
  } catch {
    return 'none';
  }
}
