import os from 'node:os';
import path from 'node:path';
import type { BenchContext, Figure, Scenario } from './figure.js';
import { describeMachine } from './machine.js';
import { renderTable, type BenchReport } from './report.js';
import { DEFAULT_BIN, profileInto } from './smol-process.js';
import { editCost } from './scenarios/edit-cost.js';
import { editsSize } from './scenarios/edits-size.js';
import { idle } from './scenarios/idle.js';
import { parallel } from './scenarios/parallel.js';
import { rateLimits } from './scenarios/rate-limits.js';
import { reaction } from './scenarios/reaction.js';
import { scale } from './scenarios/scale.js';
import { startup } from './scenarios/startup.js';
import { wholeProcess } from './scenarios/process.js';

const SCENARIOS: Record<string, Scenario> = {
  startup,
  process: wholeProcess,
  parallel,
  edit: editCost,
  edits: editsSize,
  reaction,
  scale,
  rate: rateLimits,
  idle,
};

const USAGE = `usage: npm run bench -- [options] [scenario ...]
       node dist-bench/bench/run.js [options] [scenario ...]   (after npm run build && npx tsc -p tsconfig.bench.json)

scenarios: ${Object.keys(SCENARIOS).join(' ')} (default: all)
options:
  --quick          fewer sizes and rounds (a few minutes instead of ten or so)
  --json           one JSON object on stdout (machine, figures) instead of the table
  --ttft=MS        the simulated model's time to first token (default 100; parallel, edit, reaction)
  --tps=N          its tokens per second (default 1000)
  --bin=PATH       the smol CLI to measure (default: this checkout's bin/smol.js)
  --cpu-prof=DIR   write a CPU profile of every smol run/watch process into DIR (timings grow with it);
                   \`node dist-bench/bench/profile.js FILE.cpuprofile\` says where the time went

Figures are printed, never asserted: a missed goal does not change the exit code.`;

const args = process.argv.slice(2);
const option = (name: string): string | undefined =>
  args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const known = new Set(['--quick', '--json']);
const badOption = args.find(
  (arg) => arg.startsWith('-') && !known.has(arg) && !/^--(ttft|tps|bin|cpu-prof)=./.test(arg),
);
const chosen = args.filter((arg) => !arg.startsWith('-'));
const unknown = chosen.filter((name) => !(name in SCENARIOS));
if (badOption !== undefined || unknown.length > 0) {
  process.stderr.write(
    `${badOption === undefined ? `unknown scenario(s): ${unknown.join(', ')}` : `unknown option: ${badOption}`}\n\n${USAGE}\n`,
  );
  process.exit(2);
}

const json = args.includes('--json');
const latency = { ttftMs: Number(option('ttft') ?? 100), tokensPerSecond: Number(option('tps') ?? 1000) };
const context: BenchContext = {
  quick: args.includes('--quick'),
  bin: path.resolve(option('bin') ?? DEFAULT_BIN),
  latency,
  log: (line) => process.stderr.write(`${line}\n`),
};
if (!(latency.ttftMs >= 0 && latency.tokensPerSecond > 0)) {
  process.stderr.write(`--ttft takes milliseconds >= 0 and --tps a number > 0\n`);
  process.exit(2);
}

const profileDir = option('cpu-prof');
if (profileDir !== undefined) profileInto(path.resolve(profileDir));

const started = performance.now();
const loadAtStart = os.loadavg()[0] ?? NaN;
const figures: Figure[] = [];
for (const name of chosen.length > 0 ? chosen : Object.keys(SCENARIOS)) {
  const scenarioStarted = performance.now();
  context.log(`${name}…`);
  figures.push(...(await SCENARIOS[name]!(context)));
  context.log(`${name}: ${((performance.now() - scenarioStarted) / 1000).toFixed(1)} s`);
}
const report: BenchReport = {
  machine: describeMachine(),
  command: `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`,
  quick: context.quick,
  latency: context.latency,
  startedAt: new Date(performance.timeOrigin + started).toISOString(),
  durationS: (performance.now() - started) / 1000,
  load: { start: loadAtStart, end: os.loadavg()[0] ?? NaN },
  figures,
};
process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : renderTable(report));
