import type { Plan } from '../../plan/plan-markdown.js';
import type { PlannedFile } from '../../plan/stages.js';
import type { SpecOverrides } from '../../spec/load.js';
import type { Step, Task } from './types.js';

/** Everything the server keeps about one task (in memory; the files are on disk under `dir`). */
export interface TaskState {
  task: Task;
  /** Every step, the running one included (status `running`). */
  steps: Step[];
  /** The task's own folder: every file it writes stays inside. */
  dir: string;
  /** The client's settings, validated when the task was created. */
  settings: SpecOverrides;
  /** The prompt: the task's input, or the first step's input when the task had none. */
  prompt: string | null;
  plan?: Plan;
  files?: PlannedFile[];
  /** Which file the next code step generates. */
  nextFile: number;
  /** Counts the bytes written against `maxFileBytes` / `maxTotalBytes` (made with the file list). */
  budget?: { admit(content: string): string | undefined };
  done: boolean;
  /** Steps of one task run one at a time. */
  queue: Promise<unknown>;
  /** Steps whose answer reached a client; a step that did not is handed to the next POST. */
  delivered: Set<string>;
  /** Where each artifact lives, relative to `dir`. */
  artifactPaths: Map<string, string>;
  /** Paths smol generated and wrote in this task: the only files a later step may replace. */
  written: Set<string>;
  /** File writes (uploads and generated files) one at a time, so a check and its write are never split. */
  writes: Promise<unknown>;
}

/** Runs `work` after every earlier write of the task has finished. */
export function serialWrite<T>(state: TaskState, work: () => Promise<T>): Promise<T> {
  const run = state.writes.then(work);
  state.writes = run.catch(() => undefined);
  return run;
}
