import { estimatePromptTokens, estimateTokens } from '../llm/estimate.js';
import { costOf, type ModelPrice } from '../llm/pricing.js';
import { codeMessages } from '../plan/templates.js';
import type { FileAssessment } from './assess.js';

/** A new file's expected answer when no file of the plan exists yet to compare with. */
export const NEW_FILE_ANSWER_TOKENS = 1_000;
const TYPICAL_SAMPLE = 50;

/**
 * What the generation stage of a run would spend, before it spends anything: one call per file to
 * regenerate. Prompts are counted with the tokenizer from exactly what each call sends. Answers are
 * estimated: a file that exists is expected to come back about its current size, a new one about the
 * median size of (up to 50 of) the plan's existing files, or {@link NEW_FILE_ANSWER_TOKENS}; `maxOutputTokens` is the
 * most the calls can return (`maxTokens` each), the bound `budget` plans with.
 */
export interface RunEstimate {
  /** Generation calls (answers already in the cache cost nothing and are counted here all the same). */
  calls: number;
  paths: string[];
  inputTokens: number;
  outputTokens: number;
  maxOutputTokens: number;
  /** US dollars for `inputTokens` + `outputTokens`; undefined when the model has no known price. */
  costUsd: number | undefined;
  /** US dollars if every answer used all of `maxTokens`; undefined without a price. */
  maxCostUsd: number | undefined;
}

export interface EstimateSettings {
  model: string;
  maxTokens: number;
  price: ModelPrice | undefined;
}

/** Estimates the generation calls for `assessments` (those with `regenerate` set). Pure: no I/O. */
export function estimateRun(assessments: readonly FileAssessment[], settings: EstimateSettings): RunEstimate {
  const sizes = new Map<string, number>();
  const sizeOf = (assessment: FileAssessment): number | undefined => {
    if (assessment.disk.content === undefined) return undefined;
    const known = sizes.get(assessment.path);
    if (known !== undefined) return known;
    const size = estimateTokens(assessment.disk.content, settings.model);
    sizes.set(assessment.path, size);
    return size;
  };
  // The typical size is needed only for new files; a sample bounds the tokenizing on large plans.
  let typical: number | undefined;
  const typicalSize = (): number => {
    typical ??= medianOr(
      assessments
        .filter((assessment) => assessment.disk.content !== undefined)
        .slice(0, TYPICAL_SAMPLE)
        .flatMap((assessment) => sizeOf(assessment) ?? []),
      NEW_FILE_ANSWER_TOKENS,
    );
    return typical;
  };
  const paths: string[] = [];
  let inputTokens = 0;
  let outputTokens = 0;
  let costUsd = 0;
  let maxCostUsd = 0;
  for (const assessment of assessments) {
    if (!assessment.regenerate) continue;
    const input = estimatePromptTokens({
      model: settings.model,
      messages: codeMessages(assessment.generation.inputs, assessment.disk.content),
    });
    const output = Math.min(settings.maxTokens, sizeOf(assessment) ?? typicalSize());
    paths.push(assessment.path);
    inputTokens += input;
    outputTokens += output;
    // Per call: some prices depend on the prompt's size (see ModelPrice.longPrompt).
    if (settings.price !== undefined) {
      costUsd += costOf({ inputTokens: input, outputTokens: output }, settings.price);
      maxCostUsd += costOf({ inputTokens: input, outputTokens: settings.maxTokens }, settings.price);
    }
  }
  const priced = settings.price !== undefined;
  return {
    calls: paths.length,
    paths,
    inputTokens,
    outputTokens,
    maxOutputTokens: paths.length * settings.maxTokens,
    costUsd: priced ? costUsd : undefined,
    maxCostUsd: priced ? maxCostUsd : undefined,
  };
}

function medianOr(values: readonly number[], fallback: number): number {
  if (values.length === 0) return fallback;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}
