import * as z from 'zod';
import type { SpecIssue } from '../errors.js';
import type { KeyPath } from './lines.js';
import { closestName, looksSecret, renderChoices, renderValue } from './render.js';
import { specSettingsSchema } from './schema.js';

/** Where settings came from, so an issue can point at the right line or flag. */
export interface SettingsSource {
  /** `SpecIssue.file`. */
  file: string;
  /** The 1-based line of a key path (0 when there is no line, e.g. for flags). */
  lineOf(path: KeyPath): number;
  /** Appended to each message, e.g. ` in --model`. */
  suffix?(topKey: string): string;
}

/** `['rateLimit', 'rpm']` -> `rateLimit.rpm`, `['include', 1]` -> `include[1]`. */
export function formatKeyPath(path: KeyPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else {
      // Even a key can be a pasted API key (`sk-...: true`); never echo one.
      const name = looksSecret(segment) ? 'sk-…[redacted]' : segment;
      text += text === '' ? name : `.${name}`;
    }
  }
  return text === '' ? 'frontmatter' : text;
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

/** The settings schema at `path` (unwrapped), or undefined when the path leaves the schema. */
function schemaAt(path: KeyPath): z.ZodType | undefined {
  let schema: z.ZodType = unwrap(specSettingsSchema);
  for (const segment of path) {
    if (schema instanceof z.ZodObject && typeof segment === 'string') {
      const child = (schema.shape as Record<string, z.ZodType | undefined>)[segment];
      if (child === undefined) return undefined;
      schema = unwrap(child);
    } else if (schema instanceof z.ZodArray && typeof segment === 'number') {
      schema = unwrap(schema.element as z.ZodType);
    } else {
      return undefined;
    }
  }
  return schema;
}

/** Known keys of the (strict) object at `path` in the settings schema. */
function knownKeysAt(path: KeyPath): string[] {
  const schema = schemaAt(path);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** zod reports `z.int()` problems with origin/expected `number`; the schema knows better. */
function isIntAt(path: KeyPath): boolean {
  const schema = schemaAt(path);
  return schema instanceof z.ZodNumber && (schema.format ?? '').includes('int');
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

function bound(
  issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall,
  limit: number | bigint,
  side: 'min' | 'max',
  isInt: boolean,
): string {
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case 'string':
      return side === 'min'
        ? limit === 1
          ? 'a non-empty string'
          : `at least ${limit} characters`
        : `at most ${limit} characters`;
    case 'array':
      return side === 'min' ? `at least ${limit} items` : `at most ${limit} items`;
    default: {
      const kind = isInt || issue.origin === 'int' ? 'a whole number' : 'a number';
      if (side === 'min') return inclusive ? `${kind} >= ${limit}` : `${kind} > ${limit}`;
      return inclusive ? `${kind} <= ${limit}` : `${kind} < ${limit}`;
    }
  }
}

/** Turn zod issues into spec issues naming the key, the value received, what is allowed, and the line. */
export function toSpecIssues(issues: readonly z.core.$ZodIssue[], data: unknown, source: SettingsSource): SpecIssue[] {
  return issues.flatMap((zodIssue) => {
    const path = zodIssue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    return describeIssue(zodIssue, path, valueAt(data, path)).map(({ path: keyPath, message, received, expected }) => {
      const issue: SpecIssue = {
        key: formatKeyPath(keyPath),
        message: message + (source.suffix?.(String(keyPath[0] ?? '')) ?? ''),
        file: source.file,
        line: source.lineOf(keyPath),
      };
      if (received !== undefined) issue.received = received;
      if (expected !== undefined) issue.expected = expected;
      return issue;
    });
  });
}

/** A problem in words, at a key path (one zod issue about unknown keys is one problem per key). */
interface DescribedIssue {
  path: KeyPath;
  message: string;
  received?: string | undefined;
  expected?: string | undefined;
}

/** One zod issue in words, by its code: a flat table. */
function describeIssue(issue: z.core.$ZodIssue, path: KeyPath, value: unknown): DescribedIssue[] {
  const received = renderValue(value);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(path);
      return issue.keys.map((key) => {
        const suggestion = closestName(key, known);
        return suggestion === undefined
          ? { path: [...path, key], message: 'unknown key', expected: `one of ${known.join(', ')}` }
          : { path: [...path, key], message: `unknown key; did you mean \`${suggestion}\`?` };
      });
    }
    case 'invalid_type': {
      const expected = typeName(issue.expected === 'number' && isIntAt(path) ? 'int' : issue.expected);
      if (value === undefined) return [{ path, message: 'is required', expected }];
      if (value === null) return [{ path, message: 'has no value', received, expected }];
      if (issue.expected === 'int' && typeof value === 'number')
        return [{ path, message: 'must be a whole number', received, expected }];
      return [{ path, message: 'has the wrong type', received, expected }];
    }
    case 'too_small': {
      const message = issue.origin === 'string' && issue.minimum === 1 ? 'must not be empty' : 'is too small';
      return [{ path, message, received, expected: bound(issue, issue.minimum, 'min', isIntAt(path)) }];
    }
    case 'too_big':
      return [{ path, message: 'is too large', received, expected: bound(issue, issue.maximum, 'max', isIntAt(path)) }];
    case 'invalid_value': {
      const message = path[0] === 'provider' && path.length === 1 ? 'unknown provider' : 'is not an allowed value';
      return [{ path, message, received, expected: `one of ${renderChoices(issue.values)}` }];
    }
    case 'invalid_format': {
      const url = issue.format === 'url';
      return [
        {
          path,
          message: url ? 'is not an http(s) URL' : `is not a valid ${issue.format}`,
          received,
          expected: url ? 'a URL starting with http:// or https://' : issue.format,
        },
      ];
    }
    default:
      return [{ path, message: issue.message, received }];
  }
}
