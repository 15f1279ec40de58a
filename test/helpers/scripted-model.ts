import { parsePlan, type Plan } from '../../src/plan/plan-markdown.js';
import type { MockReply, RecordedRequest } from './openai-server.js';

interface ScriptedFile {
  purpose?: string;
  dependsOn?: string[];
  /** Plan section text; default derived from the purpose. */
  section?: string;
  /** What the code call answers (wrapped in a fence with prose around, like a chatty model). */
  content: string | ((request: RecordedRequest) => string);
}

export interface ScriptedApp {
  global?: string;
  files: Record<string, ScriptedFile>;
}

/**
 * A handler for the loopback server that behaves like a cooperative model for a fixed app:
 * the plan stage answers with the plan, the file-list stage calls the tool, each code call answers with
 * that file's content in a fence surrounded by prose. `app` can be swapped between runs.
 */
export function scriptedModel(app: () => ScriptedApp): (request: RecordedRequest) => MockReply {
  return (request) => {
    const current = app();
    if (request.stage === 'plan') {
      const sections = new Map(Object.entries(current.files).map(([path, file]) => [path, sectionOf(path, file)]));
      const global = current.global ?? DEFAULT_GLOBAL;
      // A re-plan answers with only what changed against the previous plan it was sent, as the template asks.
      const previous = previousPlan(request);
      const answer = previous === undefined ? planMarkdown(current) : replanAnswer(previous, sections, global);
      return { content: answer };
    }
    if (request.stage === 'files') {
      const files = Object.entries(current.files).map(([path, file]) => ({
        path,
        purpose: file.purpose ?? `the ${path} file`,
        dependsOn: file.dependsOn ?? [],
      }));
      return { toolCalls: [{ name: 'submit_file_list', arguments: JSON.stringify({ files }) }] };
    }
    if (request.stage === 'code' && request.file !== undefined) {
      const file = current.files[request.file];
      if (file === undefined) return { status: 400, error: { message: `no scripted file ${request.file}` } };
      const content = typeof file.content === 'function' ? file.content(request) : file.content;
      return {
        content: `Here is \`${request.file}\`:\n\n\`\`\`ts\n${content}\`\`\`\n\nLet me know if you need anything else.`,
      };
    }
    return { status: 400, error: { message: `unexpected stage ${String(request.stage)}` } };
  };
}

const DEFAULT_GLOBAL = 'TypeScript, ESM, no dependencies.';

function sectionOf(path: string, file: ScriptedFile): string {
  return file.section ?? `Exports what ${file.purpose ?? path} needs.`;
}

function planMarkdown(app: ScriptedApp): string {
  const sections = Object.entries(app.files).map(([path, file]) => `### \`${path}\`\n\n${sectionOf(path, file)}`);
  return `## Global\n\n${app.global ?? DEFAULT_GLOBAL}\n\n${sections.join('\n\n')}\n`;
}

/** The previous plan quoted in a re-plan request, or undefined for a first plan. */
function previousPlan(request: RecordedRequest): Plan | undefined {
  const messages = (request.body?.messages ?? []) as { role: string; content: string }[];
  const user = messages.find((message) => message.role === 'user')?.content ?? '';
  const match = /# Previous plan\n\n([\s\S]*?)\n\n# Spec diff since the previous plan/.exec(user);
  return match === null ? undefined : parsePlan(match[1]!);
}

/** Only what changed since the previous plan: changed or new sections, REMOVED ones, the global part if it moved. */
function replanAnswer(before: Plan, after: Map<string, string>, global: string): string {
  const parts: string[] = [];
  const old = new Map(before.sections.map((section) => [section.path, section.text]));
  if (global !== before.global) parts.push(`## Global\n\n${global}`);
  for (const [path, text] of after) if (old.get(path) !== text) parts.push(`### \`${path}\`\n\n${text}`);
  for (const path of old.keys()) if (!after.has(path)) parts.push(`### \`${path}\`\n\nREMOVED`);
  return parts.length === 0 ? 'NO CHANGES' : `Here is what changes:\n\n${parts.join('\n\n')}\n`;
}

/** Requests per stage, e.g. `{ plan: 1, files: 1, code: 3 }`. */
export function callsByStage(requests: readonly RecordedRequest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const request of requests) counts[request.stage ?? 'none'] = (counts[request.stage ?? 'none'] ?? 0) + 1;
  return counts;
}

export function codeCalls(requests: readonly RecordedRequest[]): string[] {
  return requests
    .filter((request) => request.stage === 'code')
    .map((request) => request.file ?? '')
    .sort();
}
