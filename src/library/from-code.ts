import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { emptyUsage, type EventSink, type RunUsage } from '../engine/events.js';
import { lockExistingFiles } from '../engine/lock-existing.js';
import { statePaths } from '../engine/paths.js';
import { buildStageContext } from '../engine/stage-context.js';
import { SmolError } from '../errors.js';
import { estimateTokens } from '../llm/estimate.js';
import type { Provider } from '../llm/types.js';
import { parsePlan, type Plan } from '../plan/plan-markdown.js';
import type { PlannedFile } from '../plan/stages.js';
import { fromCodeMessages, type DebugFile } from '../plan/templates.js';
import { loadSpec } from '../spec/load.js';
import { checkOutputPath } from '../workspace/safe-path.js';

const SKIPPED_FOLDERS = new Set(['node_modules', '.git', '.smol', 'dist', 'build', 'coverage', '.next', '.venv', 'venv', '__pycache__', 'target']);
const SKIPPED_FILES = /(^|\/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb|Cargo\.lock|poetry\.lock|smol\.lock|\.DS_Store)$|\.lock$/;
const MAX_FILE_BYTES = 100_000;
const BATCH_TOKENS = 24_000;

export interface FromCodeOptions {
  /** The existing codebase. */
  codeDir: string;
  /** Where to write the spec (its folder also gets smol.lock and .smol/). */
  specFile: string;
  /** Frontmatter settings to write (model, provider, baseURL, …). `model` is required. */
  settings: { model: string } & Record<string, unknown>;
  provider: Provider;
  providerIdentity?: string;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

export interface FromCodeResult {
  files: string[];
  skipped: { path: string; reason: string }[];
  usage: RunUsage;
}

/**
 * The seed's code2prompt, incremental-aware: describes an existing codebase as a spec with a per-file
 * section for each file, then writes a lock that records the files as they are as the current base, so a
 * first `smol run` reuses the plan, finds every file up to date, and changes nothing.
 */
export async function specFromCode(options: FromCodeOptions): Promise<FromCodeResult> {
  const codeDir = path.resolve(options.codeDir);
  const specFile = path.resolve(options.specFile);
  const specDir = path.dirname(specFile);
  const { files, skipped } = await collectFiles(codeDir);
  if (files.length === 0) throw new SmolError('FROM_CODE_EMPTY', `No text files to describe in ${codeDir}.`, { exitCode: 2 });

  // The spec is loaded once with placeholder text so the stage context has the real settings.
  const outDir = path.relative(specDir, codeDir) || '.';
  const frontmatter = renderFrontmatter({ ...options.settings, outDir });
  await mkdir(specDir, { recursive: true });
  await writeFile(specFile, `${frontmatter}Placeholder.\n`, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') throw new SmolError('SPEC_EXISTS', `${specFile} already exists; nothing was changed.`, { exitCode: 2, hint: 'Choose another spec path, or remove it.' });
    throw error;
  });
  const draft = await loadSpec(specFile);
  const usage = emptyUsage();
  const paths = statePaths(specDir);
  const context = buildStageContext({ spec: draft, provider: options.provider, providerIdentity: options.providerIdentity, cacheDir: paths.cache, usage, onEvent: options.onEvent ?? (() => {}), signal: options.signal });

  // Batches within a token budget; the first one also asks for the global description.
  const described = new Map<string, string>();
  let global = '';
  for (const [index, batch] of batches(files, draft.settings.model).entries()) {
    const result = await context.provider.complete(
      { stage: 'plan', model: context.model, temperature: context.temperature, maxTokens: context.maxTokens, messages: fromCodeMessages({ files: batch, withGlobal: index === 0, allPaths: files.map((file) => file.path) }) },
      options.signal === undefined ? {} : { signal: options.signal },
    );
    if (result.finishReason === 'length') throw new SmolError('FROM_CODE_TRUNCATED', 'The description was cut off by the token limit.', { hint: 'Raise --max-tokens.' });
    const parsed = parsePlan(result.text);
    if (index === 0) global = parsed.global;
    for (const section of parsed.sections) described.set(section.path, section.text);
  }
  const missing = files.filter((file) => !described.has(file.path)).map((file) => file.path);
  for (const file of missing) described.set(file, `The file \`${file}\`.`);

  const body = `${global.trim() || 'An existing codebase.'}\n\n${files.map((file) => `## \`${file.path}\`\n\n${described.get(file.path)!.trim()}`).join('\n\n')}\n`;
  await writeFile(specFile, `${frontmatter}${body}`);

  // The lock: exactly what a run would compute for this spec, with the files on disk as its outputs.
  const spec = await loadSpec(specFile);
  const planned: PlannedFile[] = files.map((file) => ({ path: file.path, purpose: firstSentence(described.get(file.path)!), dependsOn: [] }));
  const plan: Plan = { global: spec.globalText.trim(), sections: planned.map((file) => ({ path: file.path, text: described.get(file.path)!.trim() })) };
  await lockExistingFiles({ spec, paths, providerName: options.provider.name, plan, files: planned, contents: new Map(files.map((file) => [file.path, file.content])) });
  return { files: files.map((file) => file.path), skipped, usage };
}

async function collectFiles(root: string): Promise<{ files: DebugFile[]; skipped: { path: string; reason: string }[] }> {
  const files: DebugFile[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries.sort((a, b) => path.join(a.parentPath, a.name).localeCompare(path.join(b.parentPath, b.name)))) {
    if (!entry.isFile()) continue;
    const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    if (relative.split('/').some((segment) => SKIPPED_FOLDERS.has(segment))) continue;
    if (SKIPPED_FILES.test(relative)) {
      skipped.push({ path: relative, reason: 'lock or generated file' });
      continue;
    }
    if (!checkOutputPath(relative).ok) {
      skipped.push({ path: relative, reason: 'a path smol would not write' });
      continue;
    }
    const size = (await stat(path.join(root, relative))).size;
    if (size > MAX_FILE_BYTES) {
      skipped.push({ path: relative, reason: `larger than ${MAX_FILE_BYTES} bytes` });
      continue;
    }
    const buffer = await readFile(path.join(root, relative));
    const text = buffer.toString('utf8');
    if (buffer.includes(0) || text.includes('\ufffd')) {
      skipped.push({ path: relative, reason: 'binary' });
      continue;
    }
    files.push({ path: relative, content: text });
  }
  return { files, skipped };
}

function batches(files: readonly DebugFile[], model: string): DebugFile[][] {
  const result: DebugFile[][] = [];
  let current: DebugFile[] = [];
  let tokens = 0;
  for (const file of files) {
    const cost = estimateTokens(file.content, model) + 16;
    if (current.length > 0 && tokens + cost > BATCH_TOKENS) {
      result.push(current);
      current = [];
      tokens = 0;
    }
    current.push(file);
    tokens += cost;
  }
  if (current.length > 0) result.push(current);
  return result;
}

function renderFrontmatter(settings: Record<string, unknown>): string {
  const lines = Object.entries(settings)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
  return `---\n# Written by \`smol init --from-code\`: a description of the existing code, detailed enough to regenerate it.\n${lines.join('\n')}\n---\n`;
}

function firstSentence(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  const sentence = /^(.*?[.!?])(\s|$)/.exec(line)?.[1] ?? line;
  return sentence.slice(0, 200);
}
