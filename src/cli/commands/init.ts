import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SmolError } from '../../errors.js';
import { DEFAULT_SPEC, displayPath } from '../context.js';
import type { CliIO, Output } from '../io.js';
import { STARTER_SPEC } from '../starter-spec.js';
import { detectAndCreateProvider } from '../../llm/create.js';
import type { SkippedFile } from '../../library/code-files.js';
import { specFromCode } from '../../library/from-code.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { withCancellation } from '../signals.js';
import { count } from '../words.js';

/** `smol init [spec]`: a documented starter spec, or one that describes existing code. */
export async function initCommand(
  { io, output }: CommandContext,
  specArg: string | undefined,
  flags: { force?: boolean; fromCode?: string } & ModelFlags,
): Promise<number> {
  const file = path.resolve(io.cwd, specArg ?? DEFAULT_SPEC);
  await assertFolder(io, path.dirname(file), {
    code: 'INIT_NO_FOLDER',
    what: 'the folder for the spec',
    hint: `Create it first (\`mkdir -p ${displayPath(io, path.dirname(file))}\`), or give a spec path in an existing folder.`,
  });
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
    throw new SmolError('FROM_CODE_NO_MODEL', '--from-code needs a model to describe the code with.', {
      exitCode: 2,
      hint: 'Pass --model, e.g. `smol init --from-code src --model gpt-4o`.',
    });
  }
  const codeDir = path.resolve(io.cwd, dir);
  await assertFolder(io, codeDir, {
    code: 'FROM_CODE_NO_FOLDER',
    what: 'the code folder',
    hint: 'Pass the folder that holds the existing code, e.g. `smol init --from-code src --model gpt-4o`.',
  });
  const settings = { model: flags.model, ...overridesFrom(flags) } as { model: string } & Record<string, unknown>;
  delete settings.outDir;
  const created = await detectAndCreateProvider(
    { model: flags.model, provider: flags.provider, baseURL: flags.baseUrl },
    io.env,
  );
  output.info(output.colors.dim(`using ${created.description} (${created.reason})`));
  const result = await withCancellation(io, (signal) =>
    specFromCode({
      codeDir,
      specFile: file,
      settings,
      provider: created.provider,
      providerIdentity: created.description,
      env: io.env,
      signal,
    }),
  );
  reportSkipped(output, result.skipped);
  const ignored = await ensureGitignored(path.dirname(file));
  output.info(
    `wrote ${displayPath(io, file)} describing ${count(result.files.length, 'file')}, and smol.lock recording them as the current base${ignored ? '; added .smol/ to .gitignore' : ''}`,
  );
  output.info(
    'next: `smol run` changes nothing until you edit the spec; then it regenerates only what the edit affects.',
  );
}

/** What was not sent to the model, secrets first and not dimmed: the user should know they were seen. */
function reportSkipped(output: Output, skipped: readonly SkippedFile[]): void {
  const order: SkippedFile['kind'][] = ['secret', 'ignored', 'other'];
  for (const kind of order) {
    for (const entry of skipped.filter((item) => item.kind === kind)) {
      const line = `skipped ${entry.path}: ${entry.reason}`;
      output.info(
        kind === 'secret'
          ? `${output.colors.yellow('not sent')} ${entry.path}: ${entry.reason}`
          : output.colors.dim(line),
      );
    }
  }
  if (skipped.length === 0) return;
  const ofKind = (kind: SkippedFile['kind']): number => skipped.filter((item) => item.kind === kind).length;
  const parts = [`${ofKind('secret')} secret`, `${ofKind('ignored')} git-ignored`, `${ofKind('other')} other`].filter(
    (part) => !part.startsWith('0 '),
  );
  output.info(output.colors.dim(`${count(skipped.length, 'path')} not sent to the model (${parts.join(', ')})`));
}

/** A folder init needs must exist: a user error with the fix, never `ENOENT` with a stack. */
async function assertFolder(
  io: CliIO,
  dir: string,
  problem: { code: string; what: string; hint: string },
): Promise<void> {
  const stats = await stat(dir).catch(() => undefined);
  if (stats?.isDirectory() === true) return;
  const state = stats === undefined ? 'does not exist' : 'is not a folder';
  throw new SmolError(problem.code, `${displayPath(io, dir)} (${problem.what}) ${state}; nothing was written.`, {
    exitCode: 2,
    hint: problem.hint,
  });
}

/** Adds `.smol/` to the .gitignore beside the spec; true when the file changed. */
async function ensureGitignored(dir: string): Promise<boolean> {
  const file = path.join(dir, '.gitignore');
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.split(/\r?\n/).some((line) => ['.smol', '.smol/', '/.smol', '/.smol/'].includes(line.trim())))
    return false;
  const prefix = existing === '' || existing.endsWith('\n') ? '' : '\n';
  await appendFile(file, `${prefix}# smol's cache, staging area and history (smol.lock is committed)\n.smol/\n`);
  return true;
}
