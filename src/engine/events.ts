import type { ProviderWait, Stage } from '../llm/types.js';
import { emptyLedger, type UsageLedger } from '../llm/usage.js';
import type { StaleReason } from './reasons.js';

/**
 * Calls, tokens and cost of a run, in total and per output file (`files`). `calls` counts requests that
 * reached the provider; cache hits are counted apart and cost nothing. `costUsd` comes from the spec's
 * `price:` or the price table (0 for local providers); `costKnown` is false when the model has no price.
 */
export type RunUsage = UsageLedger;

export function emptyUsage(): RunUsage {
  return emptyLedger();
}

/** What happens to one planned file in a run. */
export type FileAction =
  | 'create'
  | 'update'
  | 'delete'
  | 'conflict'
  | 'unchanged'
  | 'edited'
  | 'missing'
  /** Left the plan but stays on disk (edited, not written by smol here, or ignored). */
  | 'kept'
  | 'failed';

/** Progress and outcome events, in order. The CLI renders them; `--json` prints them as NDJSON. */
export type RunEvent =
  | { type: 'run-start'; spec: string; outDir: string; provider: string; model: string }
  /** An apply a crash interrupted was finished first (`refused`: a journal that named another folder was set aside). */
  | {
      type: 'journal-recovered';
      files: string[];
      skipped: string[];
      failed?: { path: string; message: string }[];
      refused?: string | undefined;
    }
  /** The output folder changed: these files are carried from the old one (no model call), which is left as it is. */
  | { type: 'out-dir-moved'; from: string; to: string; files: string[] }
  | { type: 'stage-start'; stage: 'plan' | 'files' }
  | { type: 'stage-done'; stage: 'plan' | 'files'; source: 'model' | 'lock' }
  | { type: 'path-rejected'; path: string; reason: string }
  /** An answer smol used though it looks wrong: `no-code-fence` (taken whole as the file), `odd-file-name` (a space or comma). */
  | { type: 'warning'; code: 'no-code-fence' | 'odd-file-name'; path?: string; message: string }
  | { type: 'file-queued'; path: string; reasons: StaleReason[] }
  | { type: 'file-start'; path: string }
  /** `tokens` counts streamed fragments (one per token with most servers); `chars` the text so far. */
  | { type: 'file-progress'; path: string; chars: number; tokens: number }
  | { type: 'file-done'; path: string; action: FileAction; cached: boolean }
  | { type: 'file-failed'; path: string; message: string }
  | { type: 'file-skipped'; path: string; action: FileAction; reasons: StaleReason[] }
  | { type: 'file-written'; path: string; action: FileAction }
  /** One model call finished (or came from the cache): its tokens and cost (`null` when the price is unknown). */
  | {
      type: 'call-done';
      stage: Stage;
      path?: string | undefined;
      inputTokens: number;
      outputTokens: number;
      estimated: boolean;
      costUsd: number | null;
      cached: boolean;
    }
  /** A call waits before it is sent: the spec's `rateLimit` (`rpm`/`tpm`), or a pause the server asked for (every call waits). */
  | { type: 'rate-limited'; reason: ProviderWait['reason']; ms: number; stage: Stage; path?: string | undefined }
  | { type: 'run-done'; usage: RunUsage; durationMs: number; counts: Record<string, number> };

export type EventSink = (event: RunEvent) => void;
