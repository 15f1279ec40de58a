import type { Figure } from './figure.js';
import type { Machine } from './machine.js';
import { describeLatency, type LatencyModel } from './model-server.js';

export interface BenchReport {
  machine: Machine;
  command: string;
  quick: boolean;
  latency: LatencyModel;
  startedAt: string;
  durationS: number;
  /** The machine's 1-minute load average at the start and the end: other work skews wall times. */
  load: { start: number; end: number };
  figures: Figure[];
}

/** The report as a Markdown table, headed by the machine and the command. */
export function renderTable(report: BenchReport): string {
  const { machine } = report;
  const head = [
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, node ${machine.node}, ${machine.os}`,
    `command: ${report.command}${report.quick ? ' (quick: fewer rounds and sizes; figures are rougher)' : ''}`,
    `model:   ${describeLatency(report.latency)} (parallel, edit, reaction; the process scenario's calls take 1 s); loopback 127.0.0.1, OpenAI wire format, streamed`,
    `took:    ${report.durationS.toFixed(0)} s; load average ${report.load.start.toFixed(1)} at the start, ${report.load.end.toFixed(1)} at the end${report.load.start > machine.cores || report.load.end > machine.cores ? ' (a busy machine: wall times run long; CPU times hold up better)' : ''}`,
  ];
  const rows = report.figures.map((entry) => [
    entry.scenario,
    entry.measure,
    `${formatValue(entry.value)} ${unitFor(entry.value, entry.unit)}`.trim(),
    entry.goal ?? '',
    entry.pass === undefined ? '' : entry.pass ? 'pass' : 'MISS',
  ]);
  const header = ['scenario', 'measure', 'figure', 'goal', ''];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const misses = report.figures.filter((entry) => entry.pass === false).length;
  const goals = report.figures.filter((entry) => entry.pass !== undefined).length;
  return `${head.join('\n')}\n\n${line(header)}\n| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |\n${rows.map(line).join('\n')}\n\n${goals - misses} of ${goals} goals met.\n`;
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

/** `1 calls` reads badly: counted units drop their plural `s` for exactly one. */
function unitFor(value: number, unit: string): string {
  return value === 1 && ['calls', 'files', 'tokens', 'responses', 'events'].includes(unit) ? unit.slice(0, -1) : unit;
}
