import { extractCode } from '../plan/extract-code.js';
import { parsePlan } from '../plan/plan-markdown.js';

export interface ProposedFix {
  /** The path exactly as the model wrote it (checked later like every model path). */
  path: string;
  content: string;
}

/**
 * Reads a debug answer: each fix is a `### \`path\`` heading followed by one fenced block with the whole
 * file. The heading scan is the plan parser's (fence-aware); the block is taken like a generated file.
 */
export function parseFixes(answer: string): { fixes: ProposedFix[]; problems: string[] } {
  const sections = parsePlan(answer).sections;
  const fixes: ProposedFix[] = [];
  const problems: string[] = [];
  for (const section of sections) {
    if (!/^ {0,3}(`{3,}|~{3,})/m.test(section.text)) {
      problems.push(`${section.path}: no code block after the heading`);
      continue;
    }
    const extracted = extractCode(section.text);
    if (extracted.ok) fixes.push({ path: section.path, content: extracted.content });
    else problems.push(`${section.path}: ${extracted.reason}`);
  }
  return { fixes, problems };
}
