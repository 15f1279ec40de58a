import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BIN } from './cli.js';

export interface JsonEvent {
  type: string;
  [key: string]: unknown;
}

/** A CLI subprocess printing NDJSON, with a way to wait for the event a test expects (never a fixed sleep). */
export interface WatchedProcess {
  child: ChildProcessWithoutNullStreams;
  events: JsonEvent[];
  stderr: () => string;
  /** Resolves with the first event (at or after `from`) that matches. */
  waitFor(predicate: (event: JsonEvent) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<JsonEvent>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function startJsonProcess(args: string[], options: { cwd: string; env: Record<string, string> }): WatchedProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, NO_COLOR: '1', ...options.env },
  });
  const events: JsonEvent[] = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== '') events.push(JSON.parse(line) as JsonEvent);
      newline = buffer.indexOf('\n');
    }
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    events,
    stderr: () => stderr,
    exited,
    waitFor(predicate, waitOptions = {}) {
      const from = waitOptions.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = events.slice(from).find(predicate);
          if (found === undefined) return false;
          listeners.delete(listener);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const listener = (): void => void check();
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`timed out waiting for an event; got: ${events.map((event) => event.type).join(', ')}\nstderr: ${stderr}`));
        }, waitOptions.timeoutMs ?? 15_000);
        listeners.add(listener);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
