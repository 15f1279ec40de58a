import * as z from 'zod';
import { SmolError } from '../errors.js';
import { ProviderError } from '../llm/errors.js';
import { unsupportedFeatureOf } from '../llm/refusals.js';
import type { ChatMessage, CompletionRequest, CompletionResult } from '../llm/types.js';
import {
  abbreviate,
  call,
  clip,
  sumUsage,
  type FileListSetting,
  type StageCompletion,
  type StageContext,
  type StageResult,
} from './stage-call.js';
import {
  FILE_LIST_JSON_ANSWER,
  FILE_LIST_TOOL,
  fileListJsonMessages,
  fileListMessages,
  type SpecPromptParts,
} from './templates.js';
import { truncation } from './truncation.js';

const plannedFileSchema = z.object({
  path: z.string(),
  purpose: z.string().default(''),
  dependsOn: z.array(z.string()).default([]),
});
const fileListSchema = z.object({ files: z.array(plannedFileSchema) });
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

/** How the file list is asked for: a forced tool call, a response schema, or JSON in the text. */
export type FileListRoute = 'tools' | 'json-schema' | 'text';

/**
 * The routes to try, in order, for the spec's `fileList` on a provider. `auto`: OpenAI, Azure and
 * Anthropic force the tool call natively; local servers (Ollama, llama.cpp, vLLM, LM Studio) constrain
 * a response schema with a grammar, while their forced tool calls are not always forced (llama.cpp
 * needs `--jinja` for tools at all; Ollama ignores `tool_choice`). The text route is always last.
 */
function fileListRoutes(setting: FileListSetting, providerName: string): FileListRoute[] {
  if (setting !== 'auto') return setting === 'text' ? ['text'] : [setting, 'text'];
  if (providerName === 'anthropic') return ['tools', 'text'];
  if (providerName === 'openai' || providerName === 'azure') return ['tools', 'json-schema', 'text'];
  return ['json-schema', 'tools', 'text'];
}

/** The file list as stage 2 returns it, with how it was obtained. */
export interface FileListResult extends StageResult<PlannedFile[]> {
  route: FileListRoute;
  /** True when the first answer could not be used and the repair request's was. */
  repaired: boolean;
}

/**
 * Stage 2: the file list, validated by zod, through the first route of {@link fileListRoutes} the
 * server takes. A server refusing tools or a schema (any status; the provider remembers it for the run
 * and the response cache for the next) moves on to the next route at once. Answers are read leniently
 * (a tool call, JSON fenced or bare, a bare array, a tool call written out as text). An answer that
 * still does not validate gets ONE repair request quoting the problem; a second failure is a
 * FILE_LIST_INVALID error naming the model and what it returned.
 */
export async function fileListStage(
  context: StageContext,
  spec: SpecPromptParts,
  planText: string,
): Promise<FileListResult> {
  const routes = fileListRoutes(context.fileList ?? 'auto', context.provider.name);
  let first: { route: FileListRoute; messages: ChatMessage[]; result: StageCompletion } | undefined;
  for (const [index, route] of routes.entries()) {
    const messages = route === 'tools' ? fileListMessages(spec, planText) : fileListJsonMessages(spec, planText);
    try {
      first = { route, messages, result: await call(context, requestFor(route, messages)) };
      break;
    } catch (error) {
      if (index === routes.length - 1 || !refuses(error, route)) throw error;
    }
  }
  if (first === undefined) throw new Error('fileListStage: no route was tried');
  const { route, messages, result } = first;
  if (result.finishReason === 'length') throw truncatedList(context, result);
  const attempt = readFileList(result);
  if (attempt.ok)
    return done(context, attempt.files, {
      usage: result.usage,
      cached: result.cached === true,
      route,
      repaired: false,
    });

  // The repair keeps the response schema when that is what constrained the answer; after a tool call
  // that failed, it asks for JSON in the text (a model that fumbled the call may still write JSON).
  const repair = await call(context, {
    stage: 'files',
    messages: [
      ...messages,
      { role: 'assistant', content: clip(attempt.answer, 8000) || '(an empty answer)' },
      { role: 'user', content: `That answer could not be used: ${attempt.problem}.\n\n${FILE_LIST_JSON_ANSWER}` },
    ],
    ...(route === 'json-schema' ? { responseFormat: responseFormat() } : {}),
  });
  const usage = sumUsage([result.usage, repair.usage]);
  if (repair.finishReason === 'length') throw truncatedList(context, repair);
  const repaired = readFileList(repair);
  if (repaired.ok)
    return done(context, repaired.files, {
      usage,
      cached: result.cached === true && repair.cached === true,
      route,
      repaired: true,
    });
  throw new SmolError(
    'FILE_LIST_INVALID',
    `The model ${context.model} did not return a usable file list, even when asked again: ${repaired.problem}. It answered: ${abbreviate(repaired.answer) || '(nothing)'}`,
    {
      hint: 'Use a model that supports tool calling or JSON output (for Ollama, one tagged "tools", such as qwen2.5-coder or llama3.1), or try another `fileList:` (tools, json-schema, text), then run again.',
    },
  );
}

function responseFormat(): NonNullable<CompletionRequest['responseFormat']> {
  return { name: FILE_LIST_TOOL, schema: fileListParameters };
}

