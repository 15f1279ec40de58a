import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { statePaths } from '../engine/paths.js';
import type { StagedRun } from '../engine/staging.js';
import { computeStatus } from '../engine/status.js';
import { mapLimit } from '../internal/map-limit.js';
import { costOf, priceFor } from '../llm/pricing.js';
import type { Spec } from '../spec/types.js';
import { ObjectStore } from '../workspace/object-store.js';

/** What a forced regeneration of every file (`f` in watch) would cost, before spending it. */
export interface FullRunEstimate {
  /** Files in smol.lock (undefined: no lock yet, so the file list is not known before planning). */
  files: number | undefined;
  /** Model calls: one per file, plus planning and the file list when the spec changed. */
  calls: number | undefined;
  inputTokens: number;
  outputTokens: number;
  /** US dollars; undefined when the model has no known price. */
  costUsd: number | undefined;
}

// A common rule of thumb for English and code. The tokenizer would be closer, but it is slow on long runs
// of one character (issue 13, item 8), and this answers a key press.
const CHARS_PER_TOKEN = 4;
// Instructions, the file list and the plan's shared part that every generation call carries.
const PROMPT_OVERHEAD_TOKENS = 400;
const STAT_CONCURRENCY = 16;

/**
 * Estimates a forced full regeneration from the lock's file list (or, before the first apply, the staged
 * run's) and the files' sizes (a file's current content is both sent and, roughly, what comes back),
 * priced with the spec's `price:` or the price table. No model call.
 */
export async function estimateFullRun(
  spec: Spec,
  providerName: string | undefined,
  staged?: StagedRun,
): Promise<FullRunEstimate> {
  const status = await computeStatus(spec, { syncEdits: false });
  const price = priceFor(providerName ?? '', spec.settings.model, spec.settings.price);
  // Before the first apply there is no lock, but a staged run knows the files and their new contents.
  const stagedSizes = new Map<string, string | null>();
  for (const change of staged?.changes ?? [])
    if (change.action !== 'delete') stagedSizes.set(change.path, change.after ?? change.generated ?? null);
  for (const file of Object.keys(staged?.keep ?? {})) stagedSizes.set(file, null);
  const files = status.hasLock
    ? status.files.filter((file) => file.removed !== true).map((file) => file.path)
    : [...stagedSizes.keys()];
  if (files.length === 0 && !status.hasLock)
    return { files: undefined, calls: undefined, inputTokens: 0, outputTokens: 0, costUsd: undefined };
  const specTokens = Math.ceil(
    (spec.body.length + spec.includes.reduce((sum, include) => sum + include.text.length, 0)) / CHARS_PER_TOKEN,
  );
  const objects = new ObjectStore(statePaths(spec.dir).objects);
  const sizes = await mapLimit(files, STAT_CONCURRENCY, async (file) => {
    const onDisk = await contentLength(spec.outDir, file);
    const hash = stagedSizes.get(file);
    return onDisk > 0 || hash === undefined || hash === null ? onDisk : ((await objects.get(hash))?.length ?? 0);
  });
  let inputTokens = 0;
  let outputTokens = 0;
  for (const size of sizes) {
    const tokens = Math.ceil(size / CHARS_PER_TOKEN);
    outputTokens += tokens;
    inputTokens += tokens + PROMPT_OVERHEAD_TOKENS + (spec.settings.context === 'full' ? specTokens : 0);
  }
  const planning = status.specChanged && status.hasLock ? 2 : 0;
  if (planning > 0) inputTokens += 2 * (specTokens + PROMPT_OVERHEAD_TOKENS);
  return {
    files: files.length,
    calls: files.length + planning,
    inputTokens,
    outputTokens,
    costUsd: price === undefined ? undefined : costOf({ inputTokens, outputTokens }, price),
  };
}

/** Bytes of a planned file on disk (0 when missing or not a plain file); a path from the lock never leaves outDir. */
async function contentLength(outDir: string, file: string): Promise<number> {
  const absolute = path.resolve(outDir, file);
  const relative = path.relative(outDir, absolute);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return 0;
  const stats = await lstat(absolute).catch(() => undefined);
  return stats?.isFile() === true ? stats.size : 0;
}
