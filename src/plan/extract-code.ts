/**
 * Pulls the file content out of a model's answer: the first fenced block (``` or ~~~, any info string),
 * with prose before and after dropped; an answer with no fence at all is taken whole (`fenced: false`,
 * for the caller to warn: it may be prose that became a file).
 * Fences follow CommonMark: the block closes at the first line of the same character, at least as long as
 * the opening, with nothing after it. That lets Markdown files carry inner fences when the model uses a
 * longer outer fence, as the template asks. Hand-written because no Markdown parser keeps source bytes
 * exactly, and this is the only construct we need.
 */
export function extractCode(answer: string): { ok: true; content: string; fenced: boolean } | { ok: false; reason: string } {
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
      const body = lines.slice(openIndex + 1, index).map((line) => stripIndent(line, indent));
      const content = body.join('\n');
      if (content.trim() === '') return { ok: false, reason: 'the code block is empty' };
      return { ok: true, content: `${content.replace(/\n+$/, '')}\n`, fenced: true };
    }
  }
  return { ok: false, reason: 'the code block never closes (the answer looks cut off)' };
}

const OPENING_FENCE = /^( {0,3})(`{3,}|~{3,})[^`]*$/;
const CLOSING_FENCE = /^( {0,3})(`{3,}|~{3,})[ \t]*$/;

function stripIndent(line: string, indent: number): string {
  let removed = 0;
  while (removed < indent && line[removed] === ' ') removed += 1;
  return line.slice(removed);
}
