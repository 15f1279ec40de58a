import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { emptyUsage, type EventSink, type RunUsage } from '../engine/events.js';
import { lockExistingFiles } from '../engine/lock-existing.js';
import { statePaths } from '../engine/paths.js';
import { buildStageContext } from '../engine/stage-context.js';
import { knownSecrets, type Env } from '../debug/credentials.js';
import { SmolError } from '../errors.js';
import { estimateTokens } from '../llm/estimate.js';
import type { Provider } from '../llm/types.js';
import { parsePlan, type Plan } from '../plan/plan-markdown.js';
import type { PlannedFile, StageContext } from '../plan/stages.js';
import { fromCodeMessages, type DebugFile } from '../plan/templates.js';
import { loadSpec } from '../spec/load.js';
import { collectCodeFiles, type SkippedFile } from './code-files.js';

const BATCH_TOKENS = 24_000;

export interface FromCodeOptions {
  /** The existing codebase: an absolute path (the CLI resolves it against its `cwd`). */
  codeDir: string;
  /** Where to write the spec, absolute (its folder also gets smol.lock and .smol/). */
  specFile: string;
  /** Frontmatter settings to write (model, provider, baseURL, …). `model` is required. */
  settings: { model: string } & Record<string, unknown>;
  provider: Provider;
  providerIdentity?: string;
  /** The caller's environment: a file holding one of its credentials is never sent. */
  env: Env;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

export interface FromCodeResult {
  files: string[];
  /** What was not sent to the model, and why: git-ignored, secrets, binaries, lock files, … */
  skipped: SkippedFile[];
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
  await assertFolder(codeDir);
  const { files, skipped } = await collectCodeFiles(codeDir, { knownSecrets: knownSecrets(options.env) });
  if (files.length === 0)
    throw new SmolError('FROM_CODE_EMPTY', `No text files to describe in ${codeDir}.`, { exitCode: 2 });

  // The spec is loaded once with placeholder text so the stage context has the real settings.
  const frontmatter = renderFrontmatter({ ...options.settings, outDir: path.relative(specDir, codeDir) || '.' });
  await writeNewSpec(specFile, `${frontmatter}Placeholder.\n`);
  const draft = await loadSpec(specFile);
  const usage = emptyUsage();
  const paths = statePaths(specDir);
  const context = buildStageContext({
    spec: draft,
    provider: options.provider,
    providerIdentity: options.providerIdentity,
    cacheDir: paths.cache,
    usage,
    onEvent: options.onEvent ?? (() => {}),
    signal: options.signal,
  });
  const description = await describeFiles(context, files, draft.settings.model, options.signal);
  await writeFile(specFile, `${frontmatter}${specBody(description, files)}`);

  // The lock: exactly what a run would compute for this spec, with the files on disk as its outputs.
  const spec = await loadSpec(specFile);
  const planned: PlannedFile[] = files.map((file) => ({
    path: file.path,
    purpose: firstSentence(description.sections.get(file.path)!),
    dependsOn: [],
  }));
  const plan: Plan = {
    global: spec.globalText.trim(),
    sections: planned.map((file) => ({ path: file.path, text: description.sections.get(file.path)!.trim() })),
  };
  await lockExistingFiles({
    spec,
    paths,
    providerName: options.provider.name,
    plan,
    files: planned,
    contents: new Map(files.map((file) => [file.path, file.content])),
  });
  return { files: files.map((file) => file.path), skipped, usage };
}

/** Writes the spec's first text; never over an existing file. */
async function writeNewSpec(specFile: string, text: string): Promise<void> {
  await mkdir(path.dirname(specFile), { recursive: true });
  await writeFile(specFile, text, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST')
      throw new SmolError('SPEC_EXISTS', `${specFile} already exists; nothing was changed.`, {
        exitCode: 2,
        hint: 'Choose another spec path, or remove it.',
      });
    throw error;
  });
}

interface CodeDescription {
  global: string;
  /** Every file's section text, by path (a file the model left out gets a one-line stand-in). */
  sections: Map<string, string>;
}

/** Batches within a token budget; the first one also asks for the global description. */
async function describeFiles(
  context: StageContext,
  files: readonly DebugFile[],
  model: string,
  signal: AbortSignal | undefined,
): Promise<CodeDescription> {
  const sections = new Map<string, string>();
  let global = '';
  for (const [index, batch] of batches(files, model).entries()) {
    const result = await context.provider.complete(
      {
        stage: 'plan',
        model: context.model,
        temperature: context.temperature,
        maxTokens: context.maxTokens,
        messages: fromCodeMessages({ files: batch, withGlobal: index === 0, allPaths: files.map((file) => file.path) }),
      },
      { signal },
    );
    if (result.finishReason === 'length')
      throw new SmolError('FROM_CODE_TRUNCATED', 'The description was cut off by the token limit.', {
        hint: 'Raise --max-tokens.',
      });
    const parsed = parsePlan(result.text);
    if (index === 0) global = parsed.global;
    for (const section of parsed.sections) sections.set(section.path, section.text);
  }
  for (const file of files) if (!sections.has(file.path)) sections.set(file.path, `The file \`${file.path}\`.`);
  return { global, sections };
}

function specBody(description: CodeDescription, files: readonly DebugFile[]): string {
  const sections = files.map((file) => `## \`${file.path}\`\n\n${description.sections.get(file.path)!.trim()}`);
  return `${description.global.trim() || 'An existing codebase.'}\n\n${sections.join('\n\n')}\n`;
}

/** The code folder must exist and be a folder: a user error with the fix, never ENOENT. */
async function assertFolder(codeDir: string): Promise<void> {
  const stats = await stat(codeDir).catch(() => undefined);
  if (stats?.isDirectory() === true) return;
  throw new SmolError(
    'FROM_CODE_NO_FOLDER',
    `${codeDir} ${stats === undefined ? 'does not exist' : 'is not a folder'}; nothing was written.`,
    {
      exitCode: 2,
      hint: 'Pass the folder that holds the existing code, e.g. `smol init --from-code src --model gpt-4o`.',
    },
  );
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
