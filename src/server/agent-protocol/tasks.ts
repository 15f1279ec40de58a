import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { acceptedFiles } from '../../engine/accept-paths.js';
import { emptyUsage } from '../../engine/events.js';
import { buildFileInputs } from '../../engine/fingerprint.js';
import { statePaths } from '../../engine/paths.js';
import { buildStageContext } from '../../engine/stage-context.js';
import { isSmolError, SpecError } from '../../errors.js';
import { detectAndCreateProvider } from '../../llm/create.js';
import type { Provider } from '../../llm/types.js';
import { renderPlan, type Plan } from '../../plan/plan-markdown.js';
import { fileListStage, generateFileStage, planStage, type PlannedFile } from '../../plan/stages.js';
import { normalizeWhitespace, renderSpec, type SpecPromptParts } from '../../plan/templates.js';
import { parseSpecText, type SpecOverrides } from '../../spec/load.js';
import { specSettingsKeys } from '../../spec/schema.js';
import type { Spec } from '../../spec/types.js';
import { checkOutputPath, resolveInside } from '../../workspace/safe-path.js';
import { readOutputFile, writeOutputFile } from '../../workspace/write.js';
import { ProtocolError, type Artifact, type Step, type Task } from './types.js';

interface TaskState {
  task: Task;
  steps: Step[];
  /** The task's own folder: every file it writes stays inside. */
  dir: string;
  /** The smol settings found in `additional_input` (validated). */
  settings: SpecOverrides;
  plan?: Plan;
  files?: PlannedFile[];
  /** Which file the next code step generates. */
  nextFile: number;
  done: boolean;
  /** Steps of one task run one at a time. */
  queue: Promise<unknown>;
  /** Where each artifact lives, relative to `dir`. */
  artifactPaths: Map<string, string>;
}

export interface TaskServiceOptions {
  workspace: string;
  /** Settings from the command line; a task's `additional_input` may override them. */
  overrides: SpecOverrides;
  env: Record<string, string | undefined>;
  /** A fixed provider (tests); otherwise one is detected per task from its settings and `env`. */
  provider?: { provider: Provider; description: string };
}

const SETTINGS_KEYS = new Set<string>(specSettingsKeys);

/**
 * Tasks, steps and artifacts. Bookkeeping is in memory (a restart forgets tasks); files are on disk under
 * `<workspace>/<task_id>/`. Each step runs the next stage: the plan, the file list, then one file.
 */
export class TaskService {
  private readonly tasks = new Map<string, TaskState>();

  constructor(private readonly options: TaskServiceOptions) {}

  list(): Task[] {
    return [...this.tasks.values()].map((state) => state.task);
  }

  get(taskId: string): TaskState {
    const state = this.tasks.get(taskId);
    if (state === undefined) throw new ProtocolError(404, `Task ${taskId} not found.`);
    return state;
  }

  async create(body: Record<string, unknown>): Promise<Task> {
    const input = optionalString(body.input, 'input');
    const additional = optionalObject(body.additional_input, 'additional_input');
    // Keys that are smol settings are validated like a spec's frontmatter; other keys are kept as metadata.
    const settings = Object.fromEntries(Object.entries(additional).filter(([key]) => SETTINGS_KEYS.has(key))) as SpecOverrides;
    if (input !== null) await this.specFor(settings, input, this.options.workspace);
    const now = new Date().toISOString();
    const taskId = randomUUID();
    const dir = path.join(this.options.workspace, taskId);
    await mkdir(dir, { recursive: true });
    const task: Task = { task_id: taskId, input, additional_input: additional, created_at: now, modified_at: now, artifacts: [] };
    this.tasks.set(taskId, { task, steps: [], dir, settings, nextFile: 0, done: false, queue: Promise.resolve(), artifactPaths: new Map() });
    return task;
  }

  getStep(taskId: string, stepId: string): Step {
    const step = this.get(taskId).steps.find((entry) => entry.step_id === stepId);
    if (step === undefined) throw new ProtocolError(404, `Step ${stepId} not found in task ${taskId}.`);
    return step;
  }

  /** Runs the next stage. After the last step, answers with it again and does no work. */
  executeStep(taskId: string, body: Record<string, unknown>): Promise<Step> {
    const state = this.get(taskId);
    const input = optionalString(body.input, 'input');
    const additional = optionalObject(body.additional_input, 'additional_input');
    const run = state.queue.then(() => this.runStage(state, input, additional));
    state.queue = run.catch(() => undefined);
    return run;
  }

  async upload(taskId: string, file: { name: string; content: Buffer }, relativePath: string | null): Promise<Artifact> {
    const state = this.get(taskId);
    const relative = [relativePath, file.name].filter((part) => part !== null && part !== '').join('/');
    const check = checkOutputPath(relative);
    if (!check.ok) throw new ProtocolError(422, `Refused artifact path ${JSON.stringify(relative)}: ${check.reason}.`);
    await resolveInside(state.dir, check.path).catch((error: Error) => {
      throw new ProtocolError(422, error.message);
    });
    await writeOutputFile(state.dir, check.path, file.content);
    return this.addArtifact(state, check.path, false);
  }

  async download(taskId: string, artifactId: string): Promise<{ name: string; content: Buffer }> {
    const state = this.get(taskId);
    const relative = state.artifactPaths.get(artifactId);
    if (relative === undefined) throw new ProtocolError(404, `Artifact ${artifactId} not found in task ${taskId}.`);
    const target = await resolveInside(state.dir, relative);
    return { name: path.basename(relative), content: await readFile(target) };
  }

