import { fenceWalker } from '../internal/markdown-fences.js';
import { slashPath } from '../internal/slash-path.js';

/** The shared-dependencies plan: a global part and one section per file, kept as the model wrote them. */
export interface Plan {
  global: string;
  /** In the order the model gave them. Section text excludes its heading. */
  sections: PlanSection[];
}

export interface PlanSection {
  path: string;
  text: string;
}

// A file section heading is a level 2-4 heading holding exactly one code span: `### \`src/x.ts\``.
const FILE_HEADING = /^ {0,3}#{2,4}[ \t]+(`+)[ \t]*([^`]+?)[ \t]*\1[ \t]*#*[ \t]*$/;
const GLOBAL_HEADING = /^ {0,3}##[ \t]+Global[ \t]*$/i;

/** Parses plan Markdown. Lines inside fenced blocks never start a section. */
export function parsePlan(markdown: string): Plan {
  const lines = markdown.replace(/\r\n/g, '\n').split('\n');
  const global: string[] = [];
  const sections: { path: string; lines: string[] }[] = [];
  let current: { path: string; lines: string[] } | undefined;
  const walk = fenceWalker();
  for (const line of lines) {
    const heading = walk(line) === 'text' ? FILE_HEADING.exec(line) : null;
    if (heading !== null) {
      current = { path: slashPath(heading[2]!.trim()), lines: [] };
      sections.push(current);
      continue;
    }
    (current?.lines ?? global).push(line);
  }
  const byPath = new Map<string, string>();
  for (const section of sections) {
    const text = section.lines.join('\n').trim();
    // A path given twice: keep both texts, in order, so nothing the model said is dropped.
    byPath.set(section.path, byPath.has(section.path) ? `${byPath.get(section.path)}\n\n${text}` : text);
  }
  return {
    global: global
      .filter((line) => !GLOBAL_HEADING.test(line))
      .join('\n')
      .trim(),
    sections: [...byPath].map(([path, text]) => ({ path, text })),
  };
}

export function renderPlan(plan: Plan): string {
  const parts = [plan.global.trim()];
  for (const section of plan.sections) parts.push(`### \`${section.path}\`\n\n${section.text}`);
  return `${parts.filter((part) => part !== '').join('\n\n')}\n`;
}

const REMOVED_MARKER = /^REMOVED\.?$/i;
const NO_CHANGES = /^\W*no changes\W*$/i;
const GLOBAL_HEADING_ANYWHERE = /^ {0,3}##[ \t]+Global[ \t]*$/im;

/**
 * Applies a re-plan answer to the previous plan (design.md 4.3): sections the answer returns replace or
 * add, a section reading `REMOVED` drops the file, everything not returned is kept byte for byte.
 * The global part changes only when the answer has a non-empty global part.
 */
export function mergeReplan(previous: Plan, answer: string): Plan {
  if (NO_CHANGES.test(answer.trim())) return previous;
  const update = parsePlan(answer);
  const replaced = new Map(update.sections.map((section) => [section.path, section.text]));
  const sections: PlanSection[] = [];
  for (const section of previous.sections) {
    const next = replaced.get(section.path);
    if (next === undefined) sections.push(section);
    else if (!REMOVED_MARKER.test(next)) sections.push({ path: section.path, text: next });
    replaced.delete(section.path);
  }
  for (const [path, text] of replaced) if (!REMOVED_MARKER.test(text)) sections.push({ path, text });
  // Prose the model puts before its sections is not a new global part; only a `## Global` heading is.
  const globalMatch = GLOBAL_HEADING_ANYWHERE.exec(answer);
  const newGlobal =
    globalMatch === null ? '' : parsePlan(answer.slice(globalMatch.index + globalMatch[0].length)).global;
  const global = newGlobal !== '' && !NO_CHANGES.test(newGlobal) ? newGlobal : previous.global;
  return { global, sections };
}

/** A re-plan answer read against the previous plan: the merged plan, or why the answer is not a plan. */
export type ReplanReading = { ok: true; plan: Plan; changed: boolean } | { ok: false; problem: string };

/**
 * Reads a re-plan answer (design.md 4.3). `NO CHANGES` (alone on a line, however decorated) keeps the
 * previous plan; sections and a `## Global` part are merged by {@link mergeReplan}. Anything else (prose
 * from a small model, an empty answer) is not a plan, and is never taken as "no changes" (issue 16.3):
 * the spec edit would be swallowed without a word.
 */
export function readReplan(previous: Plan, answer: string): ReplanReading {
  const update = parsePlan(answer);
  const globalMatch = GLOBAL_HEADING_ANYWHERE.exec(answer);
  const hasGlobal =
    globalMatch !== null && parsePlan(answer.slice(globalMatch.index + globalMatch[0].length)).global !== '';
  if (update.sections.length > 0 || hasGlobal) return { ok: true, plan: mergeReplan(previous, answer), changed: true };
  if (answer.split('\n').some((line) => NO_CHANGES.test(line.trim())))
    return { ok: true, plan: previous, changed: false };
  return {
    ok: false,
    problem:
      answer.trim() === ''
        ? 'it is empty'
        : 'it has no `## Global` part, no `### `path`` section and does not say `NO CHANGES`, so it changes nothing that smol can apply',
  };
}
