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

/** The global flags that shape output: `--quiet` and `--no-color`. */
export interface OutputOptions {
  /** `--quiet`: drop info lines (progress, summaries, notes); errors, warnings and results stay. */
  quiet?: boolean | undefined;
  /** `--no-color` sets this to false: no colour whatever the terminal or FORCE_COLOR say. */
  color?: boolean | undefined;
}

/**
 * Colour only on a terminal, honouring NO_COLOR and FORCE_COLOR (https://no-color.org); `--no-color`
 * (`color: false`) wins over both.
 */
export function colorsFor(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined>,
  color?: boolean,
): Colors {
  const forced = env.FORCE_COLOR;
  let enabled = stream.isTTY === true && env.TERM !== 'dumb';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') enabled = false;
  if (forced !== undefined) enabled = forced !== '0' && forced !== 'false';
  if (color === false) enabled = false;
  return picocolors.createColors(enabled);
}

/** Human output goes to stderr (so `--json` owns stdout); results meant for piping go to stdout. */
export interface Output {
  colors: Colors;
  /** A line for humans (stderr); dropped with `--quiet`. */
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** A line that belongs to an error or a warning (its hint): kept with `--quiet`. */
  detail(line: string): void;
  /** Result text (stdout). */
  result(text: string): void;
  /** One NDJSON record (stdout). */
  json(value: unknown): void;
  /** Whether live progress may be drawn on stderr (a terminal, and not `--quiet`). */
  isTTY: boolean;
  quiet: boolean;
}

export function createOutput(io: CliIO, options: OutputOptions = {}): Output {
  const colors = colorsFor(io.stderr, io.env, options.color);
  const quiet = options.quiet === true;
  const stdout = closablePipe(io.stdout);
  const stderr = closablePipe(io.stderr);
  return {
    colors,
    isTTY: io.stderr.isTTY === true && !quiet,
    quiet,
    info: quiet ? () => {} : (line) => stderr(`${line}\n`),
    detail: (line) => stderr(`${line}\n`),
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
