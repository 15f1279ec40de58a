import path from 'node:path';
import { includeRoot, MAX_SPEC_TEXT_BYTES, readSpecText, realInside } from './read-text.js';
import { SmolError, SpecError, type SpecIssue } from '../errors.js';
import { splitSpec } from './frontmatter.js';
import { formatKeyPath, toSpecIssues, type SettingsSource } from './issues.js';
import { keyLineLocator } from './lines.js';
import { closestName, renderValue } from './render.js';
import { specSettingsKeys, specSettingsSchema, type SpecSettings, type SpecSettingsInput } from './schema.js';
import { parseSections } from './sections.js';
import type { IncludedFile, Spec } from './types.js';

/**
 * Settings that override the frontmatter, typically from command-line flags. Keys set to `undefined`
 * are ignored, so a CLI can pass its parsed options straight through.
 */
export type SpecOverrides = { [K in keyof SpecSettingsInput]?: SpecSettingsInput[K] | undefined };

export interface ParseSpecOptions {
  /** Path of the spec file; for an inline prompt, a virtual path whose folder anchors `outDir` and `include`. */
  file: string;
  /** How to name the file in messages; default: `file` as given. */
  displayPath?: string;
  /** Settings that win over the frontmatter (validated the same way). */
  overrides?: SpecOverrides | undefined;
  /** Folder a relative `file` is resolved against; default `process.cwd()`. */
  cwd?: string;
}

export interface LoadSpecOptions {
  overrides?: SpecOverrides | undefined;
  /** Folder a relative `file` is resolved against; default `process.cwd()`. */
  cwd?: string;
}

/** `SpecIssue.file` for problems in overrides. */
const COMMAND_LINE = 'command line';

/**
 * Read, parse and validate a spec file and its includes.
 *
 * @throws SmolError `SPEC_NOT_FOUND` (exit 2) when the file does not exist
 * @throws SpecError `SPEC_INVALID` (exit 2) listing every problem found, each with key, value, allowed values and line
 */
export async function loadSpec(file: string, options: LoadSpecOptions = {}): Promise<Spec> {
  const absolute = path.resolve(options.cwd ?? process.cwd(), file);
  let text: string;
  try {
    text = await readSpecText(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SmolError('SPEC_NOT_FOUND', `Spec file not found: ${file}`, {
        exitCode: 2,
        hint: 'Run `smol init` to write a documented prompt.md, or pass the path of your spec.',
        cause: error,
      });
    }
    if (code === 'EISDIR') {
      throw new SmolError('SPEC_NOT_FOUND', `Spec path is a folder, not a file: ${file}`, {
        exitCode: 2,
        hint: 'Pass the path of the spec file itself, e.g. prompt.md.',
        cause: error,
      });
    }
    throw new SmolError('SPEC_UNREADABLE', `Cannot read spec file ${file}: ${(error as Error).message}`, {
      exitCode: 2,
      hint: 'A spec is a regular text file under 4 MB that you can read: check the path and its permissions.',
      cause: error,
    });
  }
  const parseOptions: ParseSpecOptions = { file: absolute, displayPath: file };
  if (options.overrides !== undefined) parseOptions.overrides = options.overrides;
  return parseSpecText(text, parseOptions);
}

/**
 * Parse and validate spec text (a file's contents or an inline prompt). Includes are read relative to
 * the folder of `options.file`.
 *
 * @throws SpecError listing every problem found
 */
export async function parseSpecText(text: string, options: ParseSpecOptions): Promise<Spec> {
  const file = path.resolve(options.cwd ?? process.cwd(), options.file);
  const dir = path.dirname(file);
  const displayPath = options.displayPath ?? options.file;
  const split = splitSpec(text);
  const fromFile: SettingsSource = { file: displayPath, lineOf: keyLineLocator(split.frontmatterLines, 1, 1) };
  const { settings, overrides, issues } = validateSettings(split, options.overrides ?? {}, fromFile);

  const body = split.body.replace(/\r\n/g, '\n');
  if (body.trim() === '' && split.closed) {
    issues.push({
      key: 'body',
      message: 'the spec has no text: describe the program below the frontmatter',
      file: displayPath,
      line: split.bodyStartLine,
    });
  }
  const { globalText, sections, issues: sectionIssues } = parseSections(body, split.bodyStartLine, displayPath);
  issues.push(...sectionIssues);

  // Includes are read only when the list itself is valid.
  const includes: IncludedFile[] = [];
  if (settings !== undefined) {
    const includeSource: SettingsSource = Object.hasOwn(overrides, 'include')
      ? { file: COMMAND_LINE, lineOf: () => 0 }
      : fromFile;
    issues.push(...(await readIncludes(settings.include, dir, includeSource, includes)));
  }

  if (issues.length > 0 || settings === undefined || settings.model === undefined) {
    throw new SpecError(sortIssues(issues), fixHint(issues));
  }
  const model = settings.model;
  return {
    file,
    displayPath,
    dir,
    settings: { ...settings, model },
    body,
    globalText,
    sections,
    includes: includes.filter((included) => included !== undefined),
    outDir: path.resolve(dir, settings.outDir),
  };
}

/**
 * The settings in stages: the YAML as split, the frontmatter and the overrides each against the schema,
 * then merged (overrides win) with the rules the schema cannot express. Every problem is collected.
 */
