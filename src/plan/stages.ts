import { z } from 'zod';
import { SmolError } from '../errors.js';
import { ProviderError } from '../llm/errors.js';
import type { CompletionResult, Provider, Usage } from '../llm/types.js';
import { extractCode } from './extract-code.js';
import { mergeReplan, parsePlan, type Plan } from './plan-markdown.js';
import {
  FILE_LIST_TOOL,
  codeMessages,
  fileListMessages,
  planMessages,
  replanMessages,
  type FileInputs,
  type SpecPromptParts,
} from './templates.js';

/** What every stage needs to call the model. */
export interface StageContext {
  provider: Provider;
  model: string;
  temperature: number;
  maxTokens: number;
  signal?: AbortSignal;
}

export interface StageResult<T> {
  value: T;
  usage: Usage;
  /** True when the answer came from the response cache. */
  cached: boolean;
}

/** Stage 1: the shared-dependencies plan, or (with a previous plan) a stable re-plan. */
export async function planStage(
  context: StageContext,
  spec: SpecPromptParts,
  previous?: { plan: Plan; rendered: string; specDiff: string },
): Promise<StageResult<Plan>> {
  const messages =
    previous === undefined ? planMessages(spec) : replanMessages(spec, previous.rendered, previous.specDiff);
  const result = await call(context, { stage: 'plan', messages });
  if (result.finishReason === 'length') {
    throw new SmolError('PLAN_TRUNCATED', 'The plan was cut off by the token limit.', {
      hint: 'Raise `maxTokens` in the spec or use a model with a larger output limit.',
    });
  }
  const plan = previous === undefined ? parsePlan(result.text) : mergeReplan(previous.plan, result.text);
  if (previous === undefined && plan.global === '' && plan.sections.length === 0) {
    throw new SmolError('PLAN_EMPTY', `The model (${context.model}) returned an empty plan.`, {
      hint: 'Check that the model is a chat model and that the spec describes a program.',
    });
  }
  return { value: plan, usage: result.usage, cached: result.cached === true };
}

export const plannedFileSchema = z.object({
  path: z.string(),
  purpose: z.string().default(''),
  dependsOn: z.array(z.string()).default([]),
});
export const fileListSchema = z.object({ files: z.array(plannedFileSchema) });
export type PlannedFile = z.output<typeof plannedFileSchema>;

const fileListParameters = z.toJSONSchema(
  z.object({
    files: z
      .array(
        z.object({
          path: z.string().describe('Relative path with forward slashes, e.g. src/server.ts'),
          purpose: z.string().describe('One line: what the file is for'),
          dependsOn: z.array(z.string()).describe('Paths of the files this one imports or uses'),
        }),
      )
      .describe('Every file of the plan'),
  }),
) as Record<string, unknown>;

/**
 * Stage 2: the file list, through function calling (a forced tool call), validated by zod.
 *
 * Servers without forced tool calls or JSON mode (Ollama ignores `tool_choice`; small local models answer
 * in prose) are met halfway: JSON in the text is accepted too (fenced or bare, an array of files, or a
 * tool call written out as text), and a server that refuses tools altogether (400 naming them) is asked
 * for JSON in text instead. An answer that still does not validate gets ONE repair request quoting the
 * problem; a second failure is a FILE_LIST_INVALID error naming the model and what it returned.
 */
export async function fileListStage(
  context: StageContext,
  spec: SpecPromptParts,
  planText: string,
): Promise<StageResult<PlannedFile[]>> {
  const messages = fileListMessages(spec, planText);
  let first: CompletionResult & { cached?: boolean };
  try {
    first = await call(context, {
      stage: 'files',
      messages,
      tools: [{ name: FILE_LIST_TOOL, description: 'Submit the list of files to write.', parameters: fileListParameters }],
      toolChoice: FILE_LIST_TOOL,
    });
  } catch (error) {
    if (!(error instanceof ProviderError && error.code === 'PROVIDER_BAD_REQUEST' && /tool|function/i.test(error.message))) throw error;
    first = await call(context, { stage: 'files', messages: [...messages, { role: 'user', content: JSON_ANSWER }] });
  }
  const attempt = readFileList(first);
  if (attempt.ok) return { value: attempt.files, usage: first.usage, cached: first.cached === true };

  const repair = await call(context, {
    stage: 'files',
    messages: [
      ...messages,
      { role: 'assistant', content: clip(attempt.answer, 8000) || '(an empty answer)' },
      { role: 'user', content: `That answer could not be used: ${attempt.problem}.\n\n${JSON_ANSWER}` },
    ],
  });
  const repaired = readFileList(repair);
  const usage: Usage = {
    inputTokens: first.usage.inputTokens + repair.usage.inputTokens,
    outputTokens: first.usage.outputTokens + repair.usage.outputTokens,
    estimated: first.usage.estimated || repair.usage.estimated,
  };
  if (repaired.ok) return { value: repaired.files, usage, cached: first.cached === true && repair.cached === true };
  throw new SmolError(
    'FILE_LIST_INVALID',
    `The model ${context.model} did not return a usable file list, even when asked again: ${repaired.problem}. It answered: ${abbreviate(repaired.answer) || '(nothing)'}`,
    {
      hint: 'Use a model that supports tool calling or JSON output (for Ollama, one tagged "tools", such as qwen2.5-coder or llama3.1), then run again.',
    },
  );
}

