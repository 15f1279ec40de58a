import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import { isSmolError } from '../errors.js';
import { generateFileStage, type StageContext } from '../plan/stages.js';
import type { FileAssessment } from './assess.js';
import type { EventSink, FileAction } from './events.js';
import type { GenerationIndex } from './generations.js';
import { hasReason } from './reasons.js';

export type GenerationOutcome =
  | { ok: true; content: string; cached: boolean; action: FileAction }
  | { ok: false; message: string };

export interface GenerateFilesOptions {
  context: StageContext;
  assessments: readonly FileAssessment[];
  concurrency: number;
  onEvent: EventSink;
  /** Earlier generations by fingerprint: a hit needs no model call. */
  index?: GenerationIndex | undefined;
  /** Turns a finished file into its change (merge, limits) as soon as it is done; returns its action. */
  finish: (assessment: FileAssessment, content: string) => Promise<FileAction>;
}

/**
 * Stage 3 on a p-queue pool: one call per file, `concurrency` at a time. A file's failure is its own;
 * cancellation and run-wide provider errors stop the whole pool.
 */
export async function generateFiles(options: GenerateFilesOptions): Promise<Map<string, GenerationOutcome>> {
  // Stops calls in flight (also those waiting out a rate-limit pause) once the run cannot succeed.
  const stop = new AbortController();
  const userSignal = options.context.signal;
  const signal = userSignal === undefined ? stop.signal : AbortSignal.any([userSignal, stop.signal]);
  // Each call in flight listens on this signal (one listener each, removed when it ends): allow as many
  // as the pool runs, so Node does not mistake `concurrency: 16` for a leak.
  setMaxListeners(options.concurrency + 10, signal);
  const pool: Pool = {
    options,
    context: { ...options.context, signal },
    stop,
    outcomes: new Map(),
    memos: [],
    bookkeeping: [],
    fatal: undefined,
  };
  const queue = new PQueue({ concurrency: options.concurrency });
  for (const assessment of options.assessments)
    options.onEvent({ type: 'file-queued', path: assessment.path, reasons: assessment.reasons });
  await Promise.all(options.assessments.map((assessment) => queue.add(() => generateOne(pool, assessment))));
  await Promise.all(pool.bookkeeping);
  await Promise.allSettled(pool.memos);
  if (pool.fatal !== undefined) throw pool.fatal;
  userSignal?.throwIfAborted();
  return pool.outcomes;
}

/** The pool's shared state. */
interface Pool {
  options: GenerateFilesOptions;
  /** The stage context with the pool's signal (the user's, or the pool's own stop). */
  context: StageContext;
  stop: AbortController;
  outcomes: Map<string, GenerationOutcome>;
  memos: Promise<void>[];
  // What follows an answer (the merge, the memo, file-done) runs after the worker has taken its next file:
  // the pool's slots are for model calls, and the next request should not wait for a finished file's
  // bookkeeping (issue 15). Each file's bookkeeping starts in the order its answer came.
  bookkeeping: Promise<void>[];
  /** The error that stops the run, once there is one. */
  fatal: unknown;
}

/** One file: from the generation index when it knows the answer, else one model call. */
async function generateOne(pool: Pool, assessment: FileAssessment): Promise<void> {
  const { options, context } = pool;
  const { onEvent } = options;
  if (pool.fatal !== undefined || context.signal?.aborted === true) return;
  const forced = hasReason(assessment.reasons, 'forced');
  const remembered = forced ? undefined : await options.index?.lookup(assessment.generation.fingerprint);
  if (remembered !== undefined) {
    const action = await options.finish(assessment, remembered);
    pool.outcomes.set(assessment.path, { ok: true, content: remembered, cached: true, action });
    onEvent({ type: 'file-done', path: assessment.path, action, cached: true });
    return;
  }
  onEvent({ type: 'file-start', path: assessment.path });
  let chars = 0;
  let tokens = 0;
  try {
    // A forced file asks the model again: the user wants a new answer, not the cached one.
    const result = await generateFileStage(context, assessment.generation.inputs, assessment.disk.content, {
      refresh: forced,
      onToken: (fragment) => {
        chars += fragment.length;
        tokens += 1;
        onEvent({ type: 'file-progress', path: assessment.path, chars, tokens });
      },
    });
    pool.bookkeeping.push(answered(pool, assessment, result));
  } catch (error) {
    failed(pool, assessment, error);
  }
}

async function answered(
  pool: Pool,
  assessment: FileAssessment,
  result: { value: string; cached: boolean },
): Promise<void> {
  const { options } = pool;
  await nextTurn();
  try {
    const remembering = options.index?.remember(assessment.generation.fingerprint, result.value);
    if (remembering !== undefined) pool.memos.push(remembering);
    const action = await options.finish(assessment, result.value);
    pool.outcomes.set(assessment.path, { ok: true, content: result.value, cached: result.cached, action });
    if (action !== 'failed')
      options.onEvent({ type: 'file-done', path: assessment.path, action, cached: result.cached });
  } catch (error) {
    failed(pool, assessment, error);
  }
}

function failed(pool: Pool, assessment: FileAssessment, error: unknown): void {
  // Once the run is stopping, what fails next is a consequence, not news.
  if (pool.fatal !== undefined) return;
  if (isAborted(pool.options.context.signal) || isFatal(error)) {
    pool.fatal = error;
    // Not queue.clear(): p-queue never settles the promises of cleared tasks, so awaiting them
    // would hang the run. Queued jobs see `fatal` and return at once instead.
    if (isSmolError(error) && error.runWide === 'stop-calls') pool.stop.abort(error);
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  pool.outcomes.set(assessment.path, { ok: false, message });
  pool.options.onEvent({ type: 'file-failed', path: assessment.path, message });
}

/** Resolves after the I/O callbacks due now: the freed worker's next request goes out first. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Errors that will fail every other file the same way stop the run instead of trying each file. */
function isFatal(error: unknown): boolean {
  if (isSmolError(error)) return error.runWide !== undefined;
  return !(error instanceof Error) || error.name === 'AbortError';
}
