import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isSmolError } from '../errors.js';
import { registerDoctor } from './commands/doctor.js';
import { registerInit } from './commands/init.js';
import { registerInspect } from './commands/inspect.js';
import { registerDebug } from './commands/debug.js';
import { registerMcp } from './commands/mcp.js';
import { registerRegen } from './commands/regen.js';
import { registerReview } from './commands/review.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerWatch } from './commands/watch.js';
import { createOutput, type CliIO } from './io.js';

const EXIT_CODES = `
Exit codes:
  0    success
  1    the run failed (a file failed or conflicts, a provider error, \`smol check\` found drift)
  2    bad usage or a bad spec
  130  cancelled (Ctrl+C)`;

/** Runs the CLI with the given arguments and I/O; returns the exit code. Never calls process.exit itself. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const output = createOutput(io);
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('smol')
    .description('Turn a Markdown spec into a codebase, and keep the codebase in step as you edit the spec.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(output.colors.red(text)),
    })
    .exitOverride();
  registerInit(program, io, output);
  registerRun(program, io, output, setExit);
  registerInspect(program, io, output, setExit);
  registerRegen(program, io, output, setExit);
  registerReview(program, io, output, setExit);
  registerWatch(program, io, output, setExit);
  registerDebug(program, io, output, setExit);
  registerServe(program, io, output, setExit);
  registerMcp(program, io, output, packageVersion());
  registerDoctor(program, io, output, setExit);
  for (const command of program.commands) command.exitOverride().addHelpText('after', EXIT_CODES);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, output);
  }
}

function reportError(error: unknown, output: ReturnType<typeof createOutput>): number {
  if (error instanceof CommanderError) {
    // Help and version end here too, with exit code 0.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (isSmolError(error)) {
    for (const line of error.message.split('\n')) output.error(line);
    if (error.hint !== undefined) output.info(output.colors.dim(error.hint));
    return error.exitCode;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  output.error(`smol hit a bug: ${stack}`);
  output.info('Please report it with the command you ran and this output.');
  return 1;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
