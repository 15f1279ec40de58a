import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { startAgentServer } from '../../server/agent-protocol/server.js';
import type { CliIO, Output } from '../io.js';
import { addModelFlags, overridesFrom, type ModelFlags } from '../options.js';

interface ServeFlags extends ModelFlags {
  host: string;
  port: number;
  token?: string;
  workspace: string;
}

export function registerServe(program: Command, io: CliIO, output: Output, setExit: (code: number) => void): void {
  addModelFlags(
    program
      .command('serve')
      .description('serve the Agent Protocol v1 (/ap/v1/agent/tasks): a task is a prompt, each step runs the next stage')
      .option('--host <host>', 'address to bind (anything but loopback exposes it to the network)', '127.0.0.1')
      .option('--port <port>', 'port (0 picks a free one)', port, 8000)
      .option('--token <token>', 'require `Authorization: Bearer <token>` on every request (default: SMOL_SERVE_TOKEN)')
      .option('--workspace <dir>', "folder for the tasks' files, one subfolder per task", 'smol-workspace'),
  ).action(async (flags: ServeFlags) => {
    const token = flags.token ?? io.env.SMOL_SERVE_TOKEN;
    const server = await startAgentServer({
      host: flags.host,
      port: flags.port,
      ...(token === undefined || token === '' ? {} : { token }),
      workspace: path.resolve(io.cwd, flags.workspace),
      overrides: overridesFrom(flags),
      env: io.env,
      onError: (error) => output.error(error instanceof Error ? (error.stack ?? error.message) : String(error)),
    });
    output.info(`Agent Protocol server on ${server.url}/ap/v1/agent/tasks${token === undefined ? '' : ' (bearer token required)'}; Ctrl+C stops it`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    setExit(0);
  });
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new InvalidArgumentError(`--port takes a port number (got "${value}").`);
  return parsed;
}
