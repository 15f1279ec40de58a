import { spawn } from 'node:child_process';
import type { CliIO } from './io.js';

/** Shows text longer than the screen through the user's pager (as git does); else writes it. */
export type Pager = (text: string, signal?: AbortSignal) => Promise<void>;

/** What `sh` answers when the command does not exist. */
const COMMAND_NOT_FOUND = 127;

/**
 * The pager command, or undefined when there must be none: `--no-pager`, output that is not a terminal,
 * no keyboard, or `PAGER` set to `cat` or nothing. `SMOL_PAGER` wins over `PAGER`; the default is `less`.
 */
function pagerCommand(io: CliIO, noPager: boolean): string | undefined {
  if (noPager || io.stdout.isTTY !== true || io.stdin.isTTY !== true) return undefined;
  const command = (io.env.SMOL_PAGER ?? io.env.PAGER ?? 'less').trim();
  return command === '' || command === 'cat' ? undefined : command;
}

/**
 * A pager for this terminal: text that fits the screen is written with `fallback`; longer text is piped to
 * the pager (run through the shell, as git runs `PAGER`), and written with `fallback` if it cannot start.
 * The caller stops reading keys while it runs: the pager reads the terminal itself.
 */
export function createPager(io: CliIO, options: { noPager: boolean; fallback: (text: string) => void }): Pager {
  const command = pagerCommand(io, options.noPager);
  return async (text, signal) => {
    const rows = (io.stdout as { rows?: number }).rows ?? 24;
    if (command === undefined || text.split('\n').length < rows - 1) return options.fallback(text);
    const shown = await runPager(command, text, io.env, signal);
    if (!shown && signal?.aborted !== true) options.fallback(text);
  };
}

/** Pipes `text` to `command`; false when it could not be started. Aborting `signal` ends the pager. */
function runPager(command: string, text: string, env: CliIO['env'], signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    // git's defaults: quit if one screen, keep colours, do not clear the screen on exit.
    const child = spawn(command, {
      shell: true,
      stdio: ['pipe', 'inherit', 'inherit'],
      env: { LESS: 'FRX', LV: '-c', ...env },
      ...(signal === undefined ? {} : { signal }),
    });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code !== COMMAND_NOT_FOUND));
    // The reader may quit before reading everything (`q` in less): that is not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(text);
  });
}
