/*
 * Fenced code blocks, the one Markdown construct the spec, plan and answer readers need besides ATX
 * headings. Hand-written rather than a Markdown parser because the readers need exact source lines and
 * bytes, which no parser's AST keeps. CommonMark's rules: an opening fence is up to 3 spaces, then 3+
 * backticks whose info string holds no backtick, or 3+ tildes; the block closes at the first line of up
 * to 3 spaces and a run of the same character at least as long, with only blanks after it.
 */

/** An open fenced block. */
export interface Fence {
  /** `` ` `` or `~`. */
  char: string;
  length: number;
  /** Spaces before the opening fence (removed from the block's lines, as CommonMark does). */
  indent: number;
}

const OPENING = /^( {0,3})(`{3,}(?=[^`]*$)|~{3,})/;
const CLOSING = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

/** The fence `line` opens, or undefined when it opens none. */
export function openingFence(line: string): Fence | undefined {
  const match = OPENING.exec(line);
  const run = match?.[2];
  if (match === null || run === undefined) return undefined;
  return { char: run[0] ?? '`', length: run.length, indent: match[1]?.length ?? 0 };
}

/** Whether `line` closes `fence`. */
export function closesFence(line: string, fence: Fence): boolean {
  const run = CLOSING.exec(line)?.[1];
  return run !== undefined && run[0] === fence.char && run.length >= fence.length;
}

/** What a line is to a reader that walks a document top to bottom. */
export type FenceLine = 'text' | 'opening' | 'code' | 'closing';

/**
 * A reader's walk through a document: call it with each line in order; it says whether the line is
 * ordinary text, a fence, or inside a fenced block (where a `## ` is not a heading).
 */
export function fenceWalker(): (line: string) => FenceLine {
  let open: Fence | undefined;
  return (line) => {
    if (open !== undefined) {
      if (!closesFence(line, open)) return 'code';
      open = undefined;
      return 'closing';
    }
    open = openingFence(line);
    return open === undefined ? 'text' : 'opening';
  };
}
