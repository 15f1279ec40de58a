import type { SpecIssue } from '../errors.js';
import type { FileSection } from './types.js';

/*
 * The body is scanned line by line rather than with a Markdown library: we need the 1-based source
 * line of every heading and the exact source text between headings, and the only Markdown we have to
 * understand is ATX headings and fenced code blocks (a `## ` inside a fence is not a heading).
 * A full CommonMark parser would hand back an AST we would have to map back to source lines.
 *
 * Deliberately not recognised: setext headings (`Title` over `===`), HTML blocks. Only ATX headings
 * (`# `, `## `) start or end sections, which is what `smol init` writes.
 */

export interface ParsedSections {
  /** The body without the per-file sections, trimmed. */
  globalText: string;
  sections: FileSection[];
  /** Problems found (duplicate section paths), with `key: 'body'`. */
  issues: SpecIssue[];
}

/** An opening fence: up to 3 spaces, then 3+ backticks (info string without backticks) or 3+ tildes. */
const FENCE_OPEN = /^ {0,3}(`{3,}(?=[^`]*$)|~{3,})/;
/** An ATX heading: up to 3 spaces, 1-6 `#`, then a space/tab or end of line. */
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;

/**
 * Split a spec body into the global text and the per-file sections.
 *
 * A per-file section starts at a level-2 heading whose whole text is one inline code span holding a
 * path (`` ## `src/server.ts` ``) and runs until the next level-1 or level-2 heading. Level-3+ headings
 * stay inside the section. A code span holding whitespace (`` ## `npm test` ``) is an ordinary heading,
 * not a file.
 *
 * @param body the text after the frontmatter
 * @param bodyStartLine the 1-based spec-file line of the body's first line
 * @param file how to name the spec file in issues
 */
export function parseSections(body: string, bodyStartLine: number, file = 'prompt.md'): ParsedSections {
  const lines = body.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const globalLines: string[] = [];
  const sections: FileSection[] = [];
  const issues: SpecIssue[] = [];
  const seen = new Map<string, FileSection>();

  let current: { section: FileSection; lines: string[] } | undefined;
  let fence: { char: string; length: number } | undefined;

  const closeSection = (): void => {
    if (current === undefined) return;
    current.section.text = current.lines.join('\n').trim();
    current = undefined;
  };

  lines.forEach((line, index) => {
    const lineNumber = bodyStartLine + index;

    if (fence !== undefined) {
      if (isFenceClose(line, fence)) fence = undefined;
      (current?.lines ?? globalLines).push(line);
      return;
    }
    const open = FENCE_OPEN.exec(line);
    if (open?.[1] !== undefined) {
      fence = { char: open[1][0] ?? '`', length: open[1].length };
      (current?.lines ?? globalLines).push(line);
      return;
    }

    const heading = ATX_HEADING.exec(line);
    const level = heading?.[1]?.length ?? 0;
    if (heading !== null && level <= 2) {
      closeSection();
      const path = level === 2 ? sectionPath(stripClosingHashes(heading[2] ?? '')) : undefined;
      if (path === undefined) {
        globalLines.push(line);
        return;
      }
      const section: FileSection = { path, text: '', line: lineNumber };
      const previous = seen.get(path.toLowerCase());
      if (previous !== undefined) {
        const sameCase = previous.path === path;
        issues.push({
          key: 'body',
          message: sameCase
            ? `duplicate section \`${path}\` (first at line ${previous.line}); merge the two sections`
            : `section \`${path}\` differs only in case from \`${previous.path}\` (line ${previous.line}); file names must differ by more than case`,
          file,
          line: lineNumber,
        });
      } else {
        seen.set(path.toLowerCase(), section);
      }
      sections.push(section);
      current = { section, lines: [] };
      return;
    }

    (current?.lines ?? globalLines).push(line);
  });
  closeSection();

  return { globalText: globalLines.join('\n').trim(), sections, issues };
}

function isFenceClose(line: string, fence: { char: string; length: number }): boolean {
  const match = /^ {0,3}(`+|~+)[ \t]*$/.exec(line);
  const run = match?.[1];
  return run !== undefined && run[0] === fence.char && run.length >= fence.length;
}

/** `## Title ##` -> `Title`: a closing run of `#` preceded by a space is not part of the heading. */
function stripClosingHashes(text: string): string {
  return text.replace(/(?:^|[ \t]+)#+$/, '').trim();
}

/**
 * The path held by a heading that is exactly one code span, or undefined.
 * Handles `` `a.ts` `` and double-backtick spans (`` `` a`b.ts `` ``), as CommonMark does.
 */
function sectionPath(headingText: string): string | undefined {
  const open = /^`+/.exec(headingText)?.[0];
  if (open === undefined || headingText.length < open.length * 2 + 1) return undefined;
  if (!headingText.endsWith(open)) return undefined;
  let inner = headingText.slice(open.length, -open.length);
  // A longer closing run, or the same run inside, would make this something other than one span.
  if (inner.endsWith('`')) return undefined;
  const runs = inner.match(/`+/g) ?? [];
  if (runs.some((run) => run.length === open.length)) return undefined;
  // CommonMark strips one space on each side when both are present (so `` `x` `` can hold backticks).
  if (inner.startsWith(' ') && inner.endsWith(' ') && inner.trim() !== '') inner = inner.slice(1, -1);
  if (inner === '' || /\s/.test(inner)) return undefined;
  return normalizeSectionPath(inner);
}

/** Forward slashes, no leading `./`, no doubled slashes. Safety checks happen where paths are written. */
function normalizeSectionPath(path: string): string {
  let normalized = path.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  while (normalized.startsWith('./')) normalized = normalized.slice(2);
  return normalized;
}
