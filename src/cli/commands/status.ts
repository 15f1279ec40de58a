import { computeStatus, type StatusReport } from '../../engine/status.js';
import { loadSpecFromArgs } from '../context.js';
import type { CliIO } from '../io.js';
import type { ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { checkProblems, renderStatus } from '../render-status.js';
import { reportRecovery } from '../report-recovery.js';

interface JsonFlags extends ModelFlags {
  json?: boolean;
}

/** `smol status [spec]`: where every file stands, with no model call. */
export async function statusCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: JsonFlags,
): Promise<number> {
  const report = await statusOf(io, specArg, flags, true);
  if (flags.json === true) output.json(report);
  else {
    reportRecovery(output, report.recovered);
    renderStatus(output, report);
  }
  return 0;
}

/** `smol check [spec]`: exit 1 when the spec, the lock and the files disagree (for CI). Never writes. */
export async function checkCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: JsonFlags,
): Promise<number> {
  const report = await statusOf(io, specArg, flags, false);
  const problems = checkProblems(report);
  if (flags.json === true) output.json({ ok: problems.length === 0, problems, ...report });
  else {
    reportRecovery(output, report.recovered);
    if (problems.length === 0) output.info('smol.lock, the spec and the outputs agree.');
    else for (const problem of problems) output.error(problem);
  }
  return problems.length === 0 ? 0 : 1;
}

async function statusOf(
  io: CliIO,
  specArg: string | undefined,
  flags: ModelFlags,
  syncEdits: boolean,
): Promise<StatusReport> {
  const spec = await loadSpecFromArgs(specArg, flags, io);
  return computeStatus(spec, { syncEdits });
}
