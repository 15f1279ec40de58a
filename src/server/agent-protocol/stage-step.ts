import { lstat, readFile } from 'node:fs/promises';
import { acceptedFiles } from '../../engine/accept-paths.js';
import { createContentBudget } from '../../engine/content-limits.js';
import type { RunUsage } from '../../engine/events.js';
import { fileGeneration, generationSettings, specInputs, type SpecInputs } from '../../engine/generation-inputs.js';
import { statePaths } from '../../engine/paths.js';
import { renderPlan, type Plan } from '../../plan/plan-markdown.js';
import {
  fileListStage,
  FileGenerationError,
  generateFileStage,
  planStage,
  type PlannedFile,
  type StageContext,
} from '../../plan/stages.js';
import type { FileInputs } from '../../plan/templates.js';
import type { Spec } from '../../spec/types.js';
import { resolveInside } from '../../workspace/safe-path.js';
import { writeOutputFile } from '../../workspace/write.js';
import { serialWrite, type TaskState } from './task-state.js';

/** What one step needs besides the task: the spec built from the prompt, the model, the uploads. */
export interface StageInputs {
  spec: Spec;
  context: StageContext;
  usage: RunUsage;
  /** Uploaded text artifacts, sent as extra spec input. */
  uploads: { path: string; text: string }[];
}

/** What a step did, for the `Step` answer. */
export interface StageOutcome {
  name: string;
  output: string;
  additional_output: Record<string, unknown>;
  /** Files this step wrote: they become agent-created artifacts. */
  written: string[];
  isLast: boolean;
}

/**
 * Runs the task's next stage: the plan, the file list, then one file per call. A file's own failure
 * (an unusable answer, over a content limit, a file of the client's in the way) completes the step with
 * that outcome and moves on; a provider failure throws, and the same stage runs again on the next POST.
 */
export async function runStage(state: TaskState, inputs: StageInputs): Promise<StageOutcome> {
  const { spec, context } = inputs;
  // Uploaded artifacts are read as included spec text; what a generation sees comes from the one module
  // every command uses (engine/generation-inputs.ts).
  const specText = specInputs({ ...spec, includes: inputs.uploads.map((upload) => ({ ...upload, absolutePath: '' })) });
  const parts = specText.parts;
  if (state.plan === undefined) {
    state.plan = (await planStage(context, parts)).value;
    return { name: 'plan', output: renderPlan(state.plan), additional_output: {}, written: [], isLast: false };
  }
  if (state.files === undefined) return fileListStep(state, state.plan, inputs, parts);

  const file = state.files[state.nextFile]!;
  const settings = generationSettings(context.provider.name, spec);
  const outcome = await fileStep(
    state,
    context,
    file,
    fileGeneration(file, state.files, state.plan, specText, settings).inputs,
  );
  state.nextFile += 1;
  return { name: `code: ${file.path}`, ...outcome, isLast: state.nextFile >= state.files.length };
}

/** Stage 2: the file list, its paths checked as every command checks them. */
async function fileListStep(
  state: TaskState,
  plan: Plan,
  inputs: StageInputs,
  parts: SpecInputs['parts'],
): Promise<StageOutcome> {
  const { spec, context } = inputs;
  const listed = await fileListStage(context, parts, renderPlan(plan));
  const { files, rejected } = await acceptedFiles(listed.value, spec, statePaths(state.dir));
  state.files = files;
  state.budget = createContentBudget(spec.settings);
  const refused = rejected.map((entry) => `${entry.path} (${entry.reason})`);
  return {
    name: 'files',
    output: `${files.length} file(s) to write: ${files.map((file) => file.path).join(', ')}${refused.length > 0 ? `. Refused: ${refused.join(', ')}` : ''}`,
    additional_output: { files, rejected },
    written: [],
    isLast: files.length === 0,
  };
}

/** Stage 3 for one file: generated, checked against the content limits, written unless the client's file is there. */
async function fileStep(
  state: TaskState,
  context: StageContext,
  file: PlannedFile,
  fileInputs: FileInputs,
): Promise<Omit<StageOutcome, 'name' | 'isLast'>> {
  let generated: string;
  try {
    generated = (await generateFileStage(context, fileInputs, await currentText(state.dir, file.path))).value;
  } catch (error) {
    if (!(error instanceof FileGenerationError)) throw error;
    const failed = { path: file.path, message: error.message };
    return { output: `Failed ${error.message}`, additional_output: { failed }, written: [] };
  }
  const tooBig = state.budget!.admit(generated);
  if (tooBig !== undefined) {
    const message = `${file.path}: ${tooBig}; nothing written`;
    return { output: `Refused ${message}.`, additional_output: { failed: { path: file.path, message } }, written: [] };
  }
  const written = await serialWrite(state, async () => {
    // A file smol did not write here (an upload, or one that was there before) is the client's: keep it.
    if (!state.written.has(file.path) && (await occupied(state.dir, file.path))) return false;
    await writeOutputFile(state.dir, file.path, generated);
    state.written.add(file.path);
    return true;
  });
  if (!written) {
    return {
      output: `Kept ${file.path}: smol did not write the file that is there (the client uploaded it, or it was there before), so the generated version was not written; it is in additional_output.conflict.generated.`,
      additional_output: {
        conflict: { path: file.path, reason: 'a file smol did not write is at this path', generated },
      },
      written: [],
    };
  }
  const output = `Wrote ${file.path} (${Buffer.byteLength(generated)} bytes).`;
  return { output, additional_output: {}, written: [file.path] };
}

/** The text of the file at `relative` (sent to the model as the current content), if it is a readable text file. */
async function currentText(dir: string, relative: string): Promise<string | undefined> {
  const target = await resolveInside(dir, relative).catch(() => undefined);
  const text = target === undefined ? undefined : await readFile(target, 'utf8').catch(() => undefined);
  return text === undefined || text.includes('\u0000') ? undefined : text;
}

/** True when anything (a file, a folder, a link) is at `relative`. */
async function occupied(dir: string, relative: string): Promise<boolean> {
  const target = await resolveInside(dir, relative).catch(() => undefined);
  if (target === undefined) return true;
  return lstat(target).then(
    () => true,
    () => false,
  );
}
