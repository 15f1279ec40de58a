import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliResult } from './cli.js';

/** A writable that collects what is written, for stdout and stderr. */
class Collector extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/**
 * Runs the CLI in this process through `main(argv, io)` with memory streams: the same code path as the bin,
 * without a Node start per call. Use `runCli` (a subprocess) only where the process itself matters
 * (signals, exit, two processes, startup).
 */
export async function runMain(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<CliResult> {
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await main(args, {
    stdin,
    stdout,
    stderr,
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, NO_COLOR: '1', ...options.env },
    cwd: options.cwd,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