const JSON_ANSWER = `Answer with only a JSON object listing every file of the plan, in a \`\`\`json code block and nothing else, shaped like:
{"files": [{"path": "src/index.ts", "purpose": "one line", "dependsOn": ["src/util.ts"]}]}`;

type FileListAttempt = { ok: true; files: PlannedFile[] } | { ok: false; problem: string; answer: string };

/** The file list in an answer: the tool call's arguments, else JSON in the text; or what is wrong with it. */
function readFileList(result: CompletionResult): FileListAttempt {
  const toolCall = result.toolCalls.find((candidate) => candidate.name === FILE_LIST_TOOL) ?? (result.toolCalls.length === 1 ? result.toolCalls[0] : undefined);
  const answer = toolCall?.arguments ?? result.text;
  const raw = toolCall?.arguments ?? jsonInText(result.text);
  if (raw === undefined) {
    return { ok: false, problem: `it contains no JSON (neither a call of ${FILE_LIST_TOOL} nor a JSON object in the text)`, answer };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    return { ok: false, problem: `it is not valid JSON (${(error as Error).message})`, answer };
  }
  const validated = fileListSchema.safeParse(unwrapFileList(parsed));
  if (!validated.success) {
    const issues = validated.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    return { ok: false, problem: `it does not match the expected shape: ${issues.join('; ')}`, answer };
  }
  if (validated.data.files.length === 0) return { ok: false, problem: 'it lists no files', answer };
  return { ok: true, files: validated.data.files };
}

/** Shapes models produce instead of `{files: [...]}`: a bare array, or a tool call written out as JSON. */
function unwrapFileList(value: unknown): unknown {
  if (Array.isArray(value)) return { files: value.map(renameDependsOn) };
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  for (const key of ['arguments', 'parameters', 'input']) {
    const inner = typeof record[key] === 'string' ? safeJson(record[key]) : record[key];
    if (typeof inner === 'object' && inner !== null && 'files' in inner) return unwrapFileList(inner);
  }
  return Array.isArray(record.files) ? { ...record, files: record.files.map(renameDependsOn) } : record;
}

function renameDependsOn(entry: unknown): unknown {
  if (typeof entry !== 'object' || entry === null || 'dependsOn' in entry) return entry;
  const record = entry as Record<string, unknown>;
  const dependsOn = record.depends_on ?? record.dependencies;
  return dependsOn === undefined ? record : { ...record, dependsOn };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n[... cut]` : text;
}

export class FileGenerationError extends SmolError {
  override readonly name = 'FileGenerationError';
  readonly path: string;
  constructor(path: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('FILE_FAILED', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** Stage 3 for one file: the file's complete new content. */
export async function generateFileStage(
  context: StageContext,
  inputs: FileInputs,
  currentContent: string | undefined,
  options: { onToken?: (fragment: string) => void; refresh?: boolean } = {},
): Promise<StageResult<string>> {
  const result = await call(
    context,
    { stage: 'code', file: inputs.path, messages: codeMessages(inputs, currentContent) },
    options.onToken,
    options.refresh === true ? 'refresh' : 'use',
  );
  if (result.finishReason === 'length') {
    throw new FileGenerationError(inputs.path, `the answer was cut off by the token limit (maxTokens ${context.maxTokens}); nothing written`, {
      hint: 'Raise `maxTokens` in the spec, or split the file in the spec.',
    });
  }
  if (result.finishReason === 'content_filter') {
    throw new FileGenerationError(inputs.path, 'the provider filtered the answer; nothing written');
  }
  const extracted = extractCode(result.text);
  if (!extracted.ok) throw new FileGenerationError(inputs.path, `${extracted.reason}; nothing written`);
  return { value: extracted.content, usage: result.usage, cached: result.cached === true };
}

async function call(
  context: StageContext,
  request: Omit<Parameters<Provider['complete']>[0], 'model' | 'temperature' | 'maxTokens'>,
  onToken?: (fragment: string) => void,
  cache: 'use' | 'refresh' = 'use',
): Promise<CompletionResult & { cached?: boolean }> {
  return context.provider.complete(
    { ...request, model: context.model, temperature: context.temperature, maxTokens: context.maxTokens },
    {
      cache,
      ...(context.signal === undefined ? {} : { signal: context.signal }),
      ...(onToken === undefined ? {} : { onToken }),
    },
  );
}

/**
 * Some servers answer with the JSON in text instead of a tool call: a fenced block, else the outermost
 * object, else the outermost array; the first that parses, or (for the error message) the first found.
 */
function jsonInText(text: string): string | undefined {
  const fenced = /```(?:json)?[^\n]*\n([\s\S]*?)\n?```/.exec(text)?.[1];
  // From each opening bracket (prose like "[files]" may come first) to the last closing one.
  const slices = (open: string, close: string): { start: number; text: string }[] => {
    const end = text.lastIndexOf(close);
    const found: { start: number; text: string }[] = [];
    for (let start = text.indexOf(open); start !== -1 && start < end && found.length < 20; start = text.indexOf(open, start + 1)) {
      found.push({ start, text: text.slice(start, end + 1) });
    }
    return found;
  };
  // The outermost first: an object inside an array must not win over the array.
  const bracketed = [...slices('{', '}'), ...slices('[', ']')].sort((a, b) => a.start - b.start).map((slice) => slice.text);
  const candidates = [...(fenced === undefined ? [] : [fenced]), ...bracketed];
  return candidates.find((candidate) => safeJson(candidate) !== undefined) ?? candidates[0];
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function abbreviate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine;
}
