import path from 'node:path';
import { hashJson } from '../internal/hash.js';
import { readStateFile, writeStateFile } from '../workspace/state-file.js';
import type { CompleteOptions, CompletionRequest, CompletionResult, Provider } from './types.js';

/** A provider whose answers may come from the response cache. */
export interface CachedCompletion extends CompletionResult {
  cached?: boolean;
}

export interface CacheStats {
  hits: number;
  misses: number;
}

/**
 * Wraps a provider with the response cache of design.md 4.5: the key is a hash of the whole request
 * (provider identity, model, messages, tools, settings), so an identical request is answered from disk.
 * Only complete answers are stored: a truncated or filtered one is not worth replaying.
 */
export function withResponseCache(
  provider: Provider,
  options: { dir: string; identity: string },
): Provider & { stats: CacheStats } {
  const stats: CacheStats = { hits: 0, misses: 0 };
  return {
    name: provider.name,
    stats,
    async complete(request: CompletionRequest, callOptions: CompleteOptions = {}): Promise<CachedCompletion> {
      const key = hashJson({ identity: options.identity, request });
      const file = path.join(options.dir, key.slice(0, 2), `${key.slice(2)}.json`);
      const hit = callOptions.cache === 'refresh' ? undefined : await readCached(file);
      if (hit !== undefined) {
        stats.hits += 1;
        callOptions.signal?.throwIfAborted();
        if (hit.text !== '') callOptions.onToken?.(hit.text);
        return { ...hit, cached: true };
      }
      stats.misses += 1;
      const result = await provider.complete(request, callOptions);
      if (result.finishReason === 'stop' || result.finishReason === 'tool_calls') {
        // Best effort, and off the caller's critical path: a disk that refuses the entry costs a later
        // call, not this answer. Pending writes keep the process alive until they finish.
        // Never through a link in the cache folder (`.smol/` may come from a cloned repository).
        void writeStateFile(file, JSON.stringify(result), { root: path.dirname(options.dir) }).catch(() => undefined);
      }
      return result;
    },
  };
}

async function readCached(file: string): Promise<CompletionResult | undefined> {
  try {
    // Not through a link, and a FIFO in an entry's place is no reason to wait.
    const text = await readStateFile(file);
    if (text === undefined) return undefined;
    const parsed = JSON.parse(text) as CompletionResult;
    return typeof parsed.text === 'string' && Array.isArray(parsed.toolCalls) ? parsed : undefined;
  } catch {
    // Missing or damaged entries are a miss; the next answer overwrites them.
    return undefined;
  }
}
