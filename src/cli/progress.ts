import type { RunEvent, RunUsage } from '../engine/events.js';
import { formatUsd } from '../llm/pricing.js';
import { describeReasons, type StaleReason } from '../engine/reasons.js';
import type { CliIO, Output } from './io.js';
import { count } from './words.js';
import { PROGRESS_INTERVAL_MS, throttleProgress } from './progress-throttle.js';

/** The live lines are redrawn at most this often: with progress throttled per file, about 10 times a second. */
const REDRAW_INTERVAL_MS = PROGRESS_INTERVAL_MS;

/**
 * Renders run events: on a terminal, permanent lines for what finished plus one live line per file in
 * flight (redrawn, throttled); elsewhere plain lines; with `--json`, NDJSON on stdout and nothing else.
 * `file-progress` events are throttled per file in both (progress-throttle.ts).
 *
 * The first run's summary time is the whole command's when `io.startedAt` says when it started (the bin
 * passes 0, the process's start, so Node's start and loading count, as the user waited). A later run of
 * the same progress (watch), or any run without `io.startedAt` (in-process), shows the run's own time.
 */
export function createProgress(io: CliIO, output: Output, mode: 'auto' | 'json'): { onEvent: (event: RunEvent) => void; stop: () => void } {
  if (mode === 'json') return { onEvent: throttleProgress((event) => output.json({ ...event, type: event.type })), stop: () => {} };
  const live = output.isTTY;
  const { colors } = output;
  const active = new Map<string, { tokens: number; started: number }>();
  let queued = 0;
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;
  // performance.now() when the command started, for the first run's summary (see above).
  let commandStartedAt = io.startedAt;

  const erase = (): void => {
    if (drawnLines > 0) io.stderr.write(`\u001b[${drawnLines}A\u001b[J`);
    drawnLines = 0;
  };
  const draw = (): void => {
    timer = undefined;
    if (!live) return;
    erase();
    const width = Math.max(40, (io.stderr.columns ?? 80) - 1);
    const lines = [...active].map(([path, state]) => {
      const seconds = ((Date.now() - state.started) / 1000).toFixed(1);
      return truncate(`${colors.cyan('…')} ${path}  ${colors.dim(`generating, ${formatCount(state.tokens)} tokens, ${seconds}s`)}`, width);
    });
    const waiting = queued - active.size;
    if (waiting > 0) lines.push(colors.dim(`  ${waiting} queued`));
    if (lines.length > 0) io.stderr.write(`${lines.join('\n')}\n`);
    drawnLines = lines.length;
  };
  const schedule = (): void => {
    if (live && timer === undefined) timer = setTimeout(draw, REDRAW_INTERVAL_MS);
  };
  const line = (text: string): void => {
    if (live) erase();
    output.info(text);
    if (live) schedule();
  };

  const onEvent = (event: RunEvent): void => {
    switch (event.type) {
      case 'run-start':
        active.clear();
        queued = 0;
        line(colors.dim(`smol: ${event.spec} -> ${event.outDir} (${event.provider}, ${event.model})`));
        break;
      case 'stage-start':
        line(colors.dim(event.stage === 'plan' ? 'planning shared dependencies…' : 'listing files…'));
        break;
      case 'stage-done':
        if (event.source === 'lock') break;
        line(colors.dim(event.stage === 'plan' ? 'plan ready' : 'file list ready'));
        break;
      case 'path-rejected':
        line(`${colors.red('refused')} ${event.path}: ${event.reason}`);
        break;
      case 'out-dir-moved':
        line(`${colors.yellow('outDir changed')} from ${event.from} to ${event.to}: ${count(event.files.length, 'file')} recreated there with no model call; ${event.from}/ is left as it was (delete it when you no longer need it)`);
        break;
      case 'warning':
        line(`${colors.yellow('warning')} ${event.message}`);
        break;
      case 'file-queued':
        queued += 1;
        if (!live) line(`queued ${event.path} (${describeReasons(event.reasons)})`);
        schedule();
        break;
      case 'file-start':
        active.set(event.path, { tokens: 0, started: Date.now() });
        if (!live) line(`generating ${event.path}`);
        schedule();
        break;
      case 'file-progress': {
        const state = active.get(event.path);
        if (state !== undefined) state.tokens = event.tokens;
        schedule();
        break;
      }
      case 'file-done':
        active.delete(event.path);
        queued -= 1;
        line(`${colors.green('done')} ${event.path} ${colors.dim(`(${describeAction(event.action)}${event.cached ? ', cached' : ''})`)}`);
        break;
      case 'file-failed':
        active.delete(event.path);
        queued -= 1;
        line(`${colors.red('failed')} ${event.message}`);
        break;
      case 'file-skipped':
        line(`${colors.yellow('skipped')} ${event.path} ${colors.dim(`(${skippedWhy(event.action, event.reasons)})`)}`);
        break;
      case 'file-written':
      case 'call-done':
        break;
      case 'rate-limited':
        line(`${colors.yellow('waiting')} ${(event.ms / 1000).toFixed(1)}s ${colors.dim(`(${event.reason === 'retry-after' ? 'the provider asked to wait' : event.reason === 'overloaded' ? 'the provider is overloaded' : `rateLimit.${event.reason}`}${event.path === undefined ? '' : `, ${event.path}`})`)}`);
        break;
      case 'run-done':
        if (live) erase();
        output.info(summaryLine(event.counts, event.usage, commandStartedAt === undefined ? event.durationMs : performance.now() - commandStartedAt, colors));
        commandStartedAt = undefined;
        break;
    }
  };
  return {
    onEvent: throttleProgress(onEvent),
    stop: () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (live) erase();
    },
  };
}

