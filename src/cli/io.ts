import picocolors from 'picocolors';

/** The process edges the CLI talks to; tests pass their own. */
export interface CliIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  cwd: string;
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
  return {
    colors,
    isTTY: io.stderr.isTTY === true,
    info: (line) => io.stderr.write(`${line}\n`),
    warn: (line) => io.stderr.write(`${colors.yellow('warning')} ${line}\n`),
    error: (line) => io.stderr.write(`${colors.red('error')} ${line}\n`),
    result: (text) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    json: (value) => io.stdout.write(`${JSON.stringify(value)}\n`),
  };
}
