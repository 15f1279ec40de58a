import type { CachedCompletion } from './cache.js';
import { costOf, type ModelPrice } from './pricing.js';
import type { CompleteOptions, CompletionRequest, Provider, ProviderWait, Stage, Usage } from './types.js';

/** Calls, tokens and dollars. `calls` counts requests that reached the provider; cache hits are separate and free. */
interface UsageTotals {
  calls: number;
  cachedCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** True when any count was estimated (js-tiktoken) because the server sent no usage. */
  estimated: boolean;
  /** US dollars, from the spec's `price:` or the price table; 0 for local providers. */
  costUsd: number;
  /** False when a call's model has no known price: `costUsd` leaves those calls out (set `price:`). */
  costKnown: boolean;
}

/** {@link UsageTotals} for a whole run, and for each output file (its code calls). */
export interface UsageLedger extends UsageTotals {
  files: Record<string, UsageTotals>;
}

function emptyTotals(): UsageTotals {
  return { calls: 0, cachedCalls: 0, inputTokens: 0, outputTokens: 0, estimated: false, costUsd: 0, costKnown: true };
}

export function emptyLedger(): UsageLedger {
  return { ...emptyTotals(), files: {} };
}

/** One call as the meter saw it. */
export interface CallRecord {
  stage: Stage;
  file?: string | undefined;
  usage: Usage;
  /** Undefined when the price is unknown. */
  costUsd: number | undefined;
  cached: boolean;
}

/**
 * Wraps a provider (above the response cache) so every call is counted into `ledger`: per run and per
 * file, cache hits apart and free. `onWait` is passed down to rate-limiting wrappers on every call.
 */
export function meterUsage(
  provider: Provider,
  ledger: UsageLedger,
  options: {
    price: ModelPrice | undefined;
    onCall?: (call: CallRecord) => void;
    onWait?: (wait: ProviderWait, request: CompletionRequest) => void;
  },
): Provider {
  const { price } = options;
  return {
    name: provider.name,
    async complete(request: CompletionRequest, callOptions: CompleteOptions = {}) {
      const onWait = options.onWait;
      const forwarded: CompleteOptions =
        onWait === undefined || callOptions.onWait !== undefined
          ? callOptions
          : { ...callOptions, onWait: (wait) => onWait(wait, request) };
      const result: CachedCompletion = await provider.complete(request, forwarded);
      const cached = result.cached === true;
      const costUsd = cached ? 0 : price === undefined ? undefined : costOf(result.usage, price);
      record(ledger, result.usage, cached, costUsd);
      if (request.file !== undefined) {
        const totals = ledger.files[request.file] ?? emptyTotals();
        ledger.files[request.file] = totals;
        record(totals, result.usage, cached, costUsd);
      }
      options.onCall?.({ stage: request.stage, file: request.file, usage: result.usage, costUsd, cached });
      return result;
    },
  };
}

function record(totals: UsageTotals, usage: Usage, cached: boolean, costUsd: number | undefined): void {
  if (cached) {
    totals.cachedCalls += 1;
    return;
  }
  totals.calls += 1;
  totals.inputTokens += usage.inputTokens;
  totals.outputTokens += usage.outputTokens;
  if (usage.estimated) totals.estimated = true;
  if (costUsd === undefined) totals.costKnown = false;
  else totals.costUsd += costUsd;
}
