import { makeApp, specText } from '../app.js';
import { figure, type Figure, type Scenario } from '../figure.js';
import { describeLatency, startBenchServer, type LatencyModel } from '../model-server.js';
import { createBenchProject, runSmol, type SmolEvent, type SmolRun } from '../smol-process.js';
import { max } from '../stats.js';
import { runTimeline, type RunTimeline } from '../timeline.js';

/** Every model call takes this long (issue 15's yardstick): the critical path is then exact. */
const CALL_MS = 1000;
const LATENCY: LatencyModel = { callMs: CALL_MS };
/** Tokens in each code answer (streamed over the last 70 % of the call). */
const FILE_TOKENS = 150;
/** Goals from issue 15. */
const GOALS = {
  firstRequestMs: 300,
  stageGapMs: 20,
  waveMs: 10,
  applyMs: 60,
  ratioSmall: 1.08,
  ratioLarge: 1.15,
  progressPerSecond: 10,
};

/**
 * The whole process as the user waits: `smol run --yes --json` as a subprocess, from spawn to exit, against
 * a loopback model whose every call takes 1 s. The server's log (when each request arrived and each answer
 * ended) and smol's NDJSON events (stamped as they arrive) give the gaps that are smol's own: start to the
 * first request, between the stages, between one answer and the request it frees a worker for, and from
 * the last answer to exit. Then the same project again with nothing to do, and 200 files at c=50.
 */
export const wholeProcess: Scenario = async (context) => {
  const figures: Figure[] = [];
  figures.push(...(await generateRun(context.bin, 24, 8, 'process', context.log, true)));
  figures.push(...(await generateRun(context.bin, context.quick ? 100 : 200, 50, 'process', context.log, false)));
  return figures;
};

async function generateRun(
  bin: string,
  files: number,
  concurrency: number,
  scenario: string,
  log: (line: string) => void,
  detailed: boolean,
): Promise<Figure[]> {
  const app = makeApp(files, FILE_TOKENS);
  const server = await startBenchServer({ app: () => app, latency: LATENCY });
  const project = await createBenchProject();
  const label = `${files} files at c=${concurrency}`;
  try {
    await project.writeSpec(specText({ baseURL: server.url, concurrency }));
    log(`  ${label}, ${describeLatency(LATENCY)}`);
    const run = await runSmol(bin, ['run', '--yes', '--json'], project.dir);
    const timeline = runTimeline(run, server.calls, concurrency);
    const ratio = timeline.wallMs / timeline.criticalMs;
    const goal = files <= 24 ? GOALS.ratioSmall : GOALS.ratioLarge;
    const figures = [
      figure(
        scenario,
        `${label}: smol run --yes, spawn to exit, against the critical path (${ms(timeline.criticalMs)})`,
        Math.round(timeline.wallMs),
        'ms',
      ),
      figure(
        scenario,
        `${label}: wall time / critical path`,
        round2(ratio),
        'x',
        { goal: `<= ${goal}x`, pass: ratio <= goal },
        { wallMs: timeline.wallMs, criticalMs: timeline.criticalMs },
      ),
      ...gaps(scenario, label, timeline, files, concurrency),
    ];
    if (!detailed) return figures;
    figures.push(...progressRate(scenario, run));
    log('  the same project again, nothing to do');
    server.reset();
    const idle = await runSmol(bin, ['run', '--yes'], project.dir);
    const wall = idle.exitedAt - idle.spawnedAt;
    const reported = /·\s*(\d+(?:\.\d+)?)s\s*$/m.exec(idle.stderr)?.[1];
    figures.push(
      figure(
        scenario,
        `nothing to do (${label} again, ${server.calls.length} calls): smol run --yes, spawn to exit`,
        Math.round(wall),
        'ms',
      ),
      figure(
        scenario,
        'nothing to do: the time its summary line reports',
        reported === undefined ? NaN : Number(reported) * 1000,
        'ms',
      ),
    );
    return figures;
  } finally {
    await project.close();
    await server.close();
  }
}

function gaps(scenario: string, label: string, timeline: RunTimeline, files: number, concurrency: number): Figure[] {
  const handOffs = Math.ceil(files / concurrency) - 1;
  const below = (value: number, goalMs: number) => ({ goal: `< ${goalMs} ms`, pass: value < goalMs });
  return [
    figure(
      scenario,
      `${label}: spawn to the first model request (Node, modules, spec, locks, journal)`,
      round1(timeline.beforePlanMs),
      'ms',
      below(timeline.beforePlanMs, GOALS.firstRequestMs),
    ),
    figure(
      scenario,
      `${label}: plan answer to the file-list request`,
      round1(timeline.planToFilesMs),
      'ms',
      below(timeline.planToFilesMs, GOALS.stageGapMs),
    ),
    figure(
      scenario,
      `${label}: file-list answer to the first file request (paths, assessment)`,
      round1(timeline.filesToCodeMs),
      'ms',
      below(timeline.filesToCodeMs, GOALS.stageGapMs),
    ),
    figure(
      scenario,
      `${label}: per wave, an answer to the request it frees a worker for (mean; max ${timeline.handOffMaxMs.toFixed(1)} ms; ${handOffs} waves after the first)`,
      round1(timeline.handOffMs),
      'ms',
      below(timeline.handOffMs, GOALS.waveMs),
    ),
    figure(
      scenario,
      `${label}: last answer to run-done (merge, staging, the journaled apply of ${files} files, the lock)`,
      round1(timeline.afterCodeMs),
      'ms',
      below(timeline.afterCodeMs, GOALS.applyMs),
    ),
    figure(scenario, `${label}: run-done to exit`, round1(timeline.exitMs), 'ms'),
    figure(scenario, `${label}: last answer to exit`, round1(timeline.afterCodeMs + timeline.exitMs), 'ms'),
    figure(
      scenario,
      `${label}: the simulated model's own lateness along the critical path (not smol's)`,
      round1(timeline.serverSlopMs),
      'ms',
    ),
  ];
}

/** `file-progress` events in `--json`: how many, and the most any file sent in a second of its streaming. */
function progressRate(scenario: string, run: SmolRun): Figure[] {
  const progress = run.events.filter((event) => event.type === 'file-progress');
  const byFile = new Map<string, SmolEvent[]>();
  for (const event of progress) {
    const file = String(event.path);
    byFile.set(file, [...(byFile.get(file) ?? []), event]);
  }
  const streamSeconds = (CALL_MS * 0.7) / 1000;
  const perSecond = [...byFile.values()].map((events) => events.length / streamSeconds);
  const bytes = progress.reduce((total, event) => total + JSON.stringify({ ...event, at: undefined }).length + 1, 0);
  return [
    figure(
      scenario,
      `--json file-progress events (${(bytes / 1024).toFixed(1)} kB; each answer streams in ${Math.round((CALL_MS * 0.7) / 10)} chunks)`,
      progress.length,
      'events',
    ),
    figure(
      scenario,
      '--json file-progress events per file per second of streaming (the most of any file)',
      round1(max(perSecond)),
      'events/s',
      {
        goal: `<= ~${GOALS.progressPerSecond}`,
        pass: max(perSecond) <= GOALS.progressPerSecond * 1.2,
      },
    ),
  ];
}

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
