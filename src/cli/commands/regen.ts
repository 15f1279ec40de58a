import { readLock } from '../../engine/lock.js';
import { lockDisplayPath, outDirName, statePaths } from '../../engine/paths.js';
import { SmolError } from '../../errors.js';
import { loadSpecFromArgs } from '../context.js';
import { outputPathArgs } from '../output-path-arg.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { runReviewAndCheck } from './run.js';

interface RegenFlags extends ModelFlags {
  spec?: string;
  yes?: boolean;
  json?: boolean;
}

/** `smol regen <paths...>`: only these files, whatever their state. */
export async function regenCommand(
  { io, output }: CommandContext,
  files: string[],
  flags: RegenFlags,
): Promise<number> {
  const spec = await loadSpecFromArgs(flags.spec, flags, io);
  const state = statePaths(spec.dir);
  const lock = await readLock(state.lockFile, lockDisplayPath(spec.displayPath), outDirName(state, spec.outDir));
  const planned = new Set(lock?.plan.files.map((file) => file.path) ?? []);
  if (planned.size === 0)
    throw new SmolError('REGEN_UNKNOWN_PATH', `not in the plan: ${files.join(', ')}.`, {
      exitCode: 2,
      hint: 'Run `smol run` first.',
    });
  // Relative to outDir, to this folder (tab completion) or to the spec's folder: see output-path-arg.ts.
  const normalised = outputPathArgs(spec, io.cwd, files, {
    known: planned,
    what: 'in the plan',
    code: 'REGEN_UNKNOWN_PATH',
  });
  // Only these files are regenerated and written; other stale files wait for `smol run`.
  return runReviewAndCheck(io, output, flags.spec, flags, { force: normalised, only: normalised, command: 'regen' });
}
