import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { isSmolError } from '../errors.js';
import { createOutput, type CliIO, type Output } from './io.js';
import { buildProgram } from './program.js';

/** Runs the CLI with the given arguments and I/O; returns the exit code. Never calls process.exit itself. */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const output = createOutput(io);
  let exitCode = 0;
  const program = buildProgram({ io, output, version: packageVersion() }, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, output, wantsJson(argv));
  }
}

/** `--json` among the options (not after `--`): a failure then ends stdout with an `error` event too. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

function reportError(error: unknown, output: Output, json: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version end here too, with exit code 0.
    if (error.exitCode === 0) return 0;
    if (json) output.json({ type: 'error', code: 'USAGE', message: error.message.replace(/^error: /, ''), hint: 'See `smol --help`.' });
    return 2;
  }
  if (isSmolError(error)) {
    for (const line of error.message.split('\n')) output.error(line);
    if (error.hint !== undefined) output.info(output.colors.dim(error.hint));
    if (json) output.json({ type: 'error', code: error.code, message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) });
    return error.exitCode;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  output.error(`smol hit a bug: ${stack}`);
  output.info('Please report it with the command you ran and this output.');
  if (json) {
    const message = error instanceof Error ? error.message : String(error);
    output.json({ type: 'error', code: 'BUG', message: `smol hit a bug: ${message}`, hint: 'Please report it with the command you ran and the output on stderr.' });
  }
  return 1;
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
