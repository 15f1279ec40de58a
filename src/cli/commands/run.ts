import type { Command } from 'commander';
import { runPipeline, type RunResult } from '../../engine/run.js';
import { loadModelContext } from '../context.js';
import type { CliIO, Output } from '../io.js';
import { addModelFlags, type ModelFlags } from '../options.js';
import { createProgress } from '../progress.js';
import { withCancellation } from '../signals.js';

interface RunFlags extends ModelFlags {
  yes?: boolean;
  all?: boolean;
  json?: boolean;
}

export function registerRun(program: Command, io: CliIO, output: Output, setExit: (code: number) => void): void {
  addModelFlags(
    program
      .command('run [spec]')
      .description('plan the spec and generate what is stale (default spec: ./prompt.md)')
      .option('-y, --yes', 'write the changes without asking')
      .option('--all', 'regenerate every file, whatever its state (also rebuilds a damaged smol.lock)')
      .option('--json', 'print NDJSON events on stdout, nothing else'),
  ).action(async (spec: string | undefined, flags: RunFlags) => {
    setExit(await generate(io, output, spec, flags, flags.all === true ? 'all' : undefined));
  });
}

/** Shared by `run` and `regen`: generate, then write when allowed. Returns the exit code. */
export async function generate(
  io: CliIO,
  output: Output,
  specArg: string | undefined,
  flags: RunFlags,
  force: 'all' | readonly string[] | undefined,
): Promise<number> {
  const { spec, provider, description } = await loadModelContext(specArg, flags, io);
  const write = flags.yes === true || spec.settings.apply === 'auto';
  const progress = createProgress(io, output, flags.json === true ? 'json' : 'auto');
  let result: RunResult;
  try {
    result = await withCancellation(io, (signal) =>
      runPipeline({
        spec,
        provider,
        providerIdentity: description,
        signal,
        onEvent: progress.onEvent,
        mode: write ? 'apply' : 'preview',
        ...(force === undefined ? {} : { force }),
      }),
    );
  } finally {
    progress.stop();
  }
  reportOutcome(output, result, write, flags.json === true);
  return result.failed.length > 0 || result.changes.some((change) => change.action === 'conflict') ? 1 : 0;
}

function reportOutcome(output: Output, result: RunResult, write: boolean, json: boolean): void {
  const { colors } = output;
  const conflicts = result.changes.filter((change) => change.action === 'conflict');
  const pending = result.changes.filter((change) => ['create', 'update', 'delete'].includes(change.action));
  if (json) {
    output.json({
      type: 'result',
      written: result.written,
      pending: write ? [] : pending.map((change) => ({ path: change.path, action: change.action })),
      rejected: result.rejected,
      failed: result.failed,
      conflicts: conflicts.map((change) => change.path),
      usage: result.usage,
    });
    return;
  }
  for (const conflict of conflicts) {
    output.warn(`${conflict.path}: your edits and the new generation overlap; the file was left as it is. Merge by hand, then run again.`);
  }
  if (!write && pending.length > 0) {
    output.info(
      `${colors.yellow('nothing written')}: ${pending.length} file change(s) ready. Run again with --yes (or set \`apply: auto\`) to write them; the answers are cached, so that costs no new model call.`,
    );
  }
}