function validateSettings(
  split: ReturnType<typeof splitSpec>,
  givenOverrides: SpecOverrides,
  fromFile: SettingsSource,
): { settings: SpecSettings | undefined; overrides: Record<string, unknown>; issues: SpecIssue[] } {
  const { frontmatter, frontmatterOk, issues } = frontmatterSettings(split, fromFile);
  const overrides = definedEntries(givenOverrides);
  issues.push(...overrideIssues(overrides));

  const mergedInput = { ...frontmatter, ...overrides };
  const merged = specSettingsSchema.safeParse(mergedInput);
  if (!merged.success && issues.length === 0) {
    // Cannot happen while every rule is per key; kept so a future cross-key rule still reports well.
    issues.push(...toSpecIssues(merged.error.issues, mergedInput, fromFile));
  }
  // `modle: x` already gets "did you mean `model`?"; a second issue about the missing model is noise.
  // Only looked for when the model is missing: the edit distances cost ~10 ms of a cold start.
  const misspeltModel = (): boolean =>
    Object.keys(frontmatter).some((key) => key !== 'model' && closestName(key, specSettingsKeys) === 'model');
  if (frontmatterOk && mergedInput.model === undefined && !misspeltModel()) {
    issues.push({
      key: 'model',
      message: 'is required: set `model:` in the frontmatter or pass --model',
      file: fromFile.file,
      line: 1,
      expected: 'a model name such as "gpt-4o"',
    });
  }
  return { settings: merged.success ? merged.data : undefined, overrides, issues };
}

/** The frontmatter as a mapping checked against the schema (empty when it is not one). */
function frontmatterSettings(
  split: ReturnType<typeof splitSpec>,
  fromFile: SettingsSource,
): { frontmatter: Record<string, unknown>; frontmatterOk: boolean; issues: SpecIssue[] } {
  const issues: SpecIssue[] = [];
  if (split.problem !== undefined) {
    const { message, line, ...extra } = split.problem;
    issues.push({ key: 'frontmatter', message, file: fromFile.file, line, ...extra });
    return { frontmatter: {}, frontmatterOk: false, issues };
  }
  // An empty block, or one holding only `~`, is no settings at all.
  const data = split.data ?? {};
  if (!isMapping(data)) {
    issues.push({
      key: 'frontmatter',
      message: 'must be a mapping of settings (`key: value` lines)',
      file: fromFile.file,
      line: 2,
      received: renderValue(data),
      expected: 'a mapping such as `model: gpt-4o`',
    });
    return { frontmatter: {}, frontmatterOk: false, issues };
  }
  const parsed = specSettingsSchema.safeParse(data);
  if (!parsed.success) issues.push(...toSpecIssues(parsed.error.issues, data, fromFile));
  return { frontmatter: data, frontmatterOk: true, issues };
}

/** The command line's settings against the schema, each problem naming its flag. */
function overrideIssues(overrides: Record<string, unknown>): SpecIssue[] {
  const parsed = specSettingsSchema.safeParse(overrides);
  if (parsed.success) return [];
  const fromFlags: SettingsSource = {
    file: COMMAND_LINE,
    lineOf: () => 0,
    suffix: (key) => ` in --${flagName(key)}`,
  };
  return toSpecIssues(parsed.error.issues, overrides, fromFlags);
}

/**
 * Reads each include into `into` at its index, relative to the spec's folder `dir` and only inside the
 * repository that holds it; returns the problems.
 */
async function readIncludes(
  include: readonly string[],
  dir: string,
  source: SettingsSource,
  into: IncludedFile[],
): Promise<SpecIssue[]> {
  const issues: SpecIssue[] = [];
  const root = include.length > 0 ? await includeRoot(dir) : dir;
  await Promise.all(
    include.map(async (included, index) => {
      const where = {
        key: formatKeyPath(['include', index]),
        received: renderValue(included),
        file: source.file,
        line: source.lineOf(['include', index]),
      };
      const absolutePath = path.resolve(dir, included);
      if (!(await realInside(root, absolutePath))) {
        issues.push({
          ...where,
          message: `included files must be inside the repository that holds the spec (${root}); this one is outside it, so it was not read`,
          expected: 'a path inside the repository',
        });
        return;
      }
      try {
        const includedText = await readSpecText(absolutePath);
        into[index] = { path: included, absolutePath, text: includedText.replace(/\r\n/g, '\n') };
      } catch (error) {
        issues.push({ ...where, message: includeReadProblem(error, absolutePath) });
      }
    }),
  );
  return issues;
}

function includeReadProblem(error: unknown, absolutePath: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `included file not found (looked for ${absolutePath}); fix the path, which is relative to the spec's folder`;
    case 'EINVAL':
    case 'EISDIR':
      return 'the included path is not a regular file';
    case 'EFBIG':
      return `the included file is larger than ${MAX_SPEC_TEXT_BYTES} bytes`;
    default:
      return `cannot read the included file (${code ?? (error as Error).message})`;
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

function definedEntries(overrides: SpecOverrides): Record<string, unknown> {
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
}

/** `baseURL` -> `base-url`, `maxTokens` -> `max-tokens`: the CLI names flags after the keys. */
function flagName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z]+)/g, '$1-$2').toLowerCase();
}

/** What to fix: a bad flag value is fixed on the command line, not in the spec. */
function fixHint(issues: readonly SpecIssue[]): string | undefined {
  const fromFlags = issues.filter((issue) => issue.file === COMMAND_LINE).length;
  if (fromFlags === 0) return undefined;
  return fromFlags === issues.length
    ? 'Fix the flag and run again (`smol <command> --help` lists the flags).'
    : 'Fix the flag and the spec, and run again.';
}

/** File issues in line order, command-line issues first (they are listed once, at the top). */
function sortIssues(issues: SpecIssue[]): SpecIssue[] {
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => a.issue.line - b.issue.line || a.order - b.order)
    .map(({ issue }) => issue);
}
