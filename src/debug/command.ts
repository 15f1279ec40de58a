import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { withoutCredentials, type Env } from './credentials.js';

export interface CommandResult {
  command: string;
  /** The command's exit code; null when a signal ended it. */
  exitCode: number | null;
  /** The signal that ended the command (SIGKILL after `checkTimeout` or a cancel), else null. */
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved as they came, the last `MAX_OUTPUT` characters. */
  output: string;
  timedOut: boolean;
  durationMs: number;
}

const MAX_OUTPUT = 200_000;
// After the command's own process exits, how long to keep reading output that is still in the pipe. A
// process it started in the background (a server, `setsid sleep 30 &`) can hold the pipe open forever.
const OUTPUT_GRACE_MS = 500;

/**
 * Runs a shell command in `cwd`, capturing its output, in an environment without smol's credentials.
 * It is done when the command's own process exits: whatever it left running in its process group is
 * stopped then, and a process that escaped the group (a new session) is no longer waited for. A command
 * that outlives `timeoutMs` (or the signal) is killed with its whole process group.
 */
export function runCommand(
  command: string,
  options: {
    cwd: string;
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    env: Env;
    onOutput?: ((chunk: string) => void) | undefined;
  },
): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawnInGroup(command, options.cwd, options.env);
    const output = captureOutput(child, options.onOutput);
    let timedOut = false;
    let exit: ExitStatus | undefined;
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      options.signal?.removeEventListener('abort', stop);
      child.stdout.destroy();
      child.stderr.destroy();
      const ended = { exit, timedOut, timeoutMs: options.timeoutMs, durationMs: Date.now() - started };
      resolve(commandResult(command, output.text(), ended));
    };
    let grace: NodeJS.Timeout | undefined;
    // The group goes, and the output still in the pipe is read for a moment (a process stuck in the kernel
    // may not even die of SIGKILL at once: do not wait for it forever).
    const stop = (): void => {
      killGroup(child);
      grace ??= setTimeout(settle, OUTPUT_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    if (options.signal?.aborted === true) stop();
    else options.signal?.addEventListener('abort', stop, { once: true });

    child.on('error', (error) => {
      output.add(`\n${error.message}`);
      // A command that could not start at all (the folder is missing) will not exit: it is done now.
      if (child.pid === undefined) settle();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      clearTimeout(timer);
      // What the command left running (a background server) goes with it.
      stop();
    });
    // All output read: the normal end, without waiting out the grace.
    child.on('close', settle);
  });
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** stdout and stderr interleaved as they come, the last `MAX_OUTPUT` characters kept. */
function captureOutput(
  child: ChildProcessByStdio<null, Readable, Readable>,
  onOutput: ((chunk: string) => void) | undefined,
): { add(text: string): void; text(): string } {
  let output = '';
  const add = (text: string): void => {
    onOutput?.(text);
    output = (output + text).slice(-MAX_OUTPUT);
  };
  for (const stream of [child.stdout, child.stderr]) stream.setEncoding('utf8').on('data', add);
  return { add, text: () => output };
}

function commandResult(
  command: string,
  output: string,
  ended: { exit: ExitStatus | undefined; timedOut: boolean; timeoutMs: number; durationMs: number },
): CommandResult {
  const { exit, timedOut, durationMs } = ended;
  if (!timedOut)
    return { command, exitCode: exit?.code ?? null, signal: exit?.signal ?? null, output, timedOut, durationMs };
  const note = `\n[smol: killed after ${Math.round(ended.timeoutMs / 1000)}s (checkTimeout)]`;
  return { command, exitCode: null, signal: exit?.signal ?? 'SIGKILL', output: output + note, timedOut, durationMs };
}

/** The command in a shell of its own process group, so a timeout or a cancel can kill everything it started. */
function spawnInGroup(command: string, cwd: string, env: Env): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(command, {
    cwd,
    shell: true,
    detached: process.platform !== 'win32',
    env: withoutCredentials(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill('SIGKILL');
    else process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
