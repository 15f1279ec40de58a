import { readLock } from '../../engine/lock.js';
import { lockDisplayPath, outDirName, statePaths } from '../../engine/paths.js';
import { SmolError } from '../../errors.js';
import { loadSpecFromArgs } from '../context.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { generate } from './run.js';

interface RegenFlags extends ModelFlags {
  spec?: string;
  yes?: boolean;
  json?: boolean;
}

/** `smol regen <paths...>`: only these files, whatever their state. */
export async function regenCommand({ io, output }: CommandContext, files: string[], flags: RegenFlags): Promise<number> {
  const spec = await loadSpecFromArgs(flags.spec, flags, io);
  const state = statePaths(spec.dir);
  const lock = await readLock(state.lockFile, lockDisplayPath(spec.displayPath), outDirName(state, spec.outDir));
  const planned = new Set(lock?.plan.files.map((file) => file.path) ?? []);
  const normalised = files.map((entry) => entry.replace(/\\/g, '/').replace(/^\.\//, ''));
  const unknown = normalised.filter((entry) => !planned.has(entry));
  if (unknown.length > 0) {
    const known = [...planned].slice(0, 10).join(', ');
    throw new SmolError('REGEN_UNKNOWN_PATH', `not in the plan: ${unknown.join(', ')}.`, {
      exitCode: 2,
      hint: planned.size === 0 ? 'Run `smol run` first.' : `Paths are relative to the output folder, e.g. ${known}. \`smol status\` lists them.`,
    });
  }
  // Only these files are regenerated and written; other stale files wait for `smol run`.
  return generate(io, output, flags.spec, flags, { force: normalised, only: normalised, command: 'regen' });
}
