import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SmolError } from '../errors.js';
import { createOutput } from './io.js';
import type { CommandContext } from './program.js';

/** The options every command takes, before or after its name: `-C DIR`, `--quiet`, `--no-color`. */
export interface GlobalOptions {
  C?: string;
  quiet?: boolean;
  color?: boolean;
}

/**
 * Applies the global options to the context a command's action receives: `-C DIR` makes DIR the folder
 * every relative path and the spec search start from (as `git -C` and `make -C` do); `--quiet` and
 * `--no-color` rebuild the output. Runs before the action, once per invocation.
 */
export async function applyGlobalOptions(context: CommandContext, options: GlobalOptions): Promise<void> {
  if (options.C !== undefined) {
    const dir = path.resolve(context.io.cwd, options.C);
    const isDir = await stat(dir).then(
      (stats) => stats.isDirectory(),
      () => false,
    );
    if (!isDir) {
      throw new SmolError('BAD_DIRECTORY', `-C ${options.C}: no such folder (looked for ${dir}).`, {
        exitCode: 2,
        hint: 'Pass a folder that exists, e.g. `smol -C app status`.',
      });
    }
    context.io = { ...context.io, cwd: dir };
  }
  if (options.quiet === true || options.color === false) {
    context.output = createOutput(context.io, { quiet: options.quiet, color: options.color });
  }
}
