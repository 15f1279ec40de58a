import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { Watched } from './daemon.js';
import { createEventLog } from './event-stream.js';

/** A keyboard for `smol watch --json`: a stdin that says it is a terminal, so the daemon reads `q`. */
class Keyboard extends PassThrough {
  isTTY = true;
  isRaw = false;
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    return this;
  }
}

/** A stream that hands every chunk written to `sink`. */
function collector(sink: (chunk: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      sink(chunk.toString());
      callback();
    },
  });
}

/**
 * `smol watch --json …` (or another long-running `--json` command) in this process, through
 * `main(argv, io)`: the same daemon, chokidar watcher and CLI code as the bin, without a Node start.
 * `stop()` types `q`, as a user at the keyboard would. Tests of signals, of a real stdout file and of the
 * human output keep `startJsonProcess`.
 */
export function startInProcess(args: string[], options: { cwd: string; env: Record<string, string> }): Watched {
  const log = createEventLog();
  const stdin = new Keyboard();
  const exited = main(args, {
    stdin,
    stdout: collector((chunk) => log.stdout(chunk)),
    stderr: collector((chunk) => log.stderrChunk(chunk)),
    env: { PATH: process.env.PATH ?? '', HOME: options.cwd, NO_COLOR: '1', ...options.env },
    cwd: options.cwd,
  });
  return {
    ...log,
    exited,
    async stop() {
      stdin.write('q');
      return exited;
    },
  };
}
