import picocolors from 'picocolors';

/** The process edges the CLI talks to; tests pass their own. */
export interface CliIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  cwd: string;
  /**
   * When the command started, on the `performance.now()` clock: the bin passes 0, the process's start, so
   * the run summary's time is what the user waited. Omitted in-process (tests, embedding).
   */
  startedAt?: number | undefined;
}

export type Colors = ReturnType<typeof picocolors.createColors>;

/** Colour only on a terminal, honouring NO_COLOR and FORCE_COLOR (https://no-color.org). */
export function colorsFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Colors {
  const forced = env.FORCE_COLOR;
  let enabled = stream.isTTY === true && env.TERM !== 'dumb';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') enabled = false;
  if (forced !== undefined) enabled = forced !== '0' && forced !== 'false';
  return picocolors.createColors(enabled);
}

/** Human output goes to stderr (so `--json` owns stdout); results meant for piping go to stdout. */
export interface Output {
  colors: Colors;
  /** A line for humans (stderr). */
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** Result text (stdout). */
  result(text: string): void;
  /** One NDJSON record (stdout). */
  json(value: unknown): void;
  isTTY: boolean;
}

export function createOutput(io: CliIO): Output {
  const colors = colorsFor(io.stderr, io.env);
  const stdout = closablePipe(io.stdout);
  const stderr = closablePipe(io.stderr);
  return {
    colors,
    isTTY: io.stderr.isTTY === true,
    info: (line) => stderr(`${line}\n`),
    warn: (line) => stderr(`${colors.yellow('warning')} ${line}\n`),
    error: (line) => stderr(`${colors.red('error')} ${line}\n`),
    result: (text) => stdout(text.endsWith('\n') ? text : `${text}\n`),
    json: (value) => stdout(`${JSON.stringify(value)}\n`),
  };
}

/** True for the error a write gets once the reader of a pipe has gone (`smol status | head -1`). */
export function isClosedPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}

/**
 * A writer that goes quiet once the reader has closed the pipe: the command ends without `write EPIPE`
 * and a stack (commands that run on, like `watch`, stop on their own when they see it).
 */
function closablePipe(stream: CliIO['stdout']): (text: string) => void {
  let closed = false;
  stream.on('error', (error: unknown) => {
    if (!isClosedPipe(error)) throw error;
    closed = true;
  });
  return (text) => {
    if (!closed && stream.writable !== false) stream.write(text);
  };
}
