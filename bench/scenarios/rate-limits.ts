import { makeApp, specText } from '../app.js';
import { figure, type Scenario } from '../figure.js';
import { answered, startBenchServer, type RequestLimit } from '../model-server.js';
import { createBenchProject, eventOf, runSmol } from '../smol-process.js';
import { FILES } from './parallel.js';

const GOAL_PERCENT = 90;

/**
 * 5. Rate limits. The server admits N requests per window (a sliding window log, like a provider's
 * requests-per-minute limit scaled down: 10 requests per 5 s = 120 per minute, so the run takes seconds,
 * not minutes) and answers 429 with `retry-after-ms` and `retry-after` past it. `smol run --yes` of the
 * 48-file app at c=8, with no `rateLimit` in the spec: smol learns the limit only from the 429s.
 *
 * The goal is judged against the best any client can do with the same requests: a window admits N at
 * once, so R requests need at least (ceil(R / N) - 1) windows. Requests per minute over so short a run
 * beat the per-minute rate (the first window is a free burst); they are printed too.
 */
export const rateLimits: Scenario = async (context) => {
  const app = makeApp(FILES, 50);
  const limit: RequestLimit = { requests: 10, windowMs: context.quick ? 2000 : 5000 };
  const server = await startBenchServer({ app: () => app, latency: { ttftMs: 20, tokensPerSecond: 5000 }, limit });
  const project = await createBenchProject();
  try {
    await project.writeSpec(specText({ baseURL: server.url, concurrency: 8 }));
    const run = await runSmol(context.bin, ['run', '--yes', '--json'], project.dir, { allowFailure: true });
    const result = eventOf(run, 'result') as unknown as { failed: unknown[]; written: unknown[] };
    const wallMs = run.exitedAt - run.spawnedAt;
    const accepted = answered(server.calls);
    const refused = server.calls.length - accepted.length;
    const perMinute = (count: number) => (count / wallMs) * 60_000;
    const allowedPerMinute = (limit.requests * 60_000) / limit.windowMs;
    const lastCallMs = accepted.at(-1)?.nominalMs ?? 0;
    const bestMs = (Math.ceil(accepted.length / limit.requests) - 1) * limit.windowMs + lastCallMs;
    const share = (bestMs / wallMs) * 100;
    const window = `${limit.requests} per ${limit.windowMs / 1000} s`;
    return [
      figure('rate', `allowed: ${window}`, allowedPerMinute, 'req/min'),
      figure(
        'rate',
        `achieved: ${accepted.length} requests (${result.written.length} files written) in ${(wallMs / 1000).toFixed(1)} s`,
        perMinute(accepted.length),
        'req/min',
      ),
      figure('rate', 'achieved: files per minute', perMinute(result.written.length), 'files/min'),
      figure(
        'rate',
        `wall time against the best the limit allows (${(bestMs / 1000).toFixed(1)} s for ${accepted.length} requests)`,
        share,
        '%',
        { goal: `>= ${GOAL_PERCENT} %`, pass: share >= GOAL_PERCENT },
      ),
      figure('rate', '429 answers (requests refused and retried)', refused, 'responses'),
      figure('rate', 'failed files', result.failed.length, 'files', {
        goal: '0',
        pass: result.failed.length === 0 && run.code === 0,
      }),
    ];
  } finally {
    await project.close();
    await server.close();
  }
};
