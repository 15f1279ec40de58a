import { createDaemon, type Daemon } from '../../watch/daemon.js';
import { filesBehind } from '../../watch/hand-edits.js';
import { findSpec } from '../find-spec.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import type { CommandContext } from '../program.js';
import { canReview } from '../review-flow.js';
import { createWatchRenderer } from '../watch-render.js';
import { runWatchSession } from '../watch-session.js';

/**
 * `smol watch [spec]`: the daemon, with keys on a terminal (watch-session.ts). With `--json` the only keys
 * are `q` and Ctrl+C, and nothing typed is echoed into the event stream.
 */
export async function watchCommand(
  context: CommandContext,
  specArg: string | undefined,
  flags: ModelFlags & { json?: boolean; pager?: boolean },
): Promise<number> {
  const { io, output } = context;
  const json = flags.json === true;
  const interactive = !json && canReview(io);
  const renderer = createWatchRenderer(io, output, { json, interactive });
  const daemon: Daemon = createDaemon({
    specFile: (await findSpec(specArg, io.cwd)).display,
    cwd: io.cwd,
    overrides: overridesFrom(flags),
    env: io.env,
    onEvent: renderer.onEvent,
    // `smol watch --json > log` inside outDir: the log is the daemon's own output, never a hand edit.
    ownFiles: filesBehind(
      [descriptorOf(io.stdout), descriptorOf(io.stderr)].filter((fd): fd is number => fd !== undefined),
    ),
  });

  const pager = flags.pager !== false;
  return runWatchSession({ io, output, daemon, stopRendering: renderer.stop, json, interactive, pager });
}

/** The file descriptor behind a stream, when it has one (process.stdout does; test streams do not). */
function descriptorOf(stream: unknown): number | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  return typeof fd === 'number' ? fd : undefined;
}
