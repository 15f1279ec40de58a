import { SmolError } from '../errors.js';
import { ProviderError } from '../llm/errors.js';
import { extractCode } from './extract-code.js';
import { parsePlan, readReplan, type Plan } from './plan-markdown.js';
import {
  abbreviate,
  call,
  clip,
  sumUsage,
  type StageCompletion,
  type StageContext,
  type StageResult,
} from './stage-call.js';
import { codeMessages, planMessages, replanMessages, type FileInputs, type SpecPromptParts } from './templates.js';
import { truncation } from './truncation.js';

export { fileListStage, type PlannedFile } from './file-list.js';
export type { StageContext, StageResult, StageWarning } from './stage-call.js';

const REPLAN_FORMAT = `Answer in the re-plan format only: the \`### \\\`path\\\`\` sections that must change or be added (a section reading \`REMOVED\` drops a file), a \`## Global\` part only if it must change, or exactly \`NO CHANGES\` if nothing must change.`;

/**
 * Stage 1: the shared-dependencies plan, or (with a previous plan) a stable re-plan. A re-plan answer
 * that is not a plan (prose, nothing) is never taken as "no changes": the model is asked once more,
 * quoting the problem, and a second such answer is REPLAN_INVALID (nothing changes on disk).
 */
export async function planStage(
  context: StageContext,
  spec: SpecPromptParts,
  previous?: { plan: Plan; rendered: string; specDiff: string },
): Promise<StageResult<Plan>> {
  if (previous === undefined) {
    const result = await call(context, { stage: 'plan', messages: planMessages(spec) });
    ensureWhole(context, result);
    const plan = parsePlan(result.text);
    if (plan.global === '' && plan.sections.length === 0) {
      throw new SmolError('PLAN_EMPTY', `The model (${context.model}) returned an empty plan.`, {
        hint: 'Check that the model is a chat model and that the spec describes a program.',
      });
    }
    return { value: plan, usage: result.usage, cached: result.cached === true };
  }

  const messages = replanMessages(spec, previous.rendered, previous.specDiff);
  const first = await call(context, { stage: 'plan', messages });
  ensureWhole(context, first);
  const reading = readReplan(previous.plan, first.text);
  if (reading.ok) return { value: reading.plan, usage: first.usage, cached: first.cached === true };

  const second = await call(context, {
    stage: 'plan',
    messages: [
      ...messages,
      { role: 'assistant', content: clip(first.text, 8000) || '(an empty answer)' },
      { role: 'user', content: `That answer could not be used: ${reading.problem}.\n\n${REPLAN_FORMAT}` },
    ],
  });
  ensureWhole(context, second);
  const again = readReplan(previous.plan, second.text);
  const usage = sumUsage([first.usage, second.usage]);
  if (again.ok) return { value: again.plan, usage, cached: first.cached === true && second.cached === true };
  throw new SmolError(
    'REPLAN_INVALID',
    `The model (${context.model}) did not answer the re-plan with a plan, even when asked again: ${again.problem}. It answered: ${abbreviate(second.text) || '(nothing)'}`,
    {
      hint: 'Nothing was changed. Run again, use a model that follows the format, or plan from scratch with `smol run --all`.',
    },
  );
}

function ensureWhole(context: StageContext, result: StageCompletion): void {
  if (result.finishReason !== 'length') return;
  const { reason, hint } = truncation(result, context);
  throw new SmolError('PLAN_TRUNCATED', `The plan ${reason.replace(/^the answer /, '')}.`, { hint });
}

const ANSWER_FAILURES = new Set(['PROVIDER_ANSWER_TOO_LONG', 'PROVIDER_TIMEOUT', 'PROVIDER_BAD_RESPONSE']);

export class FileGenerationError extends SmolError {
  override readonly name = 'FileGenerationError';
  readonly path: string;
  constructor(path: string, message: string, options: { hint?: string | undefined; cause?: unknown } = {}) {
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
  let result: StageCompletion;
  try {
    result = await call(
      context,
      { stage: 'code', file: inputs.path, messages: codeMessages(inputs, currentContent) },
      options.onToken,
      options.refresh === true ? 'refresh' : 'use',
    );
  } catch (error) {
    // What went wrong with this one answer (too long, too slow, garbled) is this file's failure, by name.
    if (error instanceof ProviderError && ANSWER_FAILURES.has(error.code)) {
      throw new FileGenerationError(inputs.path, `${error.message} Nothing written.`, {
        cause: error,
        hint: error.hint,
      });
    }
    throw error;
  }
  if (result.finishReason === 'length') {
    const { reason, hint, contextFull, brief } = truncation(result, context);
    // A file's failure is reported by its message alone (the run goes on): the advice goes in it.
    throw new FileGenerationError(
      inputs.path,
      contextFull ? `${reason} (${brief}); nothing written` : `${reason}; nothing written`,
      {
        hint: contextFull ? hint : 'Raise `maxTokens` in the spec, or split the file in the spec.',
      },
    );
  }
  if (result.finishReason === 'content_filter') {
    throw new FileGenerationError(inputs.path, 'the provider filtered the answer; nothing written');
  }
  const extracted = extractCode(result.text);
  if (!extracted.ok) throw new FileGenerationError(inputs.path, `${extracted.reason}; nothing written`);
  if (!extracted.fenced) {
    context.onWarning?.({
      code: 'no-code-fence',
      path: inputs.path,
      message: `the answer for ${inputs.path} had no code fence, so all of it was taken as the file; check it is code, not prose`,
    });
  }
  return { value: extracted.content, usage: result.usage, cached: result.cached === true };
}
