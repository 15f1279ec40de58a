import type { RunEvent, RunUsage } from '../engine/events.js';
import { formatUsd } from '../llm/pricing.js';
import { describeReasons, type StaleReason } from '../engine/reasons.js';
import type { CliIO, Output } from './io.js';
import { count } from './words.js';
import { createLiveLines, formatCount } from './progress-lines.js';
import { throttleProgress } from './progress-throttle.js';

type ProgressRenderer = { onEvent: (event: RunEvent) => void; stop: () => void };

/** `--json` progress: every run event as one NDJSON line on stdout (`file-progress` throttled per file). */
export function createJsonProgress(output: Output): ProgressRenderer {
  return { onEvent: throttleProgress((event) => output.json({ ...event, type: event.type })), stop: () => {} };
}

/**
 * Renders run events for people: on a terminal, permanent lines for what finished plus one live line per
 * file in flight (progress-lines.ts); elsewhere plain lines. `file-progress` events are throttled per file
 * (progress-throttle.ts), as in `--json` (createJsonProgress).
 *
 * The first run's summary time is the whole command's when `io.startedAt` says when it started (the bin
 * passes 0, the process's start, so Node's start and loading count, as the user waited). A later run of
 * the same progress (watch), or any run without `io.startedAt` (in-process), shows the run's own time.
 */
export function createProgress(io: CliIO, output: Output): ProgressRenderer {
  const lines = createLiveLines(io, output);
  // performance.now() when the command started, for the first run's summary (see above).
  let commandStartedAt = io.startedAt;
  const onEvent = (event: RunEvent): void => {
    const changed = lines.track(event);
    if (event.type === 'run-done') {
      lines.erase();
      const durationMs = commandStartedAt === undefined ? event.durationMs : performance.now() - commandStartedAt;
      output.info(summaryLine(event.counts, event.usage, durationMs, output.colors));
      commandStartedAt = undefined;
      return;
    }
    const text = eventLine(event, output.colors, lines.live);
    if (text !== undefined) lines.print(text);
    else if (changed) lines.schedule();
  };
  return { onEvent: throttleProgress(onEvent), stop: () => lines.stop() };
}

/** The permanent line an event prints, if any (on a terminal, files queued and started show as live lines). */
function eventLine(event: RunEvent, colors: Output['colors'], live: boolean): string | undefined {
  switch (event.type) {
    case 'run-start':
      return colors.dim(`smol: ${event.spec} -> ${event.outDir} (${event.provider}, ${event.model})`);
    case 'stage-start':
      return colors.dim(event.stage === 'plan' ? 'planning shared dependencies…' : 'listing files…');
    case 'stage-done':
      if (event.source === 'lock') return undefined;
      return colors.dim(event.stage === 'plan' ? 'plan ready' : 'file list ready');
    case 'path-rejected':
      return `${colors.red('refused')} ${event.path}: ${event.reason}`;
    case 'out-dir-moved':
      return (
        `${colors.yellow('outDir changed')} from ${event.from} to ${event.to}: ${count(event.files.length, 'file')} ` +
        `recreated there with no model call; ${event.from}/ is left as it was (delete it when you no longer need it)`
      );
    case 'warning':
      return `${colors.yellow('warning')} ${event.message}`;
    case 'file-queued':
      return live ? undefined : `queued ${event.path} (${describeReasons(event.reasons)})`;
    case 'file-start':
      return live ? undefined : `generating ${event.path}`;
    case 'file-done':
      return `${colors.green('done')} ${event.path} ${colors.dim(`(${describeAction(event.action)}${event.cached ? ', cached' : ''})`)}`;
    case 'file-failed':
      return `${colors.red('failed')} ${event.message}`;
    case 'file-skipped':
      return `${colors.yellow('skipped')} ${event.path} ${colors.dim(`(${skippedWhy(event.action, event.reasons)})`)}`;
    case 'rate-limited':
      return rateLimitedLine(event, colors);
    default:
      return undefined;
  }
}

function rateLimitedLine(event: Extract<RunEvent, { type: 'rate-limited' }>, colors: Output['colors']): string {
  const why =
    event.reason === 'retry-after'
      ? 'the provider asked to wait'
      : event.reason === 'overloaded'
        ? 'the provider is overloaded'
        : `rateLimit.${event.reason}`;
  const where = event.path === undefined ? '' : `, ${event.path}`;
  return `${colors.yellow('waiting')} ${(event.ms / 1000).toFixed(1)}s ${colors.dim(`(${why}${where})`)}`;
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
function summaryLine(
  counts: Record<string, number>,
  usage: RunUsage,
  durationMs: number,
  colors: { dim: (text: string) => string },
): string {
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
  if (!usage.costKnown)
    return usage.costUsd > 0 ? `${approx}${formatUsd(usage.costUsd)} + unpriced calls` : 'cost unknown';
  return usage.costUsd > 0 ? `${approx}${formatUsd(usage.costUsd)}` : '';
}

/** Why a stale file was not regenerated, in words. */
function skippedWhy(action: string, reasons: readonly StaleReason[]): string {
  const stale = reasons.length > 0 ? `${describeReasons(reasons)}; ` : '';
  if (action === 'missing') return `${stale}deleted by hand: not recreated (smol regen PATH recreates it)`;
  if (action === 'edited') return `${stale}edited by hand: kept`;
  if (action === 'kept') return 'left the plan: kept';
  return describeReasons(reasons);
}
