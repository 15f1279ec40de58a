import { readFileSync } from 'node:fs';
import type { CommanderError } from 'commander';
import { isSmolError } from '../errors.js';
import { createOutput, type CliIO, type Output } from './io.js';
import type { CommandContext } from './program.js';
import { reportSdkNotices } from './report-sdk-notices.js';

/** Runs the CLI with the given arguments and I/O; returns the exit code. Never calls process.exit itself. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  // `smol --version` alone needs no command line parser: declaring every command and option with
  // commander is most of what it would cost beyond Node's own start (bench/scenarios/startup.ts).
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const { buildProgram } = await import('./program.js');
  // The global options (`--quiet`, `--no-color`, `-C`) replace the context's output and io before the
  // command runs, so errors are reported through the context's output as it is then.
  const context: CommandContext = { io, output: createOutput(io), version: packageVersion() };
  let exitCode = 0;
  const program = buildProgram(context, (code) => {
    exitCode = code;
  });
  const stopNotices = reportSdkNotices(context);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Loaded with the program already: the import only hands over the class.
    const { CommanderError } = await import('commander');
    if (error instanceof CommanderError) return reportUsageError(error, context.output, wantsJson(argv));
    return reportError(error, context.output, wantsJson(argv));
  } finally {
    stopNotices();
  }
}

/** `--json` among the options (not after `--`): a failure then ends stdout with an `error` event too. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** A command-line error (commander printed it already); help and version end here too, with exit code 0. */
function reportUsageError(error: CommanderError, output: Output, json: boolean): number {
  if (error.exitCode === 0) return 0;
  if (json) {
    output.json({
      type: 'error',
      code: 'USAGE',
      message: error.message.replace(/^error: /, ''),
      hint: 'See `smol --help`.',
    });
  }
  return 2;
}

function reportError(error: unknown, output: Output, json: boolean): number {
  if (isSmolError(error)) {
    for (const line of error.message.split('\n')) output.error(line);
    if (error.hint !== undefined) output.detail(output.colors.dim(error.hint));
    if (json) output.json({ type: 'error', code: error.code, message: error.message, hint: error.hint });
    return error.exitCode;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  output.error(`smol hit a bug: ${stack}`);
  output.detail('Please report it with the command you ran and this output.');
  if (json) {
    const message = error instanceof Error ? error.message : String(error);
    output.json({
      type: 'error',
      code: 'BUG',
      message: `smol hit a bug: ${message}`,
      hint: 'Please report it with the command you ran and the output on stderr.',
    });
  }
  return 1;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}
