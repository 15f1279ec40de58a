import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { DEFAULT_SPEC } from '../context.js';
import type { CliIO, Output } from '../io.js';
import { addModelFlags, overridesFrom, type ModelFlags } from '../options.js';

export function registerMcp(program: Command, io: CliIO, output: Output, version: string): void {
  addModelFlags(
    program
      .command('mcp [spec]')
      .description('serve the Model Context Protocol over stdio (tools: plan, diff, apply, status, run); logs go to stderr'),
  ).action(async (specArg: string | undefined, flags: ModelFlags) => {
    // The MCP SDK is loaded only by this command, so other commands start faster.
    const [{ createMcpServer }, { StdioServerTransport }] = await Promise.all([
      import('../../server/mcp/server.js'),
      import('@modelcontextprotocol/sdk/server/stdio.js'),
    ]);
    const server = createMcpServer({
      specFile: specArg ?? DEFAULT_SPEC,
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
  });
}
