import { makeApp, specText } from '../app.js';
import { figure, type Scenario } from '../figure.js';
import { startBenchServer } from '../model-server.js';
import { createBenchProject, measureSmol, runSmol } from '../smol-process.js';
import { median } from '../stats.js';

const FILE_BYTES = 25_000;
const TIME_GOAL_MS = 1000;
const MEMORY_GOAL_MB = 150;

/**
 * 4. Scale: `smol status --json` on a 2,000-file, 50 MB output tree that smol itself generated (a real run
 * at concurrency 16 against a model with no latency), so the lock, the plan and the files agree. Status
 * reads the lock, re-derives every file's fingerprint from the plan, and hashes every file on disk.
 */
export const scale: Scenario = async (context) => {
  const count = context.quick ? 500 : 2000;
  const app = makeApp(count, FILE_BYTES / 4);
  const server = await startBenchServer({ app: () => app, latency: { ttftMs: 0, tokensPerSecond: 1e9 } });
  const project = await createBenchProject();
  try {
    await project.writeSpec(specText({ baseURL: server.url, concurrency: 16 }));
    context.log(`  generating ${count} files`);
    const generated = await runSmol(context.bin, ['run', '--yes', '--json'], project.dir);
    const generateMs = generated.exitedAt - generated.spawnedAt;
    const rounds = context.quick ? 1 : 3;
    const status: { ms: number; maxRssMb: number }[] = [];
    const check: { ms: number; maxRssMb: number }[] = [];
    for (let round = 0; round < rounds; round += 1) {
      status.push(await measureSmol(context.bin, ['status', '--json'], project.dir));
      check.push(await measureSmol(context.bin, ['check', '--json'], project.dir));
    }
    const megabytes = (count * FILE_BYTES) / 1e6;
    const statusMs = median(status.map((entry) => entry.ms));
    const statusRss = Math.max(...status.map((entry) => entry.maxRssMb));
    return [
      figure(
        'scale',
        `generate ${count} files / ${megabytes.toFixed(0)} MB with smol run (c=16, no model latency)`,
        Math.round(generateMs),
        'ms',
      ),
      figure('scale', `smol status --json: wall time (median of ${rounds})`, Math.round(statusMs), 'ms', {
        goal: `< ${TIME_GOAL_MS} ms`,
        pass: statusMs < TIME_GOAL_MS,
      }),
      figure('scale', 'smol status --json: peak memory (max RSS)', statusRss, 'MB', {
        goal: `< ${MEMORY_GOAL_MB} MB`,
        pass: statusRss < MEMORY_GOAL_MB,
      }),
      figure(
        'scale',
        `smol check --json: wall time (median of ${rounds})`,
        Math.round(median(check.map((entry) => entry.ms))),
        'ms',
      ),
      figure(
        'scale',
        'smol check --json: peak memory (max RSS)',
        Math.max(...check.map((entry) => entry.maxRssMb)),
        'MB',
      ),
    ];
  } finally {
    await project.close();
    await server.close();
  }
};
