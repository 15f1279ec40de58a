import { isSmolError } from '../../errors.js';
import { createDaemon, type Daemon } from '../../watch/daemon.js';
import { filesBehind } from '../../watch/hand-edits.js';
import { findSpec } from '../find-spec.js';
import { isClosedPipe } from '../io.js';
import { overridesFrom, type ModelFlags } from '../options.js';
import { createPager } from '../pager.js';
import type { CommandContext } from '../program.js';
import { canReview } from '../review-flow.js';
import { applyKey, diffKey, forceKey, helpText, leftStaged, reviewKey, type KeyContext } from '../watch-keys.js';
import { createWatchRenderer } from '../watch-render.js';

/**
 * `smol watch [spec]`: the daemon, with keys on a terminal. With `--json` the only keys are `q` and
 * Ctrl+C, and nothing typed is echoed into the event stream.
 */
export async function watchCommand(context: CommandContext, specArg: string | undefined, flags: ModelFlags & { json?: boolean; pager?: boolean }): Promise<number> {
  const { io, output } = context;
  const json = flags.json === true;
  const interactive = !json && canReview(io);
  const readsKeys = interactive || (json && io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function');
  const renderer = createWatchRenderer(io, output, { json, interactive });
  const daemon: Daemon = createDaemon({
    specFile: (await findSpec(specArg, io.cwd)).display,
    cwd: io.cwd,
    overrides: overridesFrom(flags),
    env: io.env,
    onEvent: renderer.onEvent,
    // `smol watch --json > log` inside outDir: the log is the daemon's own output, never a hand edit.
    ownFiles: filesBehind([descriptorOf(io.stdout), descriptorOf(io.stderr)].filter((fd): fd is number => fd !== undefined)),
  });

  return new Promise<number>((resolve) => {
    let exiting = false;
    let interrupts = 0;
    let busy = false;
    let paging = false;
    const pager = createPager(io, { noPager: flags.pager === false, fallback: (text) => io.stderr.write(text) });
    // One controller per key action: quitting while it waits for a key or a pager ends it.
    let action = new AbortController();
    const page = async (text: string): Promise<void> => {
      // The pager owns the terminal meanwhile: cooked mode, and Ctrl+C is its own.
      paging = true;
      const raw = io.stdin.isTTY === true && (io.stdin as { isRaw?: boolean }).isRaw === true;
      if (raw) io.stdin.setRawMode?.(false);
      try {
        await pager(text, action.signal);
      } finally {
        paging = false;
        if (raw && !exiting) io.stdin.setRawMode?.(true);
      }
    };

    const finish = async (code: number): Promise<void> => {
      if (exiting) return;
      exiting = true;
      action.abort();
      detachKeys();
      io.stdout.off('error', onPipeClosed);
      renderer.stop();
      await daemon.close();
      const left = leftStaged(await daemon.staged().catch(() => undefined));
      if (left !== undefined) output.info(left);
      // Only now: write-file-atomic's signal-exit also listens for SIGINT, and re-raises the signal when it
      // finds itself the last listener, which killed the process mid-close instead of exiting with 130.
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      resolve(code);
    };
    const onInterrupt = (): void => {
      // Ctrl+C inside the pager is the pager's (git ignores it too); while closing, closing goes on.
      if (paging || exiting) return;
      interrupts += 1;
      // Once cancels the run in flight; twice (or once when idle) exits.
      if (interrupts === 1 && daemon.cancel()) {
        if (!json) output.info(output.colors.yellow('cancelling the run… (Ctrl+C again to exit)'));
        return;
      }
      void finish(130);
    };
    const onTerminate = (): void => void finish(0);
    const onPipeClosed = (error: unknown): void => {
      if (isClosedPipe(error)) void finish(0);
    };
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onTerminate);
    io.stdout.on('error', onPipeClosed);

    const onKey = (chunk: Buffer | string): void => {
      if (busy) return;
      for (const key of chunk.toString()) {
        if (key === '\u0003') onInterrupt();
        else if (key === 'q') void finish(0);
        else if (!interactive) continue;
        else if (key === 'h' || key === '?') output.info(helpText(output));
        else if (key === 'a') void withKeysPaused(applyKey);
        else if (key === 'r') void withKeysPaused(reviewKey);
        else if (key === 'd') void withKeysPaused(diffKey);
        else if (key === 'f') void withKeysPaused(forceKey);
      }
    };
    const attachKeys = (): void => {
      if (!readsKeys || exiting) return;
      io.stdin.setRawMode?.(true);
      io.stdin.on('data', onKey);
      io.stdin.resume();
    };
    const detachKeys = (): void => {
      if (!readsKeys) return;
      io.stdin.off('data', onKey);
      io.stdin.setRawMode?.(false);
      io.stdin.pause();
    };
    /** Runs a key's action; keys typed meanwhile wait (in raw mode, so they are not echoed) and run after it. */
    const withKeysPaused = async (run: (context: KeyContext) => Promise<void>): Promise<void> => {
      busy = true;
      io.stdin.off('data', onKey);
      io.stdin.pause();
      action = new AbortController();
      try {
        await run({ io, output, daemon, page, signal: action.signal });
      } catch (error) {
        output.error(error instanceof Error ? error.message : String(error));
      } finally {
        busy = false;
        attachKeys();
      }
    };

    daemon.ready.then(attachKeys, (error: unknown) => {
      output.error(isSmolError(error) && error.hint !== undefined ? `${error.message}\n${error.hint}` : error instanceof Error ? error.message : String(error));
      void finish(2);
    });
  });
}

/** The file descriptor behind a stream, when it has one (process.stdout does; test streams do not). */
function descriptorOf(stream: unknown): number | undefined {
  const fd = (stream as { fd?: unknown }).fd;
  return typeof fd === 'number' ? fd : undefined;
}
