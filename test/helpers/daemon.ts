import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BIN } from './cli.js';

export interface JsonEvent {
  type: string;
  [key: string]: unknown;
}

/** A CLI subprocess printing NDJSON, with a way to wait for the event a test expects (never a fixed sleep). */
export interface WatchedProcess {
  child: ChildProcess;
  events: JsonEvent[];
  /** The raw NDJSON lines, as printed. */
  lines: string[];
  stderr: () => string;
  /** Resolves with the first event (at or after `from`) that matches. */
  waitFor(predicate: (event: JsonEvent) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<JsonEvent>;
  /** Resolves when stderr (from offset `from`) matches; returns the offset after the match. */
  waitForText(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<number>;
  /**
   * Waits until the daemon is idle and `caughtUp()` holds: after each `watch-idle` from `from` on, asks
   * again; a daemon that stops short (issue 19) never says idle again and the wait times out.
   */
  waitForConvergence(caughtUp: () => Promise<boolean>, options?: { from?: number; timeoutMs?: number }): Promise<void>;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export interface StartOptions {
  cwd: string;
  env: Record<string, string>;
  /** Send stdout to this file (as `smol watch --json > log` does) and read the events from it. */
  stdoutFile?: string;
}

export function startJsonProcess(args: string[], options: StartOptions): WatchedProcess {
  const logFd = options.stdoutFile === undefined ? undefined : openSync(options.stdoutFile, 'a');
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, NO_COLOR: '1', ...options.env },
    stdio: ['pipe', logFd ?? 'pipe', 'pipe'],
  });
  if (logFd !== undefined) closeSync(logFd);
  const events: JsonEvent[] = [];
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const listener of listeners) listener();
  };
  let buffer = '';
  const take = (text: string): void => {
    buffer += text;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== '') {
        lines.push(line);
        events.push(JSON.parse(line) as JsonEvent);
      }
      newline = buffer.indexOf('\n');
    }
  };
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    notify();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let tail: NodeJS.Timeout | undefined;
  if (options.stdoutFile === undefined) {
    child.stdout!.on('data', (chunk: Buffer) => {
      take(chunk.toString());
      notify();
    });
  } else {
    // The events go to a file: read what was appended since the last look, a few times a second.
    const file = options.stdoutFile;
    let offset = 0;
    let reading = false;
    tail = setInterval(() => {
      if (reading) return;
      reading = true;
      void readFile(file)
        .then((content) => {
          if (content.length > offset) {
            take(content.subarray(offset).toString());
            offset = content.length;
            notify();
          }
        })
        .finally(() => (reading = false));
    }, 50);
    void exited.then(() => clearInterval(tail));
  }

  const wait = <T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> =>
    new Promise((resolve, reject) => {
      const listener = (): void => {
        const found = check();
        if (found === undefined) return;
        listeners.delete(listener);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`${describe()}\nevents: ${events.map((event) => event.type).join(', ')}\nstderr: ${stderr.slice(-3000)}`));
      }, timeoutMs);
      listeners.add(listener);
      listener();
    });

  const watched: WatchedProcess = {
    child,
    events,
    lines,
    stderr: () => stderr,
    exited,
    waitFor(predicate, waitOptions = {}) {
      const from = waitOptions.from ?? 0;
      return wait(() => events.slice(from).find(predicate), waitOptions.timeoutMs ?? 15_000, () => 'timed out waiting for an event');
    },
    waitForText(pattern, waitOptions = {}) {
      const from = waitOptions.from ?? 0;
      return wait(
        () => {
          const match = pattern.exec(stderr.slice(from));
          return match === null ? undefined : from + match.index + match[0].length;
        },
        waitOptions.timeoutMs ?? 15_000,
        () => `timed out waiting for ${pattern} on stderr`,
      );
    },
    async waitForConvergence(caughtUp, waitOptions = {}) {
      let from = waitOptions.from ?? 0;
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 30_000);
      for (;;) {
        const index = events.slice(from).findIndex((event) => event.type === 'watch-idle');
        if (index === -1) {
          await watched.waitFor((event) => event.type === 'watch-idle', { from, timeoutMs: Math.max(1, deadline - Date.now()) });
          continue;
        }
        from += index + 1;
        if (await caughtUp()) return;
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      if (tail !== undefined) clearInterval(tail);
      return code;
    },
  };
  return watched;
}
