import { estimateTokens } from '../llm/estimate.js';
import type { DebugFile } from '../plan/templates.js';
import { escapeRegExp } from '../internal/escape-regexp.js';

export interface CandidateFile {
  path: string;
  dependsOn: string[];
}

export interface Selection {
  files: DebugFile[];
  /** Files left out to stay within the budget (or unreadable). */
  omitted: string[];
  /** Tokens counted for the error and the included files. */
  tokens: number;
}

/**
 * The files most relevant to an error, within a token budget counted with the tokenizer: files named in
 * the error (by path, then by file name) in the order they appear, then their dependencies from the plan,
 * then the rest of the plan while room remains.
 */
export async function selectRelevantFiles(options: {
  error: string;
  candidates: readonly CandidateFile[];
  read: (path: string) => Promise<string | undefined>;
  maxTokens: number;
  model?: string;
}): Promise<Selection> {
  const ordered = rankByRelevance(options.error, options.candidates);
  let tokens = estimateTokens(options.error, options.model);
  const files: DebugFile[] = [];
  const omitted: string[] = [];
  for (const path of ordered) {
    const content = await options.read(path).catch(() => undefined);
    if (content === undefined) continue;
    const cost = estimateTokens(content, options.model) + estimateTokens(path, options.model) + 8;
    if (tokens + cost > options.maxTokens) {
      omitted.push(path);
      continue;
    }
    tokens += cost;
    files.push({ path, content });
  }
  return { files, omitted, tokens };
}

export function rankByRelevance(error: string, candidates: readonly CandidateFile[]): string[] {
  const named = candidates
    .map((file) => ({ path: file.path, at: mentionIndex(error, file.path) }))
    .filter((entry) => entry.at !== -1)
    .sort((a, b) => a.at - b.at)
    .map((entry) => entry.path);
  const byPath = new Map(candidates.map((file) => [file.path, file]));
  const ordered: string[] = [...named];
  const seen = new Set(named);
  // Dependencies of the named files, breadth first.
  for (let index = 0; index < ordered.length; index += 1) {
    for (const dependency of byPath.get(ordered[index]!)?.dependsOn ?? []) {
      if (!seen.has(dependency) && byPath.has(dependency)) {
        seen.add(dependency);
        ordered.push(dependency);
      }
    }
  }
  for (const file of candidates) if (!seen.has(file.path)) ordered.push(file.path);
  return ordered;
}

/** Where `path` is mentioned: the full path first, else its file name as a whole word; -1 when absent. */
function mentionIndex(error: string, path: string): number {
  const full = error.indexOf(path);
  if (full !== -1) return full;
  const name = path.split('/').pop()!;
  const match = new RegExp(`(^|[^\\w.-])${escapeRegExp(name)}(?![\\w-])`).exec(error);
  return match === null ? -1 : match.index + error.length; // after every full-path mention
}
