import type { StageContext } from '../plan/stages.js';
import type { Spec } from '../spec/types.js';
import type { FileAssessment } from './assess.js';
import type { Bases } from './bases.js';
import { changeFromGeneration, changeWithoutGeneration, type FileChange } from './changes.js';
import { createContentBudget } from './content-limits.js';
import type { EventSink, FileAction } from './events.js';
import { generateFiles } from './generate.js';
import { GenerationIndex } from './generations.js';
import type { StatePaths } from './paths.js';

/**
 * Stage 3 for every planned file: files to regenerate are generated (within the content limits) and
 * turned into changes; the others get the change their state implies.
 */
export async function generateChanges(options: {
  spec: Spec;
  /** Use the response cache's generation index (default true). */
  cache: boolean | undefined;
  paths: StatePaths;
  context: StageContext;
  assessments: readonly FileAssessment[];
  bases: Bases;
  failed: { path: string; message: string }[];
  onEvent: EventSink;
}): Promise<FileChange[]> {
  const { assessments, bases, failed, onEvent, paths } = options;
  const { spec } = options;
  const byPath = new Map<string, FileChange>();
  const budget = createContentBudget(spec.settings);
  const failedChange = (assessment: FileAssessment, message: string): FileChange => {
    failed.push({ path: assessment.path, message });
    return failedChangeOf(assessment, message);
  };
  const finish = async (assessment: FileAssessment, content: string): Promise<FileAction> => {
    const problem = budget.admit(content);
    if (problem !== undefined) {
      const message = `${assessment.path}: ${problem}; nothing written`;
      byPath.set(assessment.path, failedChange(assessment, message));
      onEvent({ type: 'file-failed', path: assessment.path, message });
      return 'failed';
    }
    const change = await changeFromGeneration(assessment, content, bases);
    byPath.set(assessment.path, change);
    return change.action;
  };
  const index = options.cache === false ? undefined : new GenerationIndex(paths.generations, paths.objects);
  const outcomes = await generateFiles({
    context: options.context,
    assessments: assessments.filter((assessment) => assessment.regenerate),
    concurrency: spec.settings.concurrency,
    onEvent,
    finish,
    index,
  });
  for (const assessment of assessments) {
    if (!assessment.regenerate) {
      const change = changeWithoutGeneration(assessment);
      byPath.set(assessment.path, change);
      if (change.action !== 'unchanged' && change.action !== 'create')
        onEvent({ type: 'file-skipped', path: change.path, action: change.action, reasons: change.reasons });
      continue;
    }
    const outcome = outcomes.get(assessment.path);
    if (outcome === undefined || !outcome.ok)
      byPath.set(assessment.path, failedChange(assessment, outcome?.ok === false ? outcome.message : 'not generated'));
  }
  return assessments.flatMap((assessment) => byPath.get(assessment.path) ?? []);
}

function failedChangeOf(assessment: FileAssessment, message: string): FileChange {
  return {
    path: assessment.path,
    action: 'failed',
    reasons: assessment.reasons,
    before: assessment.disk.content,
    after: undefined,
    merged: false,
    error: message,
  };
}