  private addArtifact(state: TaskState, relative: string, agentCreated: boolean): Artifact {
    const now = new Date().toISOString();
    const existing = [...state.artifactPaths].find(([, known]) => known === relative)?.[0];
    const dirname = path.posix.dirname(relative);
    const artifact: Artifact = {
      artifact_id: existing ?? randomUUID(),
      agent_created: agentCreated,
      file_name: path.posix.basename(relative),
      relative_path: dirname === '.' ? '' : dirname,
      created_at: now,
      modified_at: now,
    };
    state.artifactPaths.set(artifact.artifact_id, relative);
    state.task.artifacts = [...state.task.artifacts.filter((entry) => entry.artifact_id !== artifact.artifact_id), artifact];
    state.task.modified_at = now;
    return artifact;
  }

  private async runStage(state: TaskState, input: string | null, additional: Record<string, unknown>): Promise<Step> {
    const last = state.steps.at(-1);
    if (state.done && last !== undefined) return last;
    const prompt = state.task.input ?? input;
    if (prompt === null || prompt.trim() === '') throw new ProtocolError(422, 'The task has no input: give the prompt as the task input (or the first step input).');
    const now = new Date().toISOString();
    const step: Step = {
      task_id: state.task.task_id,
      step_id: randomUUID(),
      name: null,
      status: 'running',
      input,
      additional_input: additional,
      output: null,
      additional_output: {},
      artifacts: [],
      is_last: false,
      created_at: now,
      modified_at: now,
      executed_at: null,
    };
    const spec = await this.specFor(state.settings, prompt, state.dir);
    const { provider, description } = this.options.provider ?? (await detectAndCreateProvider(spec.settings, this.options.env));
    const usage = emptyUsage();
    const context = buildStageContext({ spec, provider, providerIdentity: description, cacheDir: path.join(this.options.workspace, '.smol-cache'), usage, onEvent: () => {}, signal: undefined });
    const parts: SpecPromptParts = {
      globalText: spec.globalText,
      includes: await this.uploadedTexts(state),
      sections: spec.sections.map((section) => ({ path: section.path, text: section.text })),
    };
    if (state.plan === undefined) {
      state.plan = (await planStage(context, parts)).value;
      Object.assign(step, { name: 'plan', output: renderPlan(state.plan) });
    } else if (state.files === undefined) {
      const listed = await fileListStage(context, parts, renderPlan(state.plan));
      const { files, rejected } = await acceptedFiles(listed.value, spec, statePaths(state.dir));
      state.files = files;
      const refused = rejected.map((entry) => `${entry.path} (${entry.reason})`);
      Object.assign(step, {
        name: 'files',
        output: `${files.length} file(s) to write: ${files.map((file) => file.path).join(', ')}${refused.length > 0 ? `. Refused: ${refused.join(', ')}` : ''}`,
        additional_output: { files, rejected },
        is_last: files.length === 0,
      });
    } else {
      const file = state.files[state.nextFile]!;
      const sections = new Map(spec.sections.map((section) => [section.path, normalizeWhitespace(section.text)]));
      const inputs = buildFileInputs(file, state.files, state.plan, sections.get(file.path) ?? '', spec.settings.context === 'full' ? renderSpec(parts) : undefined);
      const current = await readOutputFile(state.dir, file.path);
      const generated = await generateFileStage(context, inputs, current);
      await writeOutputFile(state.dir, file.path, generated.value);
      state.nextFile += 1;
      Object.assign(step, {
        name: `code: ${file.path}`,
        output: `Wrote ${file.path} (${Buffer.byteLength(generated.value)} bytes).`,
        artifacts: [this.addArtifact(state, file.path, true)],
        is_last: state.nextFile >= state.files.length,
      });
    }
    step.additional_output = { ...step.additional_output, usage };
    step.status = 'completed';
    step.executed_at = step.modified_at = new Date().toISOString();
    state.done = step.is_last;
    state.steps.push(step);
    state.task.modified_at = step.modified_at;
    return step;
  }

  private async uploadedTexts(state: TaskState): Promise<{ path: string; text: string }[]> {
    const texts: { path: string; text: string }[] = [];
    for (const artifact of state.task.artifacts.filter((entry) => !entry.agent_created)) {
      const relative = state.artifactPaths.get(artifact.artifact_id)!;
      const text = await readOutputFile(state.dir, relative);
      if (text !== undefined && !text.includes('\u0000')) texts.push({ path: relative, text });
    }
    return texts;
  }

  /** The task's spec: its input as the spec body, its settings validated like frontmatter. */
  private async specFor(settings: SpecOverrides, prompt: string, dir: string): Promise<Spec> {
    try {
      return await parseSpecText(prompt, {
        file: path.join(this.options.workspace, 'task-prompt.md'),
        displayPath: 'task input',
        overrides: { ...this.options.overrides, ...settings, outDir: dir },
      });
    } catch (error) {
      if (error instanceof SpecError) throw new ProtocolError(422, error.message);
      if (isSmolError(error)) throw new ProtocolError(422, error.message);
      throw error;
    }
  }
}

function optionalString(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new ProtocolError(422, `${name} must be a string.`);
  return value;
}

function optionalObject(value: unknown, name: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError(422, `${name} must be an object.`);
  return value as Record<string, unknown>;
}
