import { closesFence, openingFence } from '../internal/markdown-fences.js';

/**
 * Pulls the file content out of a model's answer: the first fenced block (``` or ~~~, any info string),
 * with prose before and after dropped; an answer with no fence at all is taken whole (`fenced: false`,
 * for the caller to warn: it may be prose that became a file).
 * Fences follow CommonMark (internal/markdown-fences.ts): the block closes at the first line of the same
 * character, at least as long as the opening, with nothing after it. That lets Markdown files carry inner
 * fences when the model uses a longer outer fence, as the template asks.
 */
export function extractCode(
  answer: string,
): { ok: true; content: string; fenced: boolean } | { ok: false; reason: string } {
  const lines = answer.replace(/\r\n/g, '\n').split('\n');
  const openIndex = lines.findIndex((line) => openingFence(line) !== undefined);
  const fence = openIndex === -1 ? undefined : openingFence(lines[openIndex]!);
  if (fence === undefined) {
    const whole = answer.trim();
    if (whole === '') return { ok: false, reason: 'the model answered with nothing' };
    return { ok: true, content: `${whole}\n`, fenced: false };
  }
  const closeIndex = lines.findIndex((line, index) => index > openIndex && closesFence(line, fence));
  if (closeIndex === -1) return { ok: false, reason: 'the code block never closes (the answer looks cut off)' };
  const content = lines
    .slice(openIndex + 1, closeIndex)
    .map((line) => stripIndent(line, fence.indent))
    .join('\n');
  if (content.trim() === '') return { ok: false, reason: 'the code block is empty' };
  return { ok: true, content: `${content.replace(/\n+$/, '')}\n`, fenced: true };
}

function stripIndent(line: string, indent: number): string {
  let removed = 0;
  while (removed < indent && line[removed] === ' ') removed += 1;
  return line.slice(removed);
}
