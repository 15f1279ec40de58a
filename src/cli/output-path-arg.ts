import path from 'node:path';
import { SmolError } from '../errors.js';
import type { Spec } from '../spec/types.js';

export interface OutputPathOptions {
  /** The outDir-relative paths the argument may name (the plan's files, the staged conflicts, …). */
  known: ReadonlySet<string>;
  /** For the error: `in the plan`, `a staged conflict`. */
  what: string;
  /** The error's code; default `PATH_NOT_KNOWN`. */
  code?: string | undefined;
}

/**
 * Output paths given on the command line, as paths relative to outDir. Each argument may be written
 * relative to outDir (`src/util/log.ts`), to the current folder (`app/src/util/log.ts`, what tab
 * completion produces), to the spec's folder (usually the repository root), or absolute; backslashes
 * and a leading `./` are accepted. The first reading that names a known path wins.
 *
 * @throws SmolError (exit 2) naming every argument that is none of `known`, with both ways to write it
 */
export function outputPathArgs(
  spec: Pick<Spec, 'outDir' | 'dir'>,
  cwd: string,
  args: readonly string[],
  options: OutputPathOptions,
): string[] {
  const resolved: string[] = [];
  const unknown: string[] = [];
  for (const arg of args) {
    const match = readings(spec, cwd, arg).find((candidate) => options.known.has(candidate));
    if (match === undefined) unknown.push(arg);
    else resolved.push(match);
  }
  if (unknown.length > 0) {
    throw new SmolError(options.code ?? 'PATH_NOT_KNOWN', `not ${options.what}: ${unknown.join(', ')}.`, {
      exitCode: 2,
      hint: formsHint(spec, cwd, options.known),
    });
  }
  return resolved;
}

/** Every outDir-relative path `arg` could mean, most likely first; none that leave outDir. */
function readings(spec: Pick<Spec, 'outDir' | 'dir'>, cwd: string, arg: string): string[] {
  const slashed = arg.replace(/\\/g, '/');
  const candidates: string[] = [];
  if (!path.posix.isAbsolute(slashed) && !/^[A-Za-z]:/.test(slashed)) candidates.push(path.posix.normalize(slashed));
  for (const base of [cwd, spec.dir])
    candidates.push(toPosix(path.relative(spec.outDir, path.resolve(base, arg.replace(/\\/g, path.sep)))));
  return [...new Set(candidates)].filter(
    (candidate) =>
      candidate !== '' &&
      candidate !== '.' &&
      !candidate.startsWith('../') &&
      candidate !== '..' &&
      !path.isAbsolute(candidate),
  );
}

/** `Name files relative to the output folder (src/x.ts) or to this folder (app/src/x.ts); \`smol status\` lists them.` */
function formsHint(spec: Pick<Spec, 'outDir' | 'dir'>, cwd: string, known: ReadonlySet<string>): string {
  const example = [...known].sort()[0];
  if (example === undefined) return 'Nothing is known yet: run `smol run` first.';
  const fromHere = toPosix(path.relative(cwd, path.join(spec.outDir, example)));
  const forms =
    fromHere === example
      ? `\`${example}\``
      : `\`${example}\` (relative to the output folder) or \`${fromHere}\` (relative to this folder)`;
  return `Name a file as ${forms}; \`smol status\` lists them.`;
}

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}
