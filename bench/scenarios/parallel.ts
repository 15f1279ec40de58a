import { makeApp, specText } from '../app.js';
import { figure, type Figure, type Scenario } from '../figure.js';
import { startBenchServer } from '../model-server.js';
import { createBenchProject, runSmol } from '../smol-process.js';
import { overheadParts, runTimeline, total, type RunTimeline } from '../timeline.js';

export const FILES = 48;
/** Tokens in each code answer. */
const FILE_TOKENS = 150;
const GOAL_PERCENT = 5;
const GOAL_CONCURRENCY = 8;

/**
 * 1. Parallel efficiency: `smol run --yes` of a 48-file plan at several concurrencies, each on a fresh
 * project, against the critical path the latency model sets (plan + file list + ceil(48 / c) code calls).
 * c=1 on a fresh project is also the seed's way: one file at a time, nothing cached, everything generated
 * (what the seed does on every run). The wall time is the whole command, process start included.
 */
export const parallel: Scenario = async (context) => {
  const app = makeApp(FILES, FILE_TOKENS);
  const server = await startBenchServer({ app: () => app, latency: context.latency });
  const figures: Figure[] = [];
  const timelines = new Map<number, RunTimeline>();
  try {
    for (const concurrency of context.quick ? [1, GOAL_CONCURRENCY] : [1, 4, GOAL_CONCURRENCY, 16]) {
      const project = await createBenchProject();
      try {
        await project.writeSpec(specText({ baseURL: server.url, concurrency }));
        server.reset();
        context.log(`  c=${concurrency}`);
        const run = await runSmol(context.bin, ['run', '--yes', '--json'], project.dir);
        const timeline = runTimeline(run, server.calls, concurrency);
        timelines.set(concurrency, timeline);
        const over = (timeline.wallMs / timeline.criticalMs - 1) * 100;
        const label = concurrency === 1 ? "c=1, the seed's way (one at a time, nothing cached)" : `c=${concurrency}`;
        figures.push(
          figure(
            'parallel',
            `${label}: smol run ${ms(timeline.wallMs)} against a critical path of ${ms(timeline.criticalMs)}`,
            over,
            '% over',
            concurrency === GOAL_CONCURRENCY ? { goal: `<= ${GOAL_PERCENT} %`, pass: over <= GOAL_PERCENT } : undefined,
            {
              wallMs: timeline.wallMs,
              criticalMs: timeline.criticalMs,
              overMs: timeline.wallMs - timeline.criticalMs,
              pipelineMs: timeline.pipelineMs,
            },
          ),
        );
      } finally {
        await project.close();
      }
    }
    const seed = timelines.get(1)!;
    const goal = timelines.get(GOAL_CONCURRENCY)!;
    figures.push(
      figure('parallel', `speedup of c=${GOAL_CONCURRENCY} over the seed's way`, seed.wallMs / goal.wallMs, 'x'),
    );
    figures.push(
      figure(
        'parallel',
        `c=${GOAL_CONCURRENCY} without process start and exit (plan request to run-done, ${ms(goal.pipelineMs)})`,
        (goal.pipelineMs / goal.criticalMs - 1) * 100,
        '% over',
      ),
    );
    // Where the goal run's time over the critical path went.
    const parts = overheadParts(goal, FILES, GOAL_CONCURRENCY);
    for (const [part, partMs] of parts)
      figures.push(figure('parallel', `c=${GOAL_CONCURRENCY} breakdown: ${part}`, partMs, 'ms'));
    figures.push(
      figure(
        'parallel',
        `c=${GOAL_CONCURRENCY} breakdown: smol's own time in all (the parts above)`,
        total(parts),
        'ms',
      ),
    );
    figures.push(
      figure(
        'parallel',
        `c=${GOAL_CONCURRENCY} breakdown: the simulated model's lateness along the critical path (not smol's)`,
        goal.serverSlopMs,
        'ms',
      ),
    );
  } finally {
    await server.close();
  }
  return figures;
};

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}
