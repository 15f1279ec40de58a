import { isSmolError } from '../../errors.js';
import type { DoctorCheck, DoctorReport, DoctorSettings } from '../../llm/doctor.js';
import { specSettingsSchema } from '../../spec/schema.js';
import { DEFAULT_SPEC, displayPath, loadSpecFromArgs, locateSpec } from '../context.js';
import { colorsFor, type CliIO, type Output } from '../io.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';

interface DoctorFlags extends ModelFlags {
  json?: boolean;
  probe?: boolean;
}

/**
 * `smol doctor [spec]`: which provider and model a run would use and why, and whether they work, without
 * a completion call (with `--probe`, one tiny file-list call). Works without a spec file, from flags and
 * the environment. The report goes to stdout (`smol doctor | less`). Exit 0 when all is well.
 */
export async function doctorCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: DoctorFlags,
): Promise<number> {
  const { settings, spec } = await settingsFor(specArg, flags, io);
  // Doctor loads every provider's SDK (to check each endpoint): only this command pays for that.
  const { diagnose } = await import('../../llm/doctor.js');
  const report = await diagnose(settings, io.env);
  report.checks.unshift(spec);
  if (flags.probe === true) report.checks.push(await probe(settings, io));
  report.ok = report.checks.every((check) => check.status !== 'fail');
  if (flags.json === true) output.json(report);
  else print(output, io, report, flags.probe === true);
  return report.ok ? 0 : 1;
}

/** `--probe`: one tiny file-list call through the provider a run would build (no cache, no retries). */
async function probe(settings: DoctorSettings, io: CliIO): Promise<DoctorCheck> {
  if (settings.model === undefined) return { name: 'probe', status: 'fail', message: 'not tried: no model is set' };
  const [{ detectAndCreateProvider }, { probeFileList }] = await Promise.all([
    import('../../llm/create.js'),
    import('../../plan/probe.js'),
  ]);
  try {
    const { provider } = await detectAndCreateProvider(settings, io.env, { maxRetries: 0 });
    return await probeFileList({ provider, model: settings.model, fileList: settings.fileList ?? 'auto' });
  } catch (error) {
    if (!isSmolError(error)) throw error;
    return {
      name: 'probe',
      status: 'fail',
      message: `not tried: ${error.message}`,
      hint: error.hint,
    };
  }
}

/** The spec's settings (with flags over them), or the flags alone when there is no spec file. */
async function settingsFor(
  specArg: string | undefined,
  flags: DoctorFlags,
  io: CliIO,
): Promise<{ settings: DoctorSettings; spec: DoctorCheck }> {
  const fromFlags = (): DoctorSettings => {
    const parsed = specSettingsSchema.safeParse(overridesFrom(flags));
    return parsed.success ? parsed.data : { ...(flags.model === undefined ? {} : { model: flags.model }) };
  };
  if ((await locateSpec(specArg, io.cwd)) === undefined) {
    return {
      settings: fromFlags(),
      spec: { name: 'spec', status: 'ok', message: `no ${DEFAULT_SPEC} here: using flags and the environment` },
    };
  }
  try {
    const loaded = await loadSpecFromArgs(specArg, flags, io);
    return { settings: loaded.settings, spec: { name: 'spec', status: 'ok', message: displayPath(io, loaded.file) } };
  } catch (error) {
    if (!isSmolError(error)) throw error;
    const check: DoctorCheck = {
      name: 'spec',
      status: 'fail',
      message: error.message,
      hint: error.hint,
    };
    return { settings: fromFlags(), spec: check };
  }
}

/** The report on stdout: it is this command's result (`smol doctor | less`), coloured only on a terminal. */
function print(output: Output, io: CliIO, report: DoctorReport, probed: boolean): void {
  const colors = colorsFor(io.stdout, io.env);
  const mark = { ok: colors.green('ok  '), warn: colors.yellow('warn'), fail: colors.red('FAIL') };
  const lines: string[] = [];
  for (const check of report.checks) {
    const [first = '', ...rest] = check.message.split('\n');
    lines.push(`${mark[check.status]}  ${check.name.padEnd(8)} ${first}`);
    for (const line of rest) lines.push(`                ${line}`);
    if (check.hint !== undefined && check.status !== 'ok') lines.push(colors.dim(`                ${check.hint}`));
  }
  const failed = report.checks.filter((check) => check.status === 'fail');
  if (failed.length === 0) {
    lines.push(
      colors.green(
        `ready: a run would work with this setup${probed ? '' : ' (`smol doctor --probe` also tries one small model call)'}.`,
      ),
    );
  } else {
    // The first thing to fix, in one line: what a user reads last.
    const first = failed[0]!;
    lines.push(
      colors.red(
        `${failed.length} problem${failed.length === 1 ? '' : 's'} to fix before a run can work; first: ${first.hint ?? first.message}`,
      ),
    );
  }
  output.result(lines.join('\n'));
}
