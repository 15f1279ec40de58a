import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { SmolError } from '../../errors.js';
import { DEFAULT_SPEC, displayPath } from '../context.js';
import type { CliIO, Output } from '../io.js';
import { STARTER_SPEC } from '../starter-spec.js';

export function registerInit(program: Command, io: CliIO, output: Output): void {
  program
    .command('init [spec]')
    .description('write a documented starter prompt.md and git-ignore .smol/')
    .option('--force', 'overwrite an existing spec file')
    .action(async (specArg: string | undefined, flags: { force?: boolean }) => {
      const file = path.resolve(io.cwd, specArg ?? DEFAULT_SPEC);
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
    });
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
