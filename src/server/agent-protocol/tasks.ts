import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { emptyUsage, type RunUsage } from '../../engine/events.js';
import { buildStageContext } from '../../engine/stage-context.js';
import { isSmolError } from '../../errors.js';
import type { Provider } from '../../llm/types.js';
import { parseSpecText } from '../../spec/load.js';
import type { Spec } from '../../spec/types.js';
import { resolveInside } from '../../workspace/safe-path.js';
import { readOutputFile, writeOutputFile } from '../../workspace/write.js';
import { generatedRelativePath, uploadPath } from './artifacts.js';
import { clientSettings, type ClientPolicy } from './client-settings.js';
import { runStage, type StageOutcome } from './stage-step.js';
import { serialWrite, type TaskState } from './task-state.js';
import { ProtocolError, type Artifact, type Step, type Task } from './types.js';

export interface TaskServiceOptions {
  workspace: string;
  policy: ClientPolicy;
  /** The model provider, built from the operator's settings only (never from a client's). */
  provider: () => Promise<{ provider: Provider; description: string }>;
  /** Aborted when the server closes: steps in flight stop. */
  signal: AbortSignal;
}

/** Sends a step to the client that asked; true when it was handed to the network, false when the client had gone. */
export type DeliverStep = (step: Step) => Promise<boolean>;

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
    const settings = clientSettings(this.options.policy, additional, input);
    const taskId = randomUUID();
    const dir = path.join(this.options.workspace, taskId);
    if (input !== null) await this.specFor(settings, input, dir);
    await mkdir(dir, { recursive: true });
    const now = new Date().toISOString();
    const task: Task = {
      task_id: taskId,
      input,
      additional_input: additional,
      created_at: now,
      modified_at: now,
      artifacts: [],
    };
    this.tasks.set(taskId, {
      task,
      steps: [],
      dir,
      settings,
      prompt: input,
      nextFile: 0,
      done: false,
      queue: Promise.resolve(),
      delivered: new Set(),
      artifactPaths: new Map(),
      written: new Set(),
      writes: Promise.resolve(),
    });
    return task;
  }

  getStep(taskId: string, stepId: string): Step {
    const step = this.get(taskId).steps.find((entry) => entry.step_id === stepId);
    if (step === undefined) throw new ProtocolError(404, `Step ${stepId} not found in task ${taskId}.`);
    return step;
  }

  /**
   * Runs the next stage, after the task's earlier steps, and delivers it. A step whose answer never
   * reached its client (it gave up waiting) is the answer to the next POST, so no step is ever skipped:
   * the next request is only looked at once this one's delivery is settled. After the last step,
   * answers with it again and does no work.
   */
  executeStep(taskId: string, body: Record<string, unknown>, deliver: DeliverStep): Promise<void> {
    const state = this.get(taskId);
    const input = optionalString(body.input, 'input');
    const additional = optionalObject(body.additional_input, 'additional_input');
    const run = state.queue.then(async () => {
      const step = await this.nextStep(state, input, additional);
      if (await deliver(step)) state.delivered.add(step.step_id);
    });
    state.queue = run.catch(() => undefined);
    return run;
  }

  async upload(
    taskId: string,
    file: { name: string; content: Buffer },
    relativePath: string | null,
  ): Promise<Artifact> {
    const state = this.get(taskId);
    const target = uploadPath(file.name, relativePath);
    await serialWrite(state, async () => {
      await resolveInside(state.dir, target).catch((error: Error) => {
        throw new ProtocolError(422, error.message);
      });
      await writeOutputFile(state.dir, target, file.content);
      // Now the client's file: no later step replaces it.
      state.written.delete(target);
    });
    return this.addArtifact(state, target, false, relativePath);
  }

  async download(taskId: string, artifactId: string): Promise<{ name: string; content: Buffer }> {
    const state = this.get(taskId);
    const relative = state.artifactPaths.get(artifactId);
    if (relative === undefined) throw new ProtocolError(404, `Artifact ${artifactId} not found in task ${taskId}.`);
    const content = await readFile(await resolveInside(state.dir, relative)).catch(() => undefined);
    if (content === undefined) throw new ProtocolError(404, `Artifact ${artifactId} is no longer on disk.`);
    return { name: path.posix.basename(relative), content };
  }

  private addArtifact(
    state: TaskState,
    relative: string,
    agentCreated: boolean,
    relativePath: string | null,
  ): Artifact {
    const now = new Date().toISOString();
    const existing = state.task.artifacts.find((entry) => state.artifactPaths.get(entry.artifact_id) === relative);
    const artifact: Artifact = {
      artifact_id: existing?.artifact_id ?? randomUUID(),
      agent_created: agentCreated,
      file_name: path.posix.basename(relative),
      relative_path: relativePath,
      created_at: existing?.created_at ?? now,
      modified_at: now,
    };
    state.artifactPaths.set(artifact.artifact_id, relative);
    state.task.artifacts = [
      ...state.task.artifacts.filter((entry) => entry.artifact_id !== artifact.artifact_id),
      artifact,
    ];
    state.task.modified_at = now;
    return artifact;
  }

  private async nextStep(state: TaskState, input: string | null, additional: Record<string, unknown>): Promise<Step> {
    const lost = state.steps.find((step) => !state.delivered.has(step.step_id));
    const answer = lost ?? (state.done ? state.steps.at(-1) : undefined);
    if (answer !== undefined) return answer;
    const prompt = this.promptOf(state, input);
    const spec = await this.specFor(state.settings, prompt, state.dir);
    const { provider, description } = await this.options.provider();
    const step = runningStep(state, input, additional);
    // Visible as `running` while the model works.
    state.steps.push(step);
    const usage = emptyUsage();
    const context = buildStageContext({
      spec,
      provider,
      providerIdentity: description,
      cacheDir: path.join(this.options.workspace, '.smol-cache'),
      usage,
      onEvent: () => {},
      signal: this.options.signal,
    });
    const outcome = await runStage(state, { spec, context, usage, uploads: await this.uploadedTexts(state) }).catch(
      (error: unknown) => {
        state.steps = state.steps.filter((entry) => entry !== step);
        throw error;
      },
    );
    this.completeStep(state, step, outcome, usage);
    return step;
  }

  /** The task's prompt; the first step's input becomes it, under the same rules as a task input. */
  private promptOf(state: TaskState, input: string | null): string {
    if (state.prompt !== null) return state.prompt;
    if (input === null || input.trim() === '')
      throw new ProtocolError(
        422,
        'The task has no input: give the prompt as the task input (or the first step input).',
      );
    state.settings = clientSettings(this.options.policy, state.task.additional_input, input);
    state.prompt = input;
    return input;
  }

  /** The step as the stage left it; the files it wrote become agent-created artifacts. */
  private completeStep(state: TaskState, step: Step, outcome: StageOutcome, usage: RunUsage): void {
    Object.assign(step, {
      name: outcome.name,
      output: outcome.output,
      additional_output: { ...outcome.additional_output, usage },
      artifacts: outcome.written.map((written) =>
        this.addArtifact(state, written, true, generatedRelativePath(written)),
      ),
      is_last: outcome.isLast,
      status: 'completed',
    });
    step.executed_at = step.modified_at = new Date().toISOString();
    state.done = outcome.isLast;
    state.task.modified_at = step.modified_at;
  }

  private async uploadedTexts(state: TaskState): Promise<{ path: string; text: string }[]> {
    const texts: { path: string; text: string }[] = [];
    for (const artifact of state.task.artifacts.filter((entry) => !entry.agent_created)) {
      const relative = state.artifactPaths.get(artifact.artifact_id)!;
      const text = await readOutputFile(state.dir, relative).catch(() => undefined);
      if (text !== undefined && !text.includes('\u0000')) texts.push({ path: relative, text });
    }
    return texts;
  }

  /**
   * The task's spec: its prompt as the spec text, with the operator's settings and the client's allowed
   * ones on top. No file is read: `include` and `outDir` can only come from the operator.
   */
  private async specFor(settings: TaskState['settings'], prompt: string, dir: string): Promise<Spec> {
    try {
      return await parseSpecText(prompt, {
        file: path.join(this.options.workspace, 'task-prompt.md'),
        displayPath: 'task input',
        overrides: { ...this.options.policy.operator, ...settings, outDir: dir },
      });
    } catch (error) {
      if (isSmolError(error)) throw new ProtocolError(422, error.message);
      throw error;
    }
  }
}

/** A new step, `running`, named after the stage it runs. */
function runningStep(state: TaskState, input: string | null, additional: Record<string, unknown>): Step {
  const now = new Date().toISOString();
  return {
    task_id: state.task.task_id,
    step_id: randomUUID(),
    name:
      state.plan === undefined
        ? 'plan'
        : state.files === undefined
          ? 'files'
          : `code: ${state.files[state.nextFile]!.path}`,
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
