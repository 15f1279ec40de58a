import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { BIN } from './cli.js';
import { createEventLog, type EventLog } from './event-stream.js';

export type { JsonEvent } from './event-stream.js';

/** A long-running `--json` command (the watch daemon), stopped by `stop()` as a user would stop it. */
export interface Watched extends EventLog {
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

/** A CLI subprocess printing NDJSON: for what needs the process itself (signals, exit, two processes). */
export interface WatchedProcess extends Watched {
  child: ChildProcess;
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
  const log = createEventLog();
  child.stderr!.on('data', (chunk: Buffer) => log.stderrChunk(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let tail: NodeJS.Timeout | undefined;
  if (options.stdoutFile === undefined) {
    child.stdout!.on('data', (chunk: Buffer) => log.stdout(chunk.toString()));
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
            log.stdout(content.subarray(offset).toString());
            offset = content.length;
          }
        })
        .finally(() => (reading = false));
    }, 50);
    void exited.then(() => clearInterval(tail));
  }
  return {
    ...log,
    child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      if (tail !== undefined) clearInterval(tail);
      return code;
    },
  };
}
