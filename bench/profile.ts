import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * `node dist-bench/bench/profile.js FILE.cpuprofile [FROM_MS TO_MS] [ROWS]`: where a smol process spent
 * its time, from a profile written with `npm run bench -- --cpu-prof=DIR` (or `node --cpu-prof`). Prints
 * self time by function (file:line name; packages by their path in node_modules), then the time spent in
 * and under each of smol's own functions (dist/...), optionally only between FROM_MS and TO_MS after the
 * profile's start. Under the profiler everything runs slower; compare functions, not wall times.
 */
const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type ProfileNode = z.infer<typeof profileSchema>['nodes'][number];

const [file, fromArg, toArg, rowsArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node dist-bench/bench/profile.js FILE.cpuprofile [FROM_MS TO_MS] [ROWS]\n');
  process.exit(2);
}
const profile = profileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
const fromUs = Number(fromArg ?? 0) * 1000;
const toUs = toArg === undefined ? Infinity : Number(toArg) * 1000;
const rows = Number(rowsArg ?? 25);

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

function nameOf(node: ProfileNode): string {
  const url = node.callFrame.url;
  const where = url.includes('/node_modules/')
    ? url.replace(/.*node_modules\//, '')
    : url.replace(/.*\/dist\//, 'dist/').replace(/^node:internal\//, 'node:');
  return `${where}:${node.callFrame.lineNumber + 1} ${node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName}`;
}

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let totalUs = 0;
let at = 0;
for (const [index, sample] of profile.samples.entries()) {
  at += profile.timeDeltas[index] ?? 0;
  if (at < fromUs || at > toUs) continue;
  // A sample stands for the time until the next one.
  const us = profile.timeDeltas[index + 1] ?? 0;
  totalUs += us;
  let node = byId.get(sample);
  if (node === undefined) continue;
  self.set(nameOf(node), (self.get(nameOf(node)) ?? 0) + us);
  const counted = new Set<string>();
  while (node !== undefined) {
    const name = nameOf(node);
    if (name.startsWith('dist/') && !counted.has(name)) {
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      counted.add(name);
    }
    const parent = parentOf.get(node.id);
    node = parent === undefined ? undefined : byId.get(parent);
  }
}

const table = (times: Map<string, number>): string =>
  [...times]
    .sort((a, b) => b[1] - a[1])
    .slice(0, rows)
    .map(([name, us]) => `${(us / 1000).toFixed(1).padStart(8)} ms  ${name}`)
    .join('\n');
process.stdout.write(
  `${(totalUs / 1000).toFixed(0)} ms profiled\n\nself time\n${table(self)}\n\nin and under smol's functions\n${table(inclusive)}\n`,
);
