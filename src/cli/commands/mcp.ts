import type { Readable, Writable } from 'node:stream';
import { DEFAULT_SPEC, locateSpec } from '../context.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';

/**
 * `smol mcp [spec]`: the MCP server over stdio until stdin closes (the client went away) or a signal.
 * Either way the tool calls in flight are cancelled at once: no model call after that, nothing half-written.
 */
export async function mcpCommand(
  { io, output, version }: CommandContext,
  specArg: string | undefined,
  flags: ModelFlags,
): Promise<number> {
  // The MCP SDK is loaded only by this command, so other commands start faster.
  const [{ createMcpServer }, { StdioServerTransport }] = await Promise.all([
    import('../../server/mcp/server.js'),
    import('@modelcontextprotocol/sdk/server/stdio.js'),
  ]);
  const smol = createMcpServer({
    specFile: (await locateSpec(specArg, io.cwd))?.display ?? DEFAULT_SPEC,
    cwd: io.cwd,
    overrides: overridesFrom(flags),
    env: io.env,
    version,
    log: (line) => output.info(line),
  });
  const transport = new StdioServerTransport(io.stdin as Readable, io.stdout as Writable);
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (): void => stop();
  io.stdin.once('end', stop);
  io.stdin.once('close', stop);
  // `on`, not `once`, and removed only after closing: write-file-atomic's signal-exit re-raises a signal when
  // it is the last listener left, which would end the process before the server has closed.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await smol.server.connect(transport);
    // The SDK chains to a handler set before it: a transport the client closes ends the server too.
    const closedByProtocol = smol.server.server.onclose;
    smol.server.server.onclose = () => {
      closedByProtocol?.();
      stop();
    };
    output.info(`smol MCP server on stdio for ${specArg ?? DEFAULT_SPEC}`);
    await stopped;
    await smol.close();
    await smol.server.close();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
