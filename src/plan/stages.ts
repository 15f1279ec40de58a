import { z } from 'zod';
import { SmolError } from '../errors.js';
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

/** Stage 2: the file list, through function calling, validated by zod. */
export async function fileListStage(
  context: StageContext,
  spec: SpecPromptParts,
  planText: string,
): Promise<StageResult<PlannedFile[]>> {
  const result = await call(context, {
    stage: 'files',
    messages: fileListMessages(spec, planText),
    tools: [{ name: FILE_LIST_TOOL, description: 'Submit the list of files to write.', parameters: fileListParameters }],
    toolChoice: FILE_LIST_TOOL,
  });
  const raw = result.toolCalls.find((toolCall) => toolCall.name === FILE_LIST_TOOL)?.arguments ?? jsonInText(result.text);
  if (raw === undefined) {
    throw new SmolError('FILE_LIST_MISSING', `The model (${context.model}) did not call ${FILE_LIST_TOOL}.`, {
      hint: 'Use a model that supports function calling.',
    });
  }
  const parsed = safeJson(raw);
  const validated = fileListSchema.safeParse(parsed);
  if (!validated.success) {
    const problem = validated.error.issues[0];
    throw new SmolError(
      'FILE_LIST_INVALID',
      `The file list from ${context.model} is not valid: ${problem?.path.join('.') || 'arguments'}: ${problem?.message ?? 'invalid JSON'} (got ${abbreviate(raw)})`,
      { hint: 'Run again; if it keeps failing, try another model.' },
    );
  }
  return { value: validated.data.files, usage: result.usage, cached: result.cached === true };
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

/** Some servers answer with the JSON in text instead of a tool call; take the first object found. */
function jsonInText(text: string): string | undefined {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n```/.exec(text);
  const candidate = fenced?.[1] ?? text;
  const start = candidate.indexOf('{');
  const end = candidate.lastIndexOf('}');
  return start === -1 || end <= start ? undefined : candidate.slice(start, end + 1);
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
