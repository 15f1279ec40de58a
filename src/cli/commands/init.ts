import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SmolError } from '../../errors.js';
import { DEFAULT_SPEC, displayPath } from '../context.js';
import type { CliIO, Output } from '../io.js';
import { STARTER_SPEC } from '../starter-spec.js';
import { detectAndCreateProvider } from '../../llm/create.js';
import { specFromCode } from '../../library/from-code.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { withCancellation } from '../signals.js';
import { count } from '../words.js';

/** `smol init [spec]`: a documented starter spec, or one that describes existing code. */
export async function initCommand({ io, output }: CommandContext, specArg: string | undefined, flags: { force?: boolean; fromCode?: string } & ModelFlags): Promise<number> {
  const file = path.resolve(io.cwd, specArg ?? DEFAULT_SPEC);
  if (flags.fromCode !== undefined) {
    await fromCode(io, output, file, flags.fromCode, flags);
    return 0;
  }
  try {
    await writeFile(file, STARTER_SPEC, { flag: flags.force === true ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new SmolError('SPEC_EXISTS', `${displayPath(io, file)} already exists; nothing was changed.`, {
      exitCode: 2,
      hint: 'Edit it, or pass --force to replace it with the starter spec.',
    });
  }
  const ignored = await ensureGitignored(path.dirname(file));
  output.info(`wrote ${displayPath(io, file)}${ignored ? ' and added .smol/ to .gitignore' : ''}`);
  output.info(`next: describe your program in it, then run \`smol run${specArg === undefined ? '' : ` ${specArg}`}\``);
  return 0;
}

async function fromCode(io: CliIO, output: Output, file: string, dir: string, flags: ModelFlags): Promise<void> {
  if (flags.model === undefined) {
    throw new SmolError('FROM_CODE_NO_MODEL', '--from-code needs a model to describe the code with.', { exitCode: 2, hint: 'Pass --model, e.g. `smol init --from-code src --model gpt-4o`.' });
  }
  const codeDir = path.resolve(io.cwd, dir);
  const settings = { model: flags.model, ...overridesFrom(flags) } as { model: string } & Record<string, unknown>;
  delete settings.outDir;
  const created = await detectAndCreateProvider({ model: flags.model, provider: flags.provider, baseURL: flags.baseUrl }, io.env);
  output.info(output.colors.dim(`using ${created.description} (${created.reason})`));
  const result = await withCancellation(io, (signal) =>
    specFromCode({ codeDir, specFile: file, settings, provider: created.provider, providerIdentity: created.description, signal }),
  );
  for (const skipped of result.skipped) output.info(output.colors.dim(`skipped ${skipped.path}: ${skipped.reason}`));
  const ignored = await ensureGitignored(path.dirname(file));
  output.info(`wrote ${displayPath(io, file)} describing ${count(result.files.length, 'file')}, and smol.lock recording them as the current base${ignored ? '; added .smol/ to .gitignore' : ''}`);
  output.info('next: `smol run` changes nothing until you edit the spec; then it regenerates only what the edit affects.');
}

/** Adds `.smol/` to the .gitignore beside the spec; true when the file changed. */
async function ensureGitignored(dir: string): Promise<boolean> {
  const file = path.join(dir, '.gitignore');
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.split(/\r?\n/).some((line) => ['.smol', '.smol/', '/.smol', '/.smol/'].includes(line.trim()))) return false;
  const prefix = existing === '' || existing.endsWith('\n') ? '' : '\n';
  await appendFile(file, `${prefix}# smol's cache, staging area and history (smol.lock is committed)\n.smol/\n`);
  return true;
}
