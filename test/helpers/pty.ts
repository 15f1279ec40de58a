import { stripVTControlCharacters } from 'node:util';
import { spawn, type IPty } from 'node-pty';
import { BIN } from './cli.js';

/** The CLI in a pseudo-terminal, as a person at a keyboard would run it. */
export interface Terminal {
  pty: IPty;
  screen: () => string;
  type(keys: string): void;
  /** Resolves when the screen text (colours stripped, since `from`) matches; returns the offset after it. */
  waitFor(pattern: RegExp, options?: { from?: number; timeoutMs?: number }): Promise<number>;
  exited: Promise<number>;
}

export function startTerminal(args: string[], options: { cwd: string; env: Record<string, string> }): Terminal {
  const pty = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    cols: 120,
    rows: 40,
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, TERM: 'xterm-256color', ...options.env },
  });
  let output = '';
  const listeners = new Set<() => void>();
  pty.onData((data) => {
    output += data;
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    pty,
    screen: () => stripVTControlCharacters(output),
    type: (keys) => pty.write(keys),
    waitFor(pattern, waitOptions = {}) {
      const from = waitOptions.from ?? 0;
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const text = stripVTControlCharacters(output).slice(from);
          const match = pattern.exec(text);
          if (match === null) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(from + match.index + match[0].length);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`timed out waiting for ${pattern}; screen:\n${stripVTControlCharacters(output).slice(-2000)}`),
          );
        }, waitOptions.timeoutMs ?? 15_000);
        listeners.add(check);
        check();
      });
    },
    exited,
  };
}
