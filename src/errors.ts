/**
 * An error that will fail every other call of a run the same way (a bad key, no credit, no such model, a
 * budget reached), so the run stops instead of trying each file. `stop-calls`: calls in flight are not
 * worth finishing either; `finish-calls`: they are (a budget stop: they are paid for, within the budget,
 * and their answers are cached for the next run). Decided where the error is made.
 */
export type RunWide = 'stop-calls' | 'finish-calls';

/**
 * Two kinds of error (style.md): user errors carry a string `code` and an exit code and are printed
 * without a stack; anything else is a bug and is printed with its stack.
 */
export class SmolError extends Error {
  override readonly name: string = 'SmolError';
  /** Stable machine-readable code, e.g. `SPEC_INVALID`, `PROVIDER_AUTH`. */
  readonly code: string;
  /** 1 = the run failed, 2 = bad usage or a bad spec, 130 = cancelled by the user. */
  readonly exitCode: 1 | 2 | 130;
  /** What the user should do next. */
  readonly hint: string | undefined;
  /** Set when this error fails the whole run, not just one file (see {@link RunWide}). */
  readonly runWide: RunWide | undefined;

  constructor(
    code: string,
    message: string,
    options: { exitCode?: 1 | 2 | 130; hint?: string | undefined; cause?: unknown; runWide?: RunWide | undefined } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
    this.runWide = options.runWide;
  }
}

/** One problem found in a spec file. */
export interface SpecIssue {
  /** Frontmatter key path (`rateLimit.rpm`), or `body` / `frontmatter` for whole-file problems. */
  key: string;
  message: string;
  /** What was received, already rendered for humans (never a secret). */
  received?: string;
  /** What is allowed. */
  expected?: string;
  /** Path of the spec file as given by the user. */
  file: string;
  /** 1-based line in the spec file. */
  line: number;
}

export class SpecError extends SmolError {
  override readonly name = 'SpecError';
  readonly issues: SpecIssue[];

  /** `hint` says what to fix; by default the spec (problems in command-line flags say to fix the flag). */
  constructor(issues: SpecIssue[], hint = 'Fix the spec and run again; `smol init` writes a documented example.') {
    super('SPEC_INVALID', issues.map(formatSpecIssue).join('\n'), { exitCode: 2, hint });
    this.issues = issues;
  }
}

function formatSpecIssue(issue: SpecIssue): string {
  const detail = [
    issue.received === undefined ? undefined : `got ${issue.received}`,
    issue.expected === undefined ? undefined : `expected ${issue.expected}`,
  ].filter((part) => part !== undefined);
  const suffix = detail.length > 0 ? ` (${detail.join(', ')})` : '';
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  return `${issue.key}: ${issue.message}${suffix} at ${where}`;
}

export function isSmolError(error: unknown): error is SmolError {
  return error instanceof SmolError;
}
