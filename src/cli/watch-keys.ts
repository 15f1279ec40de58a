import { statePaths } from '../engine/paths.js';
import type { StagedRun } from '../engine/staging.js';
import { configuredProviderName } from '../llm/configured.js';
import { formatUsd } from '../llm/pricing.js';
import { keyReader, reviewChanges } from '../review/interactive.js';
import { loadViews, renderChange, stagedSummary } from '../review/render.js';
import type { Daemon } from '../watch/daemon.js';
import { estimateFullRun, type FullRunEstimate } from '../watch/full-run-estimate.js';
import type { CliIO, Output } from './io.js';
import { reportApply } from './review-flow.js';
import { list } from './watch-render.js';
import { count } from './words.js';

/** What a key's action needs. */
export interface KeyContext {
  io: CliIO;
  output: Output;
  daemon: Daemon;
  page: (text: string) => Promise<void>;
  /** Aborted when the daemon quits (SIGTERM) while the action waits for a key or a pager. */
  signal: AbortSignal;
}

export function helpText(output: Output): string {
  const { bold, dim } = output.colors;
  const rows: [string, string][] = [
    ['a', 'apply what is staged'],
    ['r', 'review file by file (y/n/a/q/s; conflicts: t theirs, o ours, m markers)'],
    ['d', 'show the staged diffs (through $PAGER when long)'],
    ['f', 'regenerate every file (asks first: paid calls)'],
    ['h, ?', 'this help'],
    ['q', 'quit (what is staged stays staged)'],
    ['Ctrl+C', 'cancel the run in flight; again (or when idle) to quit'],
  ];
  return `${bold('keys')}\n${rows.map(([key, what]) => `  ${bold(key.padEnd(6))} ${dim(what)}`).join('\n')}`;
}

/** `a`: applies every staged change that is not a conflict. */
export async function applyKey({ output, daemon }: KeyContext): Promise<void> {
  if (busyRunning(output, daemon, 'a')) return;
  const done = await daemon.withStaged(async (session) => {
    reportApply(output, await session.apply(), session.staged);
    return true;
  });
  if (done === undefined) output.info('nothing staged');
}

/** `r`: reviews file by file, conflicts included, then applies what was accepted. */
export async function reviewKey({ io, output, daemon, page, signal }: KeyContext): Promise<void> {
  if (busyRunning(output, daemon, 'r')) return;
  const done = await daemon.withStaged(async ({ spec, staged, apply }) => {
    const views = await loadViews(statePaths(spec.dir).objects, staged);
    const decision = await reviewChanges(views, {
      input: io.stdin,
      write: (text) => io.stderr.write(text),
      render: (view) => renderChange(view, output.colors),
      page,
      signal,
    });
    if (decision.accepted.size === 0 && decision.resolutions.size === 0) {
      output.info('Nothing applied; the changes stay staged (press r to review them again).');
      return true;
    }
    const result = await apply({
      accept: (change) => decision.accepted.has(change.path),
      resolutions: decision.resolutions,
    });
    reportApply(output, result, staged);
    return true;
  });
  if (done === undefined) output.info('nothing staged');
}

/** `d`: the staged diffs, through the pager when they do not fit the screen. */
export async function diffKey({ output, daemon, page }: KeyContext): Promise<void> {
  const spec = daemon.spec();
  const staged = await daemon.staged();
  if (spec === undefined || staged === undefined || staged.changes.length === 0) return output.info('nothing staged');
  const views = await loadViews(statePaths(spec.dir).objects, staged);
  await page(`${stagedSummary(staged)}\n${views.map((view) => `\n${renderChange(view, output.colors)}`).join('\n')}\n`);
}

/** `f`: says what a full regeneration would cost and asks before spending it. */
export async function forceKey({ io, output, daemon, signal }: KeyContext): Promise<void> {
  const spec = daemon.spec();
  if (spec === undefined) return output.info('the spec does not load yet: fix it and save first');
  const estimate = await estimateFullRun(spec, configuredProviderName(spec.settings, io.env), await daemon.staged());
  io.stderr.write(
    `${output.colors.bold('regenerate every file?')} ${describeEstimate(estimate, spec.settings.model)} [y/N] `,
  );
  const keys = keyReader(io.stdin, signal);
  let answer: string;
  try {
    answer = (await keys.next()).toLowerCase();
  } finally {
    keys.close();
  }
  io.stderr.write(`${answer === 'y' ? 'y' : 'n'}\n`);
  if (answer !== 'y') return output.info('not regenerated');
  daemon.rerun('all');
}

function describeEstimate(estimate: FullRunEstimate, model: string): string {
  if (estimate.calls === undefined) return 'Nothing has been planned yet: the number of calls is known after planning.';
  const calls = `${estimate.calls} model call${estimate.calls === 1 ? '' : 's'}`;
  const tokens = `about ${formatCount(estimate.inputTokens)} tokens in, ${formatCount(estimate.outputTokens)} out`;
  const cost = estimate.costUsd === undefined ? `no price known for ${model}` : `about ${formatUsd(estimate.costUsd)}`;
  return `${count(estimate.files ?? 0, 'file')}: ${calls}, ${tokens}, ${cost} (estimated from the files' sizes).`;
}

/** What `q` leaves behind, in words, or undefined when nothing is staged. */
export function leftStaged(staged: StagedRun | undefined): string | undefined {
  if (staged === undefined || staged.changes.length === 0) return undefined;
  return `left staged: ${stagedSummary(staged)} (${list(staged.changes.map((change) => change.path))}). \`smol apply\` reviews and writes them; \`smol diff\` shows them.`;
}

function busyRunning(output: Output, daemon: Daemon, key: string): boolean {
  if (!daemon.running()) return false;
  output.info(`a run is in progress: press ${key} once it has staged its changes (Ctrl+C cancels it)`);
  return true;
}

function formatCount(count: number): string {
  return count >= 1000 ? `${(count / 1000).toFixed(1)}k` : String(count);
}
