import type { RunEstimate } from '../engine/estimate-run.js';
import { formatUsd } from '../llm/pricing.js';
import { count } from './words.js';

/**
 * `3 calls: ~4.2k tokens in, ~2.1k out (at most 24.6k) · ~$0.051 (at most $0.38)`: what generating would
 * spend, for `smol plan` and the refusals of `--max-calls` / `--max-cost`.
 */
export function describeEstimate(estimate: RunEstimate, model: string): string {
  if (estimate.calls === 0) return 'no generation calls';
  const tokens = `~${tokenCount(estimate.inputTokens)} tokens in, ~${tokenCount(estimate.outputTokens)} out (at most ${tokenCount(estimate.maxOutputTokens)})`;
  return `${count(estimate.calls, 'call')}: ${tokens} · ${describeCost(estimate, model)}`;
}

/** `~$0.051 (at most $0.38)`, `free (local model)`, `cost unknown (no price for model x: set \`price:\`)`. */
function describeCost(estimate: RunEstimate, model: string): string {
  if (estimate.costUsd === undefined || estimate.maxCostUsd === undefined)
    return `cost unknown (no price for ${model}: set \`price:\`)`;
  if (estimate.maxCostUsd === 0) return 'free';
  return `~${formatUsd(estimate.costUsd)} (at most ${formatUsd(estimate.maxCostUsd)})`;
}

/** `950`, `4.2k`, `1.3M`. */
function tokenCount(tokens: number): string {
  if (tokens >= 1_000_000) return `${(tokens / 1_000_000).toFixed(1)}M`;
  return tokens >= 1000 ? `${(tokens / 1000).toFixed(1)}k` : String(tokens);
}
