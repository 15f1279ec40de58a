import { createFakeProvider, type FakeProvider } from '../../src/llm/fake.js';
import type { CompletionRequest } from '../../src/llm/types.js';

/** The spec of the model-based tests: a few knobs a user turns, rendered to a prompt.md. */
export interface SpecState {
  /** The global text's version (a sentence every file's plan shares). */
  version: number;
  /** Extra spaces and blank lines: a whitespace-only edit. */
  whitespace: number;
  /** Per-file section versions. */
  sections: Record<string, number>;
  model: 'm1' | 'm2';
  outDir: 'app' | 'web';
  /** Whether `src/d.ts` is in the spec (and so in the plan). */
  withD: boolean;
}

const BASE_FILES = ['src/a.ts', 'src/b.ts', 'src/c.ts'] as const;
export const OPTIONAL_FILE = 'src/d.ts';

export function initialSpec(): SpecState {
  return {
    version: 1,
    whitespace: 0,
    sections: { 'src/a.ts': 1, 'src/b.ts': 1, 'src/c.ts': 1, 'src/d.ts': 1 },
    model: 'm1',
    outDir: 'app',
    withD: false,
  };
}

export function plannedFiles(spec: SpecState): string[] {
  return spec.withD ? [...BASE_FILES, OPTIONAL_FILE] : [...BASE_FILES];
}

export function renderSpecFile(spec: SpecState): string {
  const pad = ' '.repeat(spec.whitespace % 3);
  const blank = '\n'.repeat(1 + (spec.whitespace % 2));
  const sections = plannedFiles(spec)
    .map((file) => `## \`${file}\`\n\nThe ${file} module, revision ${spec.sections[file]}.${pad}\n`)
    .join(blank);
  return `---\nmodel: ${spec.model}\noutDir: ${spec.outDir}\n---\n# App${pad}\n${blank}Shared version ${spec.version}.${pad}\n\n${sections}`;
}

/**
 * A model whose answers are a pure function of the request, as the issue asks: the plan follows the spec's
 * sections, a re-plan returns only what changed against the plan it is sent, and a file's content follows
 * its plan section, the shared plan and the model (never its current content, so hand edits are smol's to
 * keep). Eight body lines leave room for hand edits that merge cleanly.
 */
export function scriptedProvider(): FakeProvider {
  return createFakeProvider((request) => {
    const user = request.messages.find((message) => message.role === 'user')?.content ?? '';
    // Usage as a server reports it (a rough count): the fake provider would otherwise count tokens with
    // the tokenizer on every call, a sixth of this test's time, and no invariant here is about usage.
    const usage = { inputTokens: Math.ceil(user.length / 4), outputTokens: 0, estimated: false };
    if (request.stage === 'plan') return { text: planAnswer(user), usage };
    if (request.stage === 'files')
      return { toolCalls: [{ name: 'submit_file_list', arguments: JSON.stringify({ files: fileList(user) }) }], usage };
    if (request.stage === 'code' && request.file !== undefined)
      return { text: `\`\`\`ts\n${generation(request, user)}\`\`\``, usage };
    return new Error(`unexpected request ${request.stage}`);
  });
}

function specSections(user: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const match of user.matchAll(/^## `([^`]+)`\n\n([^\n]+)/gm)) sections.set(match[1]!, match[2]!);
  return sections;
}

function globalLine(user: string): string {
  return /Shared version (\d+)\./.exec(user)?.[0] ?? 'Shared version ?.';
}

function planFor(user: string): { global: string; sections: Map<string, string> } {
  const sections = new Map<string, string>();
  for (const [file, text] of specSections(user)) sections.set(file, `Plan: ${text}`);
  return { global: `TypeScript. ${globalLine(user)}`, sections };
}

function planAnswer(user: string): string {
  const wanted = planFor(user);
  const previous = /# Previous plan\n\n([\s\S]*?)\n\n# Spec diff since the previous plan/.exec(user)?.[1];
  if (previous === undefined) {
    return `## Global\n\n${wanted.global}\n\n${[...wanted.sections].map(([file, text]) => `### \`${file}\`\n\n${text}`).join('\n\n')}\n`;
  }
  const old = new Map<string, string>();
  for (const match of previous.matchAll(/^### `([^`]+)`\n\n([^\n]+)/gm)) old.set(match[1]!, match[2]!);
  const oldGlobal = /## Global\n\n([^\n]+)/.exec(previous)?.[1];
  const parts: string[] = [];
  if (oldGlobal !== wanted.global) parts.push(`## Global\n\n${wanted.global}`);
  for (const [file, text] of wanted.sections) if (old.get(file) !== text) parts.push(`### \`${file}\`\n\n${text}`);
  for (const file of old.keys()) if (!wanted.sections.has(file)) parts.push(`### \`${file}\`\n\nREMOVED`);
  return parts.length === 0 ? 'NO CHANGES' : `${parts.join('\n\n')}\n`;
}

function fileList(user: string): { path: string; purpose: string; dependsOn: string[] }[] {
  const plan = /# Plan\n\n([\s\S]*)$/.exec(user)?.[1] ?? '';
  return [...plan.matchAll(/^### `([^`]+)`/gm)].map((match) => ({
    path: match[1]!,
    purpose: `the ${match[1]} module`,
    dependsOn: [],
  }));
}

/** A file's generation: a header that follows the plan, a fixed body, a footer. */
function generation(request: CompletionRequest, user: string): string {
  const section =
    new RegExp(
      `# Plan for \`${escapeRegExp(request.file!)}\` \\(the file to write\\)\\n\\n(?:Purpose: [^\\n]*\\n\\n)?([^\\n]*)`,
    ).exec(user)?.[1] ?? '';
  const shared = /# Plan \(shared by all files\)\n\n([^\n]*)/.exec(user)?.[1] ?? '';
  const body = Array.from({ length: 8 }, (_, index) => `export const line${index + 1} = ${index + 1};`);
  return [`// ${request.file} by ${request.model}`, `// ${section}`, `// ${shared}`, ...body, '// end', ''].join('\n');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
