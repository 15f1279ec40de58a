import type { PathRejection } from '../workspace/safe-path.js';

/** Token and call counts. `calls` counts requests that reached the provider; cache hits are separate. */
export interface RunUsage {
  calls: number;
  cachedCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** True when any count was estimated because the server sent no usage. */
  estimated: boolean;
}

export function emptyUsage(): RunUsage {
  return { calls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, estimated: false };
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
  | 'failed';

/** Progress and outcome events, in order. The CLI renders them; `--json` prints them as NDJSON. */
export type RunEvent =
  | { type: 'run-start'; spec: string; outDir: string; provider: string; model: string }
  | { type: 'stage-start'; stage: 'plan' | 'files' }
  | { type: 'stage-done'; stage: 'plan' | 'files'; source: 'model' | 'cache' | 'lock' }
  | { type: 'path-rejected'; path: string; reason: string }
  | { type: 'file-queued'; path: string; reasons: string[] }
  | { type: 'file-start'; path: string }
  | { type: 'file-progress'; path: string; chars: number }
  | { type: 'file-done'; path: string; action: FileAction; cached: boolean }
  | { type: 'file-failed'; path: string; message: string }
  | { type: 'file-skipped'; path: string; action: FileAction; reasons: string[] }
  | { type: 'file-written'; path: string; action: FileAction }
  | { type: 'run-done'; usage: RunUsage; durationMs: number; counts: Record<string, number> };

export type EventSink = (event: RunEvent) => void;

export type { PathRejection };
