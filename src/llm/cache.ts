import path from 'node:path';
import * as z from 'zod';
import { hashJson } from '../internal/hash.js';
import { readStateFile, writeStateFile } from '../workspace/state-file.js';
import { UnsupportedFeatureError, unsupportedError } from './refusals.js';
import type { CompleteOptions, CompletionRequest, CompletionResult, Provider } from './types.js';

/** A provider whose answers may come from the response cache. */
export interface CachedCompletion extends CompletionResult {
  cached?: boolean;
}

export interface CacheStats {
  hits: number;
  misses: number;
}

// Entries are read back from `.smol/cache`, which a cloned repository may carry: parsed, never trusted.
const completionSchema = z.object({
  text: z.string(),
  toolCalls: z.array(z.object({ name: z.string(), arguments: z.string() })),
  usage: z.object({
    inputTokens: z.number().nonnegative(),
    outputTokens: z.number().nonnegative(),
    estimated: z.boolean(),
  }),
  finishReason: z.enum(['stop', 'length', 'tool_calls', 'content_filter', 'other']),
});
const refusalSchema = z.object({
  refused: z.enum(['tools', 'json-schema']),
  where: z.string().max(500),
  message: z.string().max(2000),
});
const entrySchema = z.union([completionSchema, refusalSchema]);

/**
 * Wraps a provider with the response cache of design.md 4.5: the key is a hash of the whole request
 * (provider identity, model, messages, tools, settings), so an identical request is answered from disk.
 * Only complete answers are stored: a truncated or filtered one is not worth replaying. A server refusing
 * a feature (tools, a response schema) is stored too, under the key of the request it refused, so the
 * next run does not ask again but goes straight to what works.
 */
export function withResponseCache(
  provider: Provider,
  options: { dir: string; identity: string },
): Provider & { stats: CacheStats; settled: () => Promise<void> } {
  const stats: CacheStats = { hits: 0, misses: 0 };
  const pending = new Set<Promise<void>>();
  const store = (file: string, entry: unknown): void => {
    // Best effort, and off the caller's critical path: a disk that refuses the entry costs a later
    // call, not this answer. Pending writes keep the process alive until they finish.
    // Never through a link in the cache folder (`.smol/` may come from a cloned repository), and without
    // fsync: a cache lost in a crash costs a call, never a file.
    // After the I/O due now (setImmediate): the caller's next request goes out before this write.
    const text = JSON.stringify(entry);
    const write = new Promise((resolve) => setImmediate(resolve))
      .then(() => writeStateFile(file, text, { root: path.dirname(options.dir), durable: false }))
      .catch(() => undefined)
      .finally(() => pending.delete(write));
    pending.add(write);
  };
  return {
    name: provider.name,
    stats,
    /** Resolves once every entry written so far is on disk (or failed). */
    settled: async () => {
      await Promise.all(pending);
    },
    async complete(request: CompletionRequest, callOptions: CompleteOptions = {}): Promise<CachedCompletion> {
      const key = hashJson({ identity: options.identity, request });
      const file = path.join(options.dir, key.slice(0, 2), `${key.slice(2)}.json`);
      const hit = callOptions.cache === 'refresh' ? undefined : await readCached(file);
      if (hit !== undefined) {
        callOptions.signal?.throwIfAborted();
        if ('refused' in hit)
          throw unsupportedError(hit.refused, hit.where, `${hit.message} (remembered from an earlier run)`);
        stats.hits += 1;
        if (hit.text !== '') callOptions.onToken?.(hit.text);
        return { ...hit, cached: true };
      }
      stats.misses += 1;
      let result: CompletionResult;
      try {
        result = await provider.complete(request, callOptions);
      } catch (error) {
        if (error instanceof UnsupportedFeatureError)
          store(file, { refused: error.feature, where: error.where, message: error.serverMessage.slice(0, 2000) });
        throw error;
      }
      if (result.finishReason === 'stop' || result.finishReason === 'tool_calls') store(file, result);
      return result;
    },
  };
}

async function readCached(file: string): Promise<z.output<typeof entrySchema> | undefined> {
  try {
    // Not through a link, and a FIFO in an entry's place is no reason to wait.
    const text = await readStateFile(file);
    if (text === undefined) return undefined;
    const parsed = entrySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Missing or damaged entries are a miss; the next answer overwrites them.
    return undefined;
  }
}
