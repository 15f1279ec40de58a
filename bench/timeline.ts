import { answered, type ServedCall } from './model-server.js';
import { eventOf, type SmolRun } from './smol-process.js';
import { max, mean, sum } from './stats.js';

/** Where a `smol run` spent the time the model did not, read off the server's log and smol's events. */
export interface RunTimeline {
  /** Spawn to exit. */
  wallMs: number;
  /** plan + file list + ceil(files / c) code calls, each as long as the latency model says. */
  criticalMs: number;
  /** The plan request to `run-done`: the pipeline without the process's start and exit. */
  pipelineMs: number;
  /** Spawn to the plan request: Node, smol's modules, the spec, the state lock, the journal, the lock. */
  beforePlanMs: number;
  /** The plan's answer to the file-list request. */
  planToFilesMs: number;
  /** The file list's answer to the first code request (path checks, assessing every file). */
  filesToCodeMs: number;
  /** Mean time from a code answer's end to the next code request it frees a worker for. */
  handOffMs: number;
  /** The longest of those hand-offs. */
  handOffMaxMs: number;
  /** The last code answer to `run-done` (merging, staging, the journaled apply, the lock). */
  afterCodeMs: number;
  /** `run-done` to the process's exit. */
  exitMs: number;
  /** How much later than the latency model the server delivered, summed along the critical path. */
  serverSlopMs: number;
}

export function runTimeline(run: SmolRun, calls: readonly ServedCall[], concurrency: number): RunTimeline {
  const served = answered(calls);
  const only = (stage: string): ServedCall => {
    const matching = served.filter((call) => call.stage === stage);
    if (matching.length !== 1) throw new Error(`bench: expected one ${stage} call, got ${matching.length}`);
    return matching[0]!;
  };
  const plan = only('plan');
  const files = only('files');
  const code = served.filter((call) => call.stage === 'code').sort((a, b) => a.arrivedAt - b.arrivedAt);
  const ends = code.map((call) => call.endedAt).sort((a, b) => a - b);
  // The k-th code request (k >= c) waits for a worker: the (k - c)-th answer to end frees one.
  const handOffs = code.slice(concurrency).map((call, index) => call.arrivedAt - ends[index]!);
  const waves = Math.ceil(code.length / concurrency);
  const codeNominal = mean(code.map((call) => call.nominalMs));
  const slop = (call: ServedCall) => call.endedAt - call.arrivedAt - call.nominalMs;
  const runDone = eventOf(run, 'run-done');
  return {
    wallMs: run.exitedAt - run.spawnedAt,
    pipelineMs: runDone.at - plan.arrivedAt,
    criticalMs: plan.nominalMs + files.nominalMs + waves * codeNominal,
    beforePlanMs: plan.arrivedAt - run.spawnedAt,
    planToFilesMs: files.arrivedAt - plan.endedAt,
    filesToCodeMs: (code[0]?.arrivedAt ?? NaN) - files.endedAt,
    handOffMs: handOffs.length === 0 ? 0 : mean(handOffs),
    handOffMaxMs: handOffs.length === 0 ? 0 : max(handOffs),
    afterCodeMs: runDone.at - (ends.at(-1) ?? NaN),
    exitMs: run.exitedAt - runDone.at,
    serverSlopMs: slop(plan) + slop(files) + waves * mean(code.map(slop)),
  };
}

/** The parts of the timeline that are smol's own, in order, with the number of hand-offs on the critical path. */
export function overheadParts(timeline: RunTimeline, files: number, concurrency: number): [string, number][] {
  const handOffs = Math.ceil(files / concurrency) - 1;
  return [
    ['start to the plan request (Node, modules, spec, state lock, journal, lock)', timeline.beforePlanMs],
    ['plan answer to the file-list request', timeline.planToFilesMs],
    ['file list to the first code request (paths, assessment)', timeline.filesToCodeMs],
    [
      `worker hand-offs (${handOffs} on the critical path, ${timeline.handOffMs.toFixed(1)} ms each)`,
      handOffs * timeline.handOffMs,
    ],
    ['last code answer to run-done (merge, staging, journaled apply, lock)', timeline.afterCodeMs],
    ['run-done to exit', timeline.exitMs],
  ];
}

export function total(parts: readonly [string, number][]): number {
  return sum(parts.map(([, ms]) => ms));
}
