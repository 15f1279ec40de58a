import { makeApp, specText } from '../app.js';
import { figure, type Scenario } from '../figure.js';
import { startBenchServer } from '../model-server.js';
import { hasProc, sampleProcess, type ProcessSample } from '../proc-stat.js';
import { createBenchProject, startSmol } from '../smol-process.js';
import { max } from '../stats.js';

const GOAL_PERCENT = 0.5;
/** After the first run: let late file events arrive before measuring. */
const SETTLE_MS = 2000;
const SLICE_MS = 1000;

/**
 * 6. CPU and memory of `smol watch` with nothing happening, from /proc/PID/stat (utime + stime) and
 * /proc/PID/status (VmRSS), sampled every second so a one-off (V8 collecting the first run's garbage)
 * shows as what it is.
 */
export const idle: Scenario = async (context) => {
  if (!(await hasProc())) return [figure('idle', 'skipped: no /proc on this system', NaN, '')];
  const app = makeApp(48, 100);
  const server = await startBenchServer({ app: () => app, latency: { ttftMs: 0, tokensPerSecond: 1e9 } });
  const project = await createBenchProject();
  await project.writeSpec(specText({ baseURL: server.url, concurrency: 8, extra: ['apply: auto'] }));
  const watch = startSmol(context.bin, ['watch', '--json'], project.dir);
  try {
    await watch.next((event) => event.type === 'run-result');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const seconds = context.quick ? 5 : 30;
    const eventsBefore = watch.events.length;
    const samples: ProcessSample[] = [await sampleProcess(watch.pid)];
    const started = performance.now();
    for (let slice = 1; slice <= seconds; slice += 1) {
      await new Promise((resolve) => setTimeout(resolve, started + slice * SLICE_MS - performance.now()));
      samples.push(await sampleProcess(watch.pid));
    }
    const elapsedMs = performance.now() - started;
    const first = samples[0]!;
    const last = samples.at(-1)!;
    const cpuMs = last.cpuMs - first.cpuMs;
    const perSlice = samples.slice(1).map((sample, index) => sample.cpuMs - samples[index]!.cpuMs);
    const busySlices = perSlice.filter((ms) => ms > 0).length;
    const cpu = (cpuMs / elapsedMs) * 100;
    const events = watch.events.slice(eventsBefore).map((event) => event.type);
    return [
      figure('idle', `smol watch (48-file project) idle for ${seconds} s: CPU (${cpuMs} ms of CPU time)`, cpu, '%', {
        goal: `~0 % (< ${GOAL_PERCENT} %)`,
        pass: cpu < GOAL_PERCENT,
      }),
      figure(
        'idle',
        `seconds with any CPU use (the largest: ${max(perSlice)} ms; 10 ms is one clock tick)`,
        busySlices,
        `of ${seconds}`,
      ),
      figure(
        'idle',
        `memory (RSS) at the end (${first.rssMb.toFixed(0)} MB at the start, max ${max(samples.map((sample) => sample.rssMb)).toFixed(0)} MB)`,
        last.rssMb,
        'MB',
      ),
      figure(
        'idle',
        `events printed while idle${events.length > 0 ? ` (${[...new Set(events)].join(', ')})` : ''}`,
        events.length,
        'events',
      ),
    ];
  } finally {
    await watch.stop();
    await project.close();
    await server.close();
  }
};
