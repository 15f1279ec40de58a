import type { ChatMessage } from '../llm/types.js';

/**
 * Every prompt smol sends is built here. Bump `PROMPT_VERSION` whenever the text of a template changes:
 * it is part of every file's fingerprint, so a new template regenerates what it affects.
 */
export const PROMPT_VERSION = 'smol-prompts/1';

export const FILE_LIST_TOOL = 'submit_file_list';

const PLAN_SYSTEM = `You are the lead engineer planning a codebase that other engineers will write one file at a time, \
each seeing only your plan, the file list and their own file's notes.
Write the shared-dependencies plan in Markdown:
1. First a global part: the stack and libraries (with versions where it matters), data schemas, naming \
conventions, environment variables, and anything every file must agree on.
2. Then one section per file, each headed exactly \`### \\\`relative/path.ext\\\`\` (a level-3 heading holding the path \
in a code span). Under it list what the file exports (names, signatures, DOM ids, message names, routes) and what \
it uses from other files (by path).
Include every file the program needs: code, configuration, package manifests, tests the spec asks for. Paths are \
relative to the project root, use forward slashes, and never start with / or contain "..".
Answer with the plan only.`;

const REPLAN_SYSTEM = `${PLAN_SYSTEM}

This is a re-plan: you are given your previous plan and a unified diff of the spec since then. Return ONLY what must \
change: the global part (under a level-2 heading \`## Global\`) if and only if it must change, and the \`### \\\`path\\\`\` \
sections that must change or be added. Sections you leave out are kept exactly as they were. To remove a file from \
the plan, return its section with the single line \`REMOVED\`. If nothing needs to change, answer \`NO CHANGES\`.`;

const FILE_LIST_SYSTEM = `You turn a codebase plan into the exact list of files to write. Call the tool \
${FILE_LIST_TOOL} once with every file of the plan: its relative path, a one-line purpose, and the paths of the \
files it depends on (imports or uses). Paths are relative, use forward slashes, and never start with / or contain "..".`;

const FILE_LIST_JSON_SYSTEM = `You turn a codebase plan into the exact list of files to write: every file of the plan, \
with its relative path, a one-line purpose, and the paths of the files it depends on (imports or uses). Paths are \
relative, use forward slashes, and never start with / or contain "..". Answer with JSON only.`;

/** The shape a file list answer in JSON takes, as said to the model. */
export const FILE_LIST_JSON_ANSWER = `Answer with only a JSON object listing every file of the plan, and nothing else, shaped like:
{"files": [{"path": "src/index.ts", "purpose": "one line", "dependsOn": ["src/util.ts"]}]}`;

const CODE_SYSTEM = `You are an expert engineer writing one file of a codebase that others write in parallel from the \
same plan. Follow the plan exactly: the names, signatures, ids and paths it gives are what the other files use.
Answer with the complete content of the requested file in ONE fenced code block and nothing else. If the file itself \
contains \`\`\` fences, open and close your block with a longer fence (\`\`\`\`). Never leave parts out or write \
placeholders like "rest unchanged".`;

export interface SpecPromptParts {
  /** The spec's free text (without per-file sections). */
  globalText: string;
  includes: { path: string; text: string }[];
  sections: { path: string; text: string }[];
}

export function renderSpec(spec: SpecPromptParts): string {
  const parts = [`# Spec\n\n${normaliseWhitespace(spec.globalText)}`];
  for (const include of spec.includes)
    parts.push(`# Included: ${include.path}\n\n${normaliseWhitespace(include.text)}`);
  if (spec.sections.length > 0) {
    parts.push(
      `# Per-file requirements\n\n${spec.sections.map((section) => `## \`${section.path}\`\n\n${normaliseWhitespace(section.text)}`).join('\n\n')}`,
    );
  }
  return parts.join('\n\n');
}

/**
 * Spec text as the model sees it: trailing spaces, runs of blank lines and runs of inner spaces folded,
 * indentation kept. A whitespace-only edit of the spec therefore changes no request and costs no call.
 */
export function normaliseWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/(\S)[ \t]+(?=\S)/g, '$1 ').trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export function planMessages(spec: SpecPromptParts): ChatMessage[] {
  return [
    { role: 'system', content: PLAN_SYSTEM },
    { role: 'user', content: `${renderSpec(spec)}\n\nWrite the plan.` },
  ];
}

export function replanMessages(spec: SpecPromptParts, previousPlan: string, specDiff: string): ChatMessage[] {
  return [
    { role: 'system', content: REPLAN_SYSTEM },
    {
      role: 'user',
      content: `${renderSpec(spec)}\n\n# Previous plan\n\n${previousPlan.trim()}\n\n# Spec diff since the previous plan\n\n\`\`\`diff\n${specDiff.trim()}\n\`\`\`\n\nReturn only what must change.`,
    },
  ];
}

export function fileListMessages(spec: SpecPromptParts, plan: string): ChatMessage[] {
  return [
    { role: 'system', content: FILE_LIST_SYSTEM },
    {
      role: 'user',
      content: `${renderSpec(spec)}\n\n# Plan\n\n${plan.trim()}\n\nCall ${FILE_LIST_TOOL} with every file.`,
    },
  ];
}