function describeAction(action: string): string {
  switch (action) {
    case 'create':
      return 'new';
    case 'update':
      return 'changed';
    case 'delete':
      return 'deleted';
    default:
      return action;
  }
}

/** `3 changed, 1 new, 1 conflict, 12 unchanged · 5 calls (2 cached) · 12.3k tokens in, 3.4k out · 4.2s` */
function summaryLine(counts: Record<string, number>, usage: RunUsage, durationMs: number, colors: { dim: (text: string) => string }): string {
  const order: [string, string][] = [
    ['update', 'changed'],
    ['create', 'new'],
    ['delete', 'deleted'],
    ['conflict', counts.conflict === 1 ? 'conflict' : 'conflicts'],
    ['failed', 'failed'],
    ['edited', 'edited by hand'],
    ['missing', 'deleted by hand'],
    ['unchanged', 'unchanged'],
  ];
  const parts = order.filter(([key]) => (counts[key] ?? 0) > 0).map(([key, label]) => `${counts[key]} ${label}`);
  const files = parts.length > 0 ? parts.join(', ') : 'no files';
  const cached = usage.cachedCalls > 0 ? ` (${usage.cachedCalls} cached)` : '';
  const estimated = usage.estimated ? ' (estimated)' : '';
  const cost = costText(usage);
  return `${files} ${colors.dim('·')} ${count(usage.calls, 'call')}${cached} ${colors.dim('·')} ${formatCount(usage.inputTokens)} tokens in, ${formatCount(usage.outputTokens)} out${estimated}${cost === '' ? '' : ` ${colors.dim('·')} ${cost}`} ${colors.dim('·')} ${(durationMs / 1000).toFixed(1)}s`;
}

/** `$0.042`, `~$0.042` when tokens were estimated, `cost unknown` without a price; nothing for free runs. */
function costText(usage: RunUsage): string {
  if (usage.calls === 0) return '';
  const approx = usage.estimated ? '~' : '';
  if (!usage.costKnown) return usage.costUsd > 0 ? `${approx}${formatUsd(usage.costUsd)} + unpriced calls` : 'cost unknown';
  return usage.costUsd > 0 ? `${approx}${formatUsd(usage.costUsd)}` : '';
}

function formatCount(count: number): string {
  return count >= 1000 ? `${(count / 1000).toFixed(1)}k` : String(count);
}

function truncate(text: string, width: number): string {
  // Width is approximate: colour codes do not take columns, so only clip long plain paths.
  return text.length > width + 20 ? `${text.slice(0, width + 17)}...` : text;
}

/** Why a stale file was not regenerated, in words. */
function skippedWhy(action: string, reasons: readonly StaleReason[]): string {
  const stale = reasons.length > 0 ? `${describeReasons(reasons)}; ` : '';
  if (action === 'missing') return `${stale}deleted by hand: not recreated (smol regen PATH recreates it)`;
  if (action === 'edited') return `${stale}edited by hand: kept`;
  if (action === 'kept') return 'left the plan: kept';
  return describeReasons(reasons);
}
