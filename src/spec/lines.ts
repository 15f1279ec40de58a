/*
 * Finds the line of a frontmatter key so an issue can say `at prompt.md:7`.
 *
 * js-yaml 3 (used by gray-matter) keeps no source positions for values, so this is a small indentation
 * scanner over the raw frontmatter text. It understands block mappings, block sequences (`- item`,
 * also at the parent's indent) and quoted keys; for flow style (`rateLimit: { rpm: 5 }`) it answers
 * with the line of the enclosing key, which is the same line. Good enough for messages, never used for
 * parsing.
 */

import { escapeRegExp } from '../internal/escape-regexp.js';

export type KeyPath = readonly (string | number)[];

interface Found {
  /** Index into the lines array. */
  index: number;
  indent: number;
  /** True for a `- item` line. */
  item: boolean;
}

/**
 * @param lines the raw frontmatter split into lines, `lines[i]` being 1-based spec-file line `i + firstLine`
 * @param firstLine the file line of `lines[0]`
 * @returns a function giving the 1-based file line of a key path: the deepest key found along the path,
 *   or `fallback` when not even the top-level key is there
 */
export function keyLineLocator(lines: readonly string[], firstLine: number, fallback = 1): (path: KeyPath) => number {
  return (path) => {
    let start = 0;
    let end = lines.length;
    let line = fallback;
    for (const segment of path) {
      const found = findChild(lines, start, end, segment);
      if (found === undefined) break;
      line = found.index + firstLine;
      start = found.index + 1;
      end = blockEnd(lines, found);
    }
    return line;
  };
}

function indentOf(line: string): number {
  return /^[ \t]*/.exec(line)?.[0].length ?? 0;
}

function isContent(line: string): boolean {
  const trimmed = line.trim();
  return trimmed !== '' && !trimmed.startsWith('#');
}

function isItem(line: string): boolean {
  return /^[ \t]*-(?:[ \t]|$)/.test(line);
}

/** Index after the last line belonging to the value of `found`. */
function blockEnd(lines: readonly string[], found: Found): number {
  for (let index = found.index + 1; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (!isContent(line)) continue;
    const indent = indentOf(line);
    // `key:\n- a\n- b` is legal YAML: a sequence may sit at its mapping key's indent.
    const sameIndentItem = !found.item && indent === found.indent && isItem(line);
    if (indent <= found.indent && !sameIndentItem) return index;
  }
  return lines.length;
}

function findChild(lines: readonly string[], start: number, end: number, segment: string | number): Found | undefined {
  // The children of a block sit at the indent of its first content line.
  let childIndent: number | undefined;
  let itemCount = 0;
  const keyPattern =
    typeof segment === 'string'
      ? new RegExp(
          `^[ \\t]*(?:-[ \\t]+)?(?:${escapeRegExp(segment)}|"${escapeRegExp(segment)}"|'${escapeRegExp(segment)}')[ \\t]*:(?:[ \\t]|$)`,
        )
      : undefined;
  for (let index = start; index < end; index += 1) {
    const line = lines[index] ?? '';
    if (!isContent(line)) continue;
    const indent = indentOf(line);
    childIndent ??= indent;
    if (indent !== childIndent) continue;
    if (typeof segment === 'number') {
      if (!isItem(line)) continue;
      if (itemCount === segment) return { index, indent, item: true };
      itemCount += 1;
    } else if (keyPattern?.test(line) === true) {
      return { index, indent, item: false };
    }
  }
  // Not at block level: maybe a flow collection on the parent's own line holds it; the caller keeps
  // the parent's line.
  return undefined;
}
