import type { Command } from 'commander';
import { readLock } from '../../engine/lock.js';
import { statePaths } from '../../engine/paths.js';
import { SmolError } from '../../errors.js';
import { loadSpecFromArgs } from '../context.js';
import type { CliIO, Output } from '../io.js';
import { addModelFlags, type ModelFlags } from '../options.js';
import { generate } from './run.js';

interface RegenFlags extends ModelFlags {
  spec?: string;
  yes?: boolean;
  json?: boolean;
}

export function registerRegen(program: Command, io: CliIO, output: Output, setExit: (code: number) => void): void {
  addModelFlags(
    program
      .command('regen <paths...>')
      .description('regenerate these output files whatever their state (recreates files deleted by hand; hand edits are merged)')
      .option('--spec <file>', 'the spec file (default: ./prompt.md)')
      .option('-y, --yes', 'write the changes without asking')
      .option('--json', 'print NDJSON events on stdout, nothing else'),
  ).action(async (paths: string[], flags: RegenFlags) => {
    const spec = await loadSpecFromArgs(flags.spec, flags, io);
    const lock = await readLock(statePaths(spec.dir).lockFile);
    const planned = new Set(lock?.plan.files.map((file) => file.path) ?? []);
    const normalised = paths.map((entry) => entry.replace(/\\/g, '/').replace(/^\.\//, ''));
    const unknown = normalised.filter((entry) => !planned.has(entry));
    if (unknown.length > 0) {
      const known = [...planned].slice(0, 10).join(', ');
      throw new SmolError('REGEN_UNKNOWN_PATH', `not in the plan: ${unknown.join(', ')}.`, {
        exitCode: 2,
        hint: planned.size === 0 ? 'Run `smol run` first.' : `Paths are relative to the output folder, e.g. ${known}. \`smol status\` lists them.`,
      });
    }
    setExit(await generate(io, output, flags.spec, flags, normalised));
  });
}
