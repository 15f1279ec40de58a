import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fenceWalker, type FenceLine } from '../../src/internal/markdown-fences.js';
import { extractCode } from '../../src/plan/extract-code.js';

// The three fence scanners this module replaced (plan/extract-code.ts, plan/plan-markdown.ts,
// spec/sections.ts), kept here as references. They agree with the shared one on every document whose
// backtick fences carry no backtick in their info string; on those they differed among themselves (the
// plan reader opened a block on "```js `x`", which CommonMark does not), and the shared one follows CommonMark.

/** Old plan-markdown.ts: whether each line is outside a block (where a heading counts). */
function oldPlanOutside(lines: readonly string[]): boolean[] {
  const FENCE = /^ {0,3}(`{3,}|~{3,})/;
  let fenceMarker: string | undefined;
  return lines.map((line) => {
    const fence = FENCE.exec(line);
    if (fence !== null) {
      if (fenceMarker === undefined) fenceMarker = fence[1]!;
      else if (fence[1]![0] === fenceMarker[0] && fence[1]!.length >= fenceMarker.length && line.trim() === fence[1]) {
        fenceMarker = undefined;
      }
    }
    return fenceMarker === undefined;
  });
}

/** Old spec/sections.ts: whether each line is text (neither a fence nor inside a block). */
function oldSectionsText(lines: readonly string[]): boolean[] {
  const FENCE_OPEN = /^ {0,3}(`{3,}(?=[^`]*$)|~{3,})/;
  let fence: { char: string; length: number } | undefined;
  return lines.map((line) => {
    if (fence !== undefined) {
      const run = /^ {0,3}(`+|~+)[ \t]*$/.exec(line)?.[1];
      if (run !== undefined && run[0] === fence.char && run.length >= fence.length) fence = undefined;
      return false;
    }
    const open = FENCE_OPEN.exec(line);
    if (open?.[1] !== undefined) {
      fence = { char: open[1][0] ?? '`', length: open[1].length };
      return false;
    }
    return true;
  });
}

/** Old extract-code.ts. */
function oldExtractCode(
  answer: string,
): { ok: true; content: string; fenced: boolean } | { ok: false; reason: string } {
  const OPENING_FENCE = /^( {0,3})(`{3,}|~{3,})[^`]*$/;
  const CLOSING_FENCE = /^( {0,3})(`{3,}|~{3,})[ \t]*$/;
  const lines = answer.replace(/\r\n/g, '\n').split('\n');
  const openIndex = lines.findIndex((line) => OPENING_FENCE.test(line));
  if (openIndex === -1) {
    const whole = answer.trim();
    if (whole === '') return { ok: false, reason: 'the model answered with nothing' };
    return { ok: true, content: `${whole}\n`, fenced: false };
  }
  const opening = OPENING_FENCE.exec(lines[openIndex]!)!;
  const indent = opening[1]!.length;
  const marker = opening[2]!;
  for (let index = openIndex + 1; index < lines.length; index += 1) {
    const closing = CLOSING_FENCE.exec(lines[index]!);
    if (closing !== null && closing[2]![0] === marker[0] && closing[2]!.length >= marker.length) {
      const body = lines.slice(openIndex + 1, index).map((line) => {
        let removed = 0;
        while (removed < indent && line[removed] === ' ') removed += 1;
        return line.slice(removed);
      });
      const content = body.join('\n');
      if (content.trim() === '') return { ok: false, reason: 'the code block is empty' };
      return { ok: true, content: `${content.replace(/\n+$/, '')}\n`, fenced: true };
    }
  }
  return { ok: false, reason: 'the code block never closes (the answer looks cut off)' };
}

// Lines that matter: fences of both kinds and several lengths, indented up to 3 spaces (and 4, which is
// not a fence), with info strings and trailing blanks; headings; prose; code.
const line = fc.oneof(
  fc.constantFrom('```', '````', '`````', '~~~', '~~~~', '```ts', '``` md', '~~~ info `x`', '```\t', '``` ', '~~~  '),
  fc
    .tuple(fc.constantFrom('', ' ', '  ', '   ', '    '), fc.constantFrom('```', '~~~', '````', '```js'))
    .map(([indent, fence]) => indent + fence),
  fc.constantFrom(
    '## `a.ts`',
    '### `src/b.ts`',
    '## Global',
    '# Title',
    'text',
    '',
    '  code();',
    '`inline`',
    '``not a fence``',
  ),
);
const documents = fc.array(line, { maxLength: 30 });

describe('the shared fence scanner', () => {
  it('agrees with the plan reader on where headings count', () => {
    fc.assert(
      fc.property(documents, (lines) => {
        const walk = fenceWalker();
        const kinds: FenceLine[] = lines.map(walk);
        // The plan reader checked headings on a closing line too; a fence is never a heading either way.
        const outside = oldPlanOutside(lines);
        for (const [index, kind] of kinds.entries()) expect(kind === 'text' || kind === 'closing').toBe(outside[index]);
      }),
    );
  });

  it('agrees with the spec sections reader on which lines are text', () => {
    fc.assert(
      fc.property(documents, (lines) => {
        const walk = fenceWalker();
        expect(lines.map((text) => walk(text) === 'text')).toEqual(oldSectionsText(lines));
      }),
    );
  });

  it('extracts the same code from an answer as before', () => {
    // The old answer reader alone refused a tilde fence with a backtick in its info string.
    const answers = documents.filter((lines) => !lines.some((text) => /^ {0,3}~{3,}.*`/.test(text)));
    fc.assert(
      fc.property(answers, (lines) => {
        const answer = lines.join('\n');
        expect(extractCode(answer)).toEqual(oldExtractCode(answer));
      }),
    );
  });

  it('opens a tilde block whose info string holds a backtick, as CommonMark does', () => {
    expect(extractCode('~~~ info `x`\ncode\n~~~')).toEqual({ ok: true, content: 'code\n', fenced: true });
  });
});
