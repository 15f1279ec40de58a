import { readFile, writeFile } from 'node:fs/promises';
import { makeApp, modulePath, sectionsFor, specText } from '../app.js';
import { figure, type Scenario } from '../figure.js';
import { answered, startBenchServer } from '../model-server.js';
import { createBenchProject, startSmol } from '../smol-process.js';
import { max, median, sum } from '../stats.js';

/** The daemon's debounce (design.md 7): fixed, reported apart, never counted as overhead. */
const DEBOUNCE_MS = 100;
const GOAL_MS = 50;
const FILES = 8;

/**
 * 3. Reaction time of `smol watch --json` (a subprocess, `apply: auto`) on an 8-file project:
 * - a no-op save (same bytes): save to `run-result`, minus the debounce;
 * - a one-file edit (one per-file section): save to the first `file-done`, minus the debounce and the
 *   model's own time for the calls answered by then (the re-plan and the file, by the latency model).
 * What is left is the daemon's own: noticing the save, loading the spec, assessing, merging, events.
 */
export const reaction: Scenario = async (context) => {
  const app = makeApp(FILES, 100);
  const server = await startBenchServer({ app: () => app, latency: context.latency });
  const project = await createBenchProject();
  const sections = sectionsFor(app);
  const spec = () => specText({ baseURL: server.url, concurrency: 8, sections, extra: ['apply: auto'] });
  await project.writeSpec(spec());
  const watch = startSmol(context.bin, ['watch', '--json'], project.dir);
  const noop: number[] = [];
  const edit: number[] = [];
  const detect: number[] = [];
  try {
    await watch.next((event) => event.type === 'run-result');
    const rounds = context.quick ? 3 : 10;
    for (let round = 0; round < rounds; round += 1) {
      const text = await readFile(project.specFile, 'utf8');
      let saved = performance.now();
      await writeFile(project.specFile, text);
      const change = await watch.next((event) => event.type === 'change');
      detect.push(change.at - saved);
      const upToDate = await watch.next((event) => event.type === 'run-result');
      noop.push(upToDate.at - saved - DEBOUNCE_MS);

      const file = modulePath(round % FILES);
      app.files[file]!.section = `Exports value${round % FILES}, revision ${round}.`;
      sections[file] = `Module ${file}, revision ${round}.`;
      server.reset();
      saved = performance.now();
      await writeFile(project.specFile, spec());
      const done = await watch.next((event) => event.type === 'file-done');
      const modelMs = sum(
        answered(server.calls)
          .filter((call) => call.endedAt <= done.at)
          .map((call) => call.nominalMs),
      );
      edit.push(done.at - saved - DEBOUNCE_MS - modelMs);
      await watch.next((event) => event.type === 'run-result');
    }
  } finally {
    await watch.stop();
    await project.close();
    await server.close();
  }
  const noopMedian = median(noop);
  const editMedian = median(edit);
  const rounds = noop.length;
  return [
    figure('reaction', 'debounce (fixed by design, excluded below)', DEBOUNCE_MS, 'ms'),
    figure('reaction', `save to the daemon's change event (file watching; median of ${rounds})`, median(detect), 'ms'),
    figure(
      'reaction',
      `no-op save to "up to date": overhead (median of ${rounds}; max ${max(noop).toFixed(0)} ms)`,
      noopMedian,
      'ms',
      { goal: `< ${GOAL_MS} ms`, pass: noopMedian < GOAL_MS },
    ),
    figure(
      'reaction',
      `one-file edit to first diff, minus the model's time (median of ${rounds}; max ${max(edit).toFixed(0)} ms)`,
      editMedian,
      'ms',
      { goal: `< ${GOAL_MS} ms`, pass: editMedian < GOAL_MS },
    ),
  ];
};
