import { isSmolError } from '../../errors.js';
import type { DoctorCheck, DoctorReport, DoctorSettings } from '../../llm/doctor.js';
import { specSettingsSchema } from '../../spec/schema.js';
import { DEFAULT_SPEC, displayPath, loadSpecFromArgs, locateSpec } from '../context.js';
import type { CliIO, Output } from '../io.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';

interface DoctorFlags extends ModelFlags {
  json?: boolean;
}

/**
 * `smol doctor [spec]`: which provider and model a run would use and why, and whether they work, without
 * a completion call. Works without a spec file, from flags and the environment. Exit 0 when all is well.
 */
export async function doctorCommand({ io, output }: CommandContext, specArg: string | undefined, flags: DoctorFlags): Promise<number> {
  const { settings, spec } = await settingsFor(specArg, flags, io);
  // Doctor loads every provider's SDK (to check each endpoint): only this command pays for that.
  const { diagnose } = await import('../../llm/doctor.js');
  const report = await diagnose(settings, io.env);
  report.checks.unshift(spec);
  report.ok = report.checks.every((check) => check.status !== 'fail');
  if (flags.json === true) output.json(report);
  else print(output, report);
  return report.ok ? 0 : 1;
}

/** The spec's settings (with flags over them), or the flags alone when there is no spec file. */
async function settingsFor(specArg: string | undefined, flags: DoctorFlags, io: CliIO): Promise<{ settings: DoctorSettings; spec: DoctorCheck }> {
  const fromFlags = (): DoctorSettings => {
    const parsed = specSettingsSchema.safeParse(overridesFrom(flags));
    return parsed.success ? parsed.data : { ...(flags.model === undefined ? {} : { model: flags.model }) };
  };
  if ((await locateSpec(specArg, io.cwd)) === undefined) {
    return { settings: fromFlags(), spec: { name: 'spec', status: 'ok', message: `no ${DEFAULT_SPEC} here: using flags and the environment` } };
  }
  try {
    const loaded = await loadSpecFromArgs(specArg, flags, io);
    return { settings: loaded.settings, spec: { name: 'spec', status: 'ok', message: displayPath(io, loaded.file) } };
  } catch (error) {
    if (!isSmolError(error)) throw error;
    const check: DoctorCheck = { name: 'spec', status: 'fail', message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
    return { settings: fromFlags(), spec: check };
  }
}

function print(output: Output, report: DoctorReport): void {
  const { colors } = output;
  const mark = { ok: colors.green('ok  '), warn: colors.yellow('warn'), fail: colors.red('FAIL') };
  for (const check of report.checks) {
    const [first = '', ...rest] = check.message.split('\n');
    output.info(`${mark[check.status]}  ${check.name.padEnd(8)} ${first}`);
    for (const line of rest) output.info(`                ${line}`);
    if (check.hint !== undefined && check.status !== 'ok') output.info(colors.dim(`                ${check.hint}`));
  }
  const failed = report.checks.filter((check) => check.status === 'fail').length;
  output.info(failed === 0 ? colors.green('ready: a run would work with this setup.') : colors.red(`${failed} problem${failed === 1 ? '' : 's'} to fix before a run can work.`));
}
