import { spawn } from 'node:child_process';

export interface CommandResult {
  command: string;
  exitCode: number | null;
  /** stdout and stderr interleaved as they came, the last `maxOutput` characters. */
  output: string;
  timedOut: boolean;
  durationMs: number;
}

const MAX_OUTPUT = 200_000;

/**
 * Runs a shell command in `cwd`, capturing its output. A command that outlives `timeoutMs` (or the
 * signal) is killed with its whole process group, so a hanging test runner cannot keep children alive.
 */
export function runCommand(
  command: string,
  options: { cwd: string; timeoutMs: number; signal?: AbortSignal; env?: NodeJS.ProcessEnv; onOutput?: (chunk: string) => void },
): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, { cwd: options.cwd, shell: true, detached: true, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString();
      options.onOutput?.(text);
      output = (output + text).slice(-MAX_OUTPUT);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = (): void => killGroup();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      output += `\n${error.message}`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (timedOut) output += `\n[smol: killed after ${Math.round(options.timeoutMs / 1000)}s (checkTimeout)]`;
      resolve({ command, exitCode: timedOut ? null : code, output, timedOut, durationMs: Date.now() - started });
    });
  });
}
