import { isSmolError } from '../errors.js';
import type { Daemon } from '../watch/daemon.js';
import { isClosedPipe, type CliIO, type Output } from './io.js';
import { createPager, type Pager } from './pager.js';
import { applyKey, diffKey, forceKey, helpText, leftStaged, reviewKey, type KeyContext } from './watch-keys.js';

export interface WatchSessionOptions {
  io: CliIO;
  output: Output;
  daemon: Daemon;
  /** Stops the renderer's timers and clears its live lines. */
  stopRendering: () => void;
  /** With `--json` the only keys are `q` and Ctrl+C, and nothing typed is echoed into the event stream. */
  json: boolean;
  /** Keys beyond `q` and Ctrl+C (a terminal, without `--json`). */
  interactive: boolean;
  /** False with `--no-pager`. */
  pager: boolean;
}

/**
 * `smol watch` in the foreground until it exits: signals, keys, the pager, and closing once. Resolves the
 * exit code: 0 on `q`, SIGTERM or a closed stdout; 130 on Ctrl+C with nothing to cancel (or twice); 2 when
 * the daemon cannot start.
 */
export function runWatchSession(options: WatchSessionOptions): Promise<number> {
  return new Promise<number>((resolve) => new WatchSession(options, resolve).start());
}

class WatchSession {
  private exiting = false;
  private interrupts = 0;
  /** A key's action is running: keys typed meanwhile wait. */
  private busy = false;
  /** The pager owns the terminal. */
  private paging = false;
  /** One controller per key action: quitting while it waits for a key or a pager ends it. */
  private action = new AbortController();
  private readonly options: WatchSessionOptions;
  private readonly resolve: (code: number) => void;
  private readonly pager: Pager;
  private readonly readsKeys: boolean;

  constructor(options: WatchSessionOptions, resolve: (code: number) => void) {
    this.options = options;
    this.resolve = resolve;
    const { io, json, interactive } = options;
    this.readsKeys = interactive || (json && io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function');
    this.pager = createPager(io, { noPager: !options.pager, fallback: (text) => io.stderr.write(text) });
  }

  start(): void {
    const { io, output, daemon } = this.options;
    process.on('SIGINT', this.onInterrupt);
    process.on('SIGTERM', this.onTerminate);
    io.stdout.on('error', this.onPipeClosed);
    daemon.ready.then(this.attachKeys, (error: unknown) => {
      output.error(describeStartError(error));
      void this.exit(2);
    });
  }

  /** Closes once: ends a key action, stops reading keys and rendering, closes the daemon, says what is left. */
  private readonly exit = async (code: number): Promise<void> => {
    if (this.exiting) return;
    this.exiting = true;
    const { io, output, daemon } = this.options;
    this.action.abort();
    this.detachKeys();
    io.stdout.off('error', this.onPipeClosed);
    this.options.stopRendering();
    await daemon.close();
    const left = leftStaged(await daemon.staged().catch(() => undefined));
    if (left !== undefined) output.info(left);
    // Only now: write-file-atomic's signal-exit also listens for SIGINT, and re-raises the signal when it
    // finds itself the last listener, which killed the process mid-close instead of exiting with 130.
    process.off('SIGINT', this.onInterrupt);
    process.off('SIGTERM', this.onTerminate);
    this.resolve(code);
  };

  private readonly onInterrupt = (): void => {
    // Ctrl+C inside the pager is the pager's (git ignores it too); while closing, closing goes on.
    if (this.paging || this.exiting) return;
    this.interrupts += 1;
    // Once cancels the run in flight; twice (or once when idle) exits.
    if (this.interrupts === 1 && this.options.daemon.cancel()) {
      const { output } = this.options;
      if (!this.options.json) output.info(output.colors.yellow('cancelling the run… (Ctrl+C again to exit)'));
      return;
    }
    void this.exit(130);
  };

  private readonly onTerminate = (): void => void this.exit(0);

  private readonly onPipeClosed = (error: unknown): void => {
    if (isClosedPipe(error)) void this.exit(0);
  };

  private readonly onKey = (chunk: Buffer | string): void => {
    if (this.busy) return;
    const { output } = this.options;
    for (const key of chunk.toString()) {
      if (key === '\u0003') this.onInterrupt();
      else if (key === 'q') void this.exit(0);
      else if (!this.options.interactive) continue;
      else if (key === 'h' || key === '?') output.info(helpText(output));
      else if (key === 'a') void this.withKeysPaused(applyKey);
      else if (key === 'r') void this.withKeysPaused(reviewKey);
      else if (key === 'd') void this.withKeysPaused(diffKey);
      else if (key === 'f') void this.withKeysPaused(forceKey);
    }
  };

  private readonly attachKeys = (): void => {
    if (!this.readsKeys || this.exiting) return;
    const { stdin } = this.options.io;
    stdin.setRawMode?.(true);
    stdin.on('data', this.onKey);
    stdin.resume();
  };

  private detachKeys(): void {
    if (!this.readsKeys) return;
    const { stdin } = this.options.io;
    stdin.off('data', this.onKey);
    stdin.setRawMode?.(false);
    stdin.pause();
  }

  /** Runs a key's action; keys typed meanwhile wait (in raw mode, so they are not echoed) and run after it. */
  private async withKeysPaused(run: (context: KeyContext) => Promise<void>): Promise<void> {
    const { io, output, daemon } = this.options;
    this.busy = true;
    io.stdin.off('data', this.onKey);
    io.stdin.pause();
    this.action = new AbortController();
    try {
      await run({ io, output, daemon, page: this.page, signal: this.action.signal });
    } catch (error) {
      output.error(error instanceof Error ? error.message : String(error));
    } finally {
      this.busy = false;
      this.attachKeys();
    }
  }

  private readonly page = async (text: string): Promise<void> => {
    const { stdin } = this.options.io;
    // The pager owns the terminal meanwhile: cooked mode, and Ctrl+C is its own.
    this.paging = true;
    const raw = stdin.isTTY === true && (stdin as { isRaw?: boolean }).isRaw === true;
    if (raw) stdin.setRawMode?.(false);
    try {
      await this.pager(text, this.action.signal);
    } finally {
      this.paging = false;
      if (raw && !this.exiting) stdin.setRawMode?.(true);
    }
  };
}

function describeStartError(error: unknown): string {
  if (isSmolError(error) && error.hint !== undefined) return `${error.message}\n${error.hint}`;
  return error instanceof Error ? error.message : String(error);
}
