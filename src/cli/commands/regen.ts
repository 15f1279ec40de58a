import { readLock } from '../../engine/lock.js';
import { statePaths } from '../../engine/paths.js';
import { SmolError } from '../../errors.js';
import { loadSpecFromArgs } from '../context.js';
import { outputPathArgs } from '../output-path-arg.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { generate } from './run.js';

interface RegenFlags extends ModelFlags {
  spec?: string;
  yes?: boolean;
  json?: boolean;
}

/** `smol regen <paths...>`: only these files, whatever their state. */
export async function regenCommand({ io, output }: CommandContext, paths: string[], flags: RegenFlags): Promise<number> {
  const spec = await loadSpecFromArgs(flags.spec, flags, io);
  const lock = await readLock(statePaths(spec.dir).lockFile);
  const planned = new Set(lock?.plan.files.map((file) => file.path) ?? []);
  if (planned.size === 0) throw new SmolError('REGEN_UNKNOWN_PATH', `not in the plan: ${paths.join(', ')}.`, { exitCode: 2, hint: 'Run `smol run` first.' });
  // Relative to outDir, to this folder (tab completion) or to the spec's folder: see output-path-arg.ts.
  const normalised = outputPathArgs(spec, io.cwd, paths, { known: planned, what: 'in the plan', code: 'REGEN_UNKNOWN_PATH' });
  return generate(io, output, flags.spec, flags, normalised);
}
