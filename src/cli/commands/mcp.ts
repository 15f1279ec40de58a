import type { Readable, Writable } from 'node:stream';
import { DEFAULT_SPEC, locateSpec } from '../context.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';

/** `smol mcp [spec]`: the MCP server over stdio until stdin closes. */
export async function mcpCommand({ io, output, version }: CommandContext, specArg: string | undefined, flags: ModelFlags): Promise<number> {
  // The MCP SDK is loaded only by this command, so other commands start faster.
  const [{ createMcpServer }, { StdioServerTransport }] = await Promise.all([
    import('../../server/mcp/server.js'),
    import('@modelcontextprotocol/sdk/server/stdio.js'),
  ]);
  const server = createMcpServer({
    specFile: (await locateSpec(specArg, io.cwd))?.display ?? DEFAULT_SPEC,
    cwd: io.cwd,
    overrides: overridesFrom(flags),
    env: io.env,
    version,
    log: (line) => output.info(line),
  });
  const transport = new StdioServerTransport(io.stdin as Readable, io.stdout as Writable);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    io.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  output.info(`smol MCP server on stdio for ${specArg ?? DEFAULT_SPEC}`);
  await closed;
  await server.close();
  return 0;
}
