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
      return side === 'min' ? (limit === 1 ? 'a non-empty string' : `at least ${limit} characters`) : `at most ${limit} characters`;
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
  const result: SpecIssue[] = [];
  const push = (path: KeyPath, message: string, extra: { received?: string; expected?: string }): void => {
    const topKey = String(path[0] ?? '');
    const issue: SpecIssue = {
      key: formatKeyPath(path),
      message: message + (source.suffix?.(topKey) ?? ''),
      file: source.file,
      line: source.lineOf(path),
    };
    if (extra.received !== undefined) issue.received = extra.received;
    if (extra.expected !== undefined) issue.expected = extra.expected;
    result.push(issue);
  };

  for (const issue of issues) {
    const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
    const value = valueAt(data, path);
    const received = renderValue(value);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(path);
        for (const key of issue.keys) {
          const suggestion = closestName(key, known);
          if (suggestion === undefined) push([...path, key], 'unknown key', { expected: `one of ${known.join(', ')}` });
          else push([...path, key], `unknown key; did you mean \`${suggestion}\`?`, {});
        }
        break;
      }
      case 'invalid_type': {
        const expected = typeName(issue.expected === 'number' && isIntAt(path) ? 'int' : issue.expected);
        if (value === undefined) push(path, 'is required', { expected });
        else if (value === null) push(path, 'has no value', { received, expected });
        else if (issue.expected === 'int' && typeof value === 'number') push(path, 'must be a whole number', { received, expected });
        else push(path, 'has the wrong type', { received, expected });
        break;
      }
      case 'too_small':
        push(path, issue.origin === 'string' && issue.minimum === 1 ? 'must not be empty' : 'is too small', {
          received,
          expected: bound(issue, issue.minimum, 'min', isIntAt(path)),
        });
        break;
      case 'too_big':
        push(path, 'is too large', { received, expected: bound(issue, issue.maximum, 'max', isIntAt(path)) });
        break;
      case 'invalid_value': {
        const what = path[0] === 'provider' && path.length === 1 ? 'unknown provider' : 'is not an allowed value';
        push(path, what, { received, expected: `one of ${renderChoices(issue.values)}` });
        break;
      }
      case 'invalid_format':
        push(path, issue.format === 'url' ? 'is not an http(s) URL' : `is not a valid ${issue.format}`, {
          received,
          expected: issue.format === 'url' ? 'a URL starting with http:// or https://' : issue.format,
        });
        break;
      default:
        push(path, issue.message, { received });
    }
  }
  return result;
}