/** The file list asked for as JSON (a response schema, or JSON in the text) rather than a tool call. */
export function fileListJsonMessages(spec: SpecPromptParts, plan: string): ChatMessage[] {
  return [
    { role: 'system', content: FILE_LIST_JSON_SYSTEM },
    { role: 'user', content: `${renderSpec(spec)}\n\n# Plan\n\n${plan.trim()}\n\n${FILE_LIST_JSON_ANSWER}` },
  ];
}

/** Everything a file's generation sees, except its current content. Its hash is the file's fingerprint. */
export interface FileInputs {
  path: string;
  purpose: string;
  planGlobal: string;
  planSection: string;
  dependencies: { path: string; purpose: string; section: string }[];
  /** Every planned path, sorted. Paths only: other files' purposes are not an input of this one. */
  fileList: string[];
  specSection: string;
  /** With `context: full` only: the whole rendered spec. */
  fullSpec: string | undefined;
}

export function codeMessages(inputs: FileInputs, currentContent: string | undefined): ChatMessage[] {
  const parts = [`# Plan (shared by all files)\n\n${inputs.planGlobal.trim() || '(none)'}`];
  parts.push(`# All files of the codebase\n\n${inputs.fileList.map((file) => `- ${file}`).join('\n')}`);
  for (const dependency of inputs.dependencies) {
    const notes = dependency.section.trim() || dependency.purpose || '(no notes)';
    parts.push(`# Plan for \`${dependency.path}\` (a dependency)\n\n${notes}`);
  }
  if (inputs.fullSpec !== undefined) parts.push(inputs.fullSpec);
  const purpose = inputs.purpose === '' ? '' : `Purpose: ${inputs.purpose}\n\n`;
  parts.push(`# Plan for \`${inputs.path}\` (the file to write)\n\n${purpose}${inputs.planSection.trim()}`);
  if (inputs.specSection.trim() !== '')
    parts.push(`# Requirements for \`${inputs.path}\` from the spec\n\n${inputs.specSection}`);
  if (currentContent !== undefined) {
    parts.push(
      `# Current content of \`${inputs.path}\`\n\nKeep what still fits (including edits made by hand) and change only what the plan requires.\n\n${fence(currentContent)}`,
    );
  }
  parts.push(`Write the complete content of \`${inputs.path}\`.`);
  return [
    { role: 'system', content: CODE_SYSTEM },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

/** Wraps text in a backtick fence longer than any run of backticks it contains. */
function fence(text: string, info = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const marker = '`'.repeat(longest + 1);
  return `${marker}${info}\n${text.endsWith('\n') ? text : `${text}\n`}${marker}`;
}

const DEBUG_SYSTEM = `You are an expert engineer fixing a codebase. You get an error (a failing command's output or a \
stack trace), the plan the code was written from, and the files most relevant to the error. Find the cause and fix it \
with as few changes as possible.
Answer with every file you change, each as a level-3 heading holding its path in a code span (\`### \\\`src/x.ts\\\`\`) \
followed by ONE fenced code block with the file's complete new content (never a diff, never "rest unchanged"). Use a \
longer fence (\`\`\`\`) when the file itself contains \`\`\` fences. Paths are relative to the project root. You may add \
one short sentence before each heading saying what you fixed.`;

export interface DebugFile {
  path: string;
  content: string;
}

export function debugMessages(options: {
  error: string;
  planGlobal: string;
  files: DebugFile[];
  omitted: string[];
}): ChatMessage[] {
  const parts = [`# The error\n\n${fence(options.error.trim() || '(no output)')}`];
  if (options.planGlobal.trim() !== '') parts.push(`# Plan (shared by all files)\n\n${options.planGlobal.trim()}`);
  for (const file of options.files) parts.push(`# \`${file.path}\`\n\n${fence(file.content)}`);
  if (options.omitted.length > 0)
    parts.push(`# Other files (not shown)\n\n${options.omitted.map((file) => `- ${file}`).join('\n')}`);
  parts.push('Fix the error. Answer with the complete new content of each file you change.');
  return [
    { role: 'system', content: DEBUG_SYSTEM },
    { role: 'user', content: parts.join('\n\n') },
  ];
}

const FROM_CODE_SYSTEM = `You describe an existing codebase as a smol spec, precisely enough that another engineer could \
rewrite every file from your description alone: the program's purpose, stack, libraries, data shapes, naming and \
conventions, and for each file what it contains, exports and uses (names, signatures, routes, DOM ids, messages).
Answer in Markdown: ${'`'}## Global${'`'} (only when asked) with the overall description, then for EVERY file you are given a \
level-3 heading holding its path in a code span (\`### \\\`path\\\`\`) followed by its description. Do not copy the code; \
describe it.`;

export function fromCodeMessages(options: {
  files: DebugFile[];
  withGlobal: boolean;
  allPaths: string[];
}): ChatMessage[] {
  const parts = [`# All files of the codebase\n\n${options.allPaths.map((file) => `- ${file}`).join('\n')}`];
  for (const file of options.files) parts.push(`# \`${file.path}\`\n\n${fence(file.content)}`);
  parts.push(
    options.withGlobal
      ? 'Write `## Global`, then a `### `path`` section for each file shown above.'
      : 'Write a `### `path`` section for each file shown above (no global part).',
  );
  return [
    { role: 'system', content: FROM_CODE_SYSTEM },
    { role: 'user', content: parts.join('\n\n') },
  ];
}
