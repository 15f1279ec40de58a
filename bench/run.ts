import os from 'node:os';
import { editCost, idle, parallel, rateLimits, reaction, scale, type Figure } from './scenarios.js';

/**
 * `npm run bench [-- --quick] [-- --json] [-- parallel edit reaction scale rate idle]`: runs the
 * benchmarks against a loopback model server and prints a table. Figures are measured, never asserted.
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const chosen = args.filter((arg) => !arg.startsWith('--'));
const all: Record<string, () => Promise<Figure[]>> = {
  parallel: () => parallel(quick),
  edit: () => editCost(),
  reaction: () => reaction(quick),
  scale: () => scale(quick),
  rate: () => rateLimits(),
  idle: () => idle(quick),
};
const unknown = chosen.filter((name) => !(name in all));
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; choose from ${Object.keys(all).join(', ')}\n`);
  process.exit(2);
}
const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
const figures: Figure[] = [];
for (const name of chosen.length > 0 ? chosen : Object.keys(all)) {
  process.stderr.write(`running ${name}…\n`);
  figures.push(...(await all[name]!()));
}
if (json) {
  process.stdout.write(`${JSON.stringify({ machine, quick, figures }, null, 2)}\n`);
} else {
  process.stdout.write(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, node ${machine.node}${quick ? ' (quick)' : ''}\n\n`);
  const rows = figures.map((figure) => [figure.scenario, figure.measure, `${format(figure.value)} ${figure.unit}`, figure.goal ?? '', figure.pass === undefined ? '' : figure.pass ? 'pass' : 'MISS']);
  const header = ['scenario', 'measure', 'value', 'goal', ''];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |\n${rows.map(line).join('\n')}\n`);
}

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
}