function requestFor(
  route: FileListRoute,
  messages: ChatMessage[],
): Omit<CompletionRequest, 'model' | 'temperature' | 'maxTokens'> {
  switch (route) {
    case 'tools':
      return {
        stage: 'files',
        messages,
        tools: [
          { name: FILE_LIST_TOOL, description: 'Submit the list of files to write.', parameters: fileListParameters },
        ],
        toolChoice: FILE_LIST_TOOL,
      };
    case 'json-schema':
      return { stage: 'files', messages, responseFormat: responseFormat() };
    case 'text':
      return { stage: 'files', messages };
  }
}

/** True when `error` says the server will not take what `route` asks for. */
function refuses(error: unknown, route: FileListRoute): boolean {
  const feature = unsupportedFeatureOf(error);
  if (feature !== undefined) return (feature === 'tools') === (route === 'tools');
  // Adapters other than the OpenAI one report refusals as plain bad requests.
  if (!(error instanceof ProviderError) || error.code !== 'PROVIDER_BAD_REQUEST') return false;
  return route === 'tools'
    ? /tool|function/i.test(error.message)
    : route === 'json-schema' && /response_format|json_schema|schema/i.test(error.message);
}

function truncatedList(context: StageContext, result: CompletionResult): SmolError {
  const { reason, hint } = truncation(result, context);
  return new SmolError('FILE_LIST_TRUNCATED', `The file list ${reason.replace(/^the answer /, '')}.`, { hint });
}

function done(context: StageContext, files: PlannedFile[], rest: Omit<FileListResult, 'value'>): FileListResult {
  for (const file of files) {
    if (/[\s,]/.test(file.path)) {
      context.onWarning?.({
        code: 'odd-file-name',
        path: file.path,
        message: `the file list names "${file.path}", with a ${/,/.test(file.path) ? 'comma' : 'space'} in it: several files in one entry, or a name that will be awkward to use`,
      });
    }
  }
  return { value: files, ...rest };
}

type FileListAttempt = { ok: true; files: PlannedFile[] } | { ok: false; problem: string; answer: string };

/** The file list in an answer: the tool call's arguments, else JSON in the text; or what is wrong with it. */
function readFileList(result: CompletionResult): FileListAttempt {
  const toolCall =
    result.toolCalls.find((candidate) => candidate.name === FILE_LIST_TOOL) ??
    (result.toolCalls.length === 1 ? result.toolCalls[0] : undefined);
  const answer = toolCall?.arguments ?? result.text;
  const raw = toolCall?.arguments ?? jsonInText(result.text);
  if (raw === undefined) {
    return {
      ok: false,
      problem: `it contains no JSON (neither a call of ${FILE_LIST_TOOL} nor a JSON object in the text)`,
      answer,
    };
  }
  const parsed = parseJson(raw);
  if (!parsed.ok) return { ok: false, problem: parsed.problem, answer };
  const validated = fileListSchema.safeParse(unwrapFileList(parsed.value));
  if (!validated.success) {
    const issues = validated.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
    return { ok: false, problem: `it does not match the expected shape: ${issues.join('; ')}`, answer };
  }
  if (validated.data.files.length === 0) return { ok: false, problem: 'it lists no files', answer };
  return { ok: true, files: validated.data.files };
}

// Deeper than any file list; 100,000 levels once overflowed the stack of the code reading them (13.6).
const MAX_JSON_DEPTH = 64;

/** JSON.parse, refusing nesting deeper than MAX_JSON_DEPTH before parsing (a linear scan). */
function parseJson(raw: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (nestingExceeds(raw, MAX_JSON_DEPTH))
    return { ok: false, problem: `it nests JSON more than ${MAX_JSON_DEPTH} levels deep` };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return { ok: false, problem: `it is not valid JSON (${(error as Error).message})` };
  }
}

function nestingExceeds(raw: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < raw.length; index += 1) {
    const code = raw.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index += 1;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return false;
}

function safeJson(raw: string): unknown {
  const parsed = parseJson(raw);
  return parsed.ok ? parsed.value : undefined;
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

/**
 * Some servers answer with the JSON in text instead of a tool call: the whole text, a fenced block, else
 * the outermost object, else the outermost array; the first that parses, or (for the error message) the
 * first found.
 */
function jsonInText(text: string): string | undefined {
  const whole = text.trim();
  if ((whole.startsWith('{') || whole.startsWith('[')) && safeJson(whole) !== undefined) return whole;
  const fenced = /```(?:json)?[^\n]*\n([\s\S]*?)\n?```/.exec(text)?.[1];
  // From each opening bracket (prose like "[files]" may come first) to the last closing one.
  const slices = (open: string, close: string): { start: number; text: string }[] => {
    const end = text.lastIndexOf(close);
    const found: { start: number; text: string }[] = [];
    for (
      let start = text.indexOf(open);
      start !== -1 && start < end && found.length < 20;
      start = text.indexOf(open, start + 1)
    ) {
      found.push({ start, text: text.slice(start, end + 1) });
    }
    return found;
  };
  // The outermost first: an object inside an array must not win over the array.
  const bracketed = [...slices('{', '}'), ...slices('[', ']')]
    .sort((a, b) => a.start - b.start)
    .map((slice) => slice.text);
  const candidates = [...(fenced === undefined ? [] : [fenced]), ...bracketed];
  return candidates.find((candidate) => safeJson(candidate) !== undefined) ?? candidates[0];
}
