import { statSync } from 'node:fs';
import path from 'node:path';
import { makeApp, specText } from '../app.js';
import { figure, type Figure, type Scenario } from '../figure.js';
import { startBenchServer } from '../model-server.js';
import { createBenchProject, measureNode, medianWallMs, runSmol, type Measured } from '../smol-process.js';
import { median } from '../stats.js';

const FILES = 24;
/** Goals, as multiples of a bare `node -e 0` (issue 15). */
const LIGHT_GOAL = 2;
const INSPECT_GOAL = 2.5;

/**
 * Start-up as the user waits: wall time of whole `node bin/smol.js` processes (spawn to exit), against a
 * bare `node -e 0` measured in the same rounds. `status` and `check` run on a 24-file project that smol
 * generated. Then runs with probe.js preloaded: CPU time and peak memory, and the modules each command
 * loaded (the packages that weigh most are named).
 */
export const startup: Scenario = async (context) => {
  const app = makeApp(FILES, 200);
  const server = await startBenchServer({ app: () => app, latency: { ttftMs: 0, tokensPerSecond: 1e9 } });
  const project = await createBenchProject();
  const figures: Figure[] = [];
  try {
    await project.writeSpec(specText({ baseURL: server.url, concurrency: 8 }));
    await runSmol(context.bin, ['run', '--yes', '--json'], project.dir);
    const commands: { label: string; args: string[]; goal?: number }[] = [
      { label: 'node -e 0 (Node alone)', args: ['-e', '0'] },
      { label: 'smol --version', args: [context.bin, '--version'], goal: LIGHT_GOAL },
      { label: 'smol --help', args: [context.bin, '--help'], goal: LIGHT_GOAL },
      { label: `smol status (${FILES} files)`, args: [context.bin, 'status'], goal: INSPECT_GOAL },
      { label: `smol check (${FILES} files)`, args: [context.bin, 'check'], goal: INSPECT_GOAL },
    ];
    const rounds = context.quick ? 5 : 15;
    context.log(`  ${commands.length} commands x ${rounds} rounds`);
    const times = await medianWallMs(
      commands.map((command) => command.args),
      project.dir,
      rounds,
    );
    const node = times[0]!;
    for (const [index, command] of commands.entries()) {
      const ms = times[index]!;
      const ratio = ms / node;
      const measure =
        index === 0
          ? `${command.label}: wall time (median of ${rounds})`
          : `${command.label}: wall time, ${ratio.toFixed(2)}x node -e 0`;
      figures.push(
        figure(
          'startup',
          measure,
          Math.round(ms),
          'ms',
          command.goal === undefined
            ? undefined
            : { goal: `<= ${command.goal}x node (${Math.round(node * command.goal)} ms)`, pass: ratio <= command.goal },
          { ratio },
        ),
      );
    }
    // CPU time holds up better than wall time when other work shares the machine.
    const cpuRounds = context.quick ? 3 : 7;
    const costs: Measured[][] = commands.map(() => []);
    for (let round = 0; round < cpuRounds; round += 1) {
      for (const [index, command] of commands.entries())
        costs[index]!.push(await measureNode(command.args, project.dir));
    }
    const cpuOf = (index: number) => median(costs[index]!.map((cost) => cost.cpuMs));
    for (const [index, command] of commands.entries()) {
      const rss = Math.max(...costs[index]!.map((cost) => cost.maxRssMb));
      const ratio = index === 0 ? '' : `, ${(cpuOf(index) / cpuOf(0)).toFixed(2)}x node's`;
      figures.push(
        figure(
          'startup',
          `${command.label}: CPU time, user + system (median of ${cpuRounds})${ratio}; peak RSS ${rss.toFixed(0)} MB`,
          Math.round(cpuOf(index)),
          'ms',
        ),
      );
    }
    for (const command of commands.slice(1)) {
      const modules = (await measureNode(command.args, project.dir, { modules: true })).modules ?? [];
      const kB =
        modules.reduce((total, file) => total + (statSync(file, { throwIfNoEntry: false })?.size ?? 0), 0) / 1024;
      figures.push(
        figure(
          'startup',
          `${command.label}: files of code loaded, ${Math.round(kB)} kB (${heaviest(modules)})`,
          modules.length,
          'files',
        ),
      );
    }
  } finally {
    await project.close();
    await server.close();
  }
  return figures;
};

/** `zod 95, diff 19, smol 60, …`: files per package, the largest first; smol's own (and its bundle's chunks) as `smol`. */
function heaviest(modules: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const file of modules) {
    const parts = file.split(path.sep);
    const at = parts.lastIndexOf('node_modules');
    const name =
      at === -1 ? 'smol' : parts[at + 1]!.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]!;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, 6).map(([name, count]) => `${name} ${count}`);
  return sorted.length > 6 ? `${shown.join(', ')}, ${sorted.length - 6} more packages` : shown.join(', ');
}
