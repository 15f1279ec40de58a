import path from 'node:path';
import { startAgentServer } from '../../server/agent-protocol/server.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';

interface ServeFlags extends ModelFlags {
  host: string;
  port: number;
  token?: string;
  workspace: string;
  allowModels?: string[];
  allowHost?: string[];
  cors?: string[];
}

/** `smol serve`: the Agent Protocol server until Ctrl+C or SIGTERM. */
export async function serveCommand({ io, output }: CommandContext, flags: ServeFlags): Promise<number> {
  // An empty SMOL_SERVE_TOKEN= is kept as '' so the server refuses it rather than running open.
  const token = flags.token ?? io.env.SMOL_SERVE_TOKEN;
  const server = await startAgentServer({
    host: flags.host,
    port: flags.port,
    token,
    workspace: path.resolve(io.cwd, flags.workspace),
    overrides: overridesFrom(flags),
    allowModels: flags.allowModels ?? [],
    allowHosts: flags.allowHost ?? [],
    corsOrigins: flags.cors ?? [],
    env: io.env,
    log: (line) => output.info(line),
    onError: (error) => output.error(error instanceof Error ? (error.stack ?? error.message) : String(error)),
  });
  output.info(
    `Agent Protocol server on ${server.url}/ap/v1/agent/tasks${token === undefined ? '' : ' (bearer token required)'}; Ctrl+C stops it`,
  );
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await stopped;
    await server.close();
  } finally {
    // Only after closing: write-file-atomic's signal-exit re-raises a signal when it is the last listener
    // left, which would end the process before the server has closed.
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return 0;
}
