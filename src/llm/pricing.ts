import type { Usage } from './types.js';

/** A model's price in US dollars per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /**
   * Some models charge more for every token of a call whose prompt is longer than `above` tokens
   * (Claude Haiku 5.5: above 100,000 prompt tokens). The whole call is then priced at these rates.
   */
  longPrompt?: { above: number; input: number; output: number } | undefined;
}

/** Where a price came from, for `smol doctor` and the docs. */
export interface ResolvedPrice extends ModelPrice {
  source: 'spec' | 'table' | 'local';
  /** The table entry that matched (`gpt-4o-mini`), for `source: 'table'`. */
  entry?: string;
}

/**
 * List prices (standard tier, no batch or cache discounts) in USD per million tokens, checked on
 * 2026-11-24 against the vendors' pricing and model pages (gpt-5.2 and claude-opus-4-7 against several
 * published listings that agree). A model whose list price could not be found (claude-fable-5-2,
 * claude-mythos-5-1, gpt-5.2-pro, …) is left out: it costs "unknown" rather than a guess. A model matches the entry equal to its name, or the
 * longest entry followed only by a snapshot date or version tag (`gpt-4o-2024-08-06`,
 * `claude-sonnet-4-5-20250929`, `-latest`, `-v2`, `@20240620`, `:0`): `claude-opus-4-6` is its own model,
 * never `claude-opus-4`. Prices change: `price:` in the frontmatter overrides this table.
 */
export const PRICE_TABLE: Readonly<Record<string, ModelPrice>> = {
  // OpenAI
  'gpt-5.2': { input: 1.75, output: 14 },
  'gpt-5.1': { input: 1.25, output: 10 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-2024-05-13': { input: 5, output: 15 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'chatgpt-4o-latest': { input: 5, output: 15 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-4': { input: 30, output: 60 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  o1: { input: 15, output: 60 },
  'o1-mini': { input: 1.1, output: 4.4 },
  'o1-pro': { input: 150, output: 600 },
  o3: { input: 2, output: 8 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o3-pro': { input: 20, output: 80 },
  'o4-mini': { input: 1.1, output: 4.4 },
  // Anthropic: current models
  'claude-fable-5-1': { input: 10, output: 50 },
  'claude-fable-5': { input: 10, output: 50 },
  'claude-mythos-5': { input: 10, output: 50 },
  'claude-opus-5-5': { input: 4, output: 20 },
  'claude-opus-5': { input: 5, output: 25 },
  'claude-sonnet-5-5': { input: 2, output: 10 },
  'claude-sonnet-5': { input: 2, output: 10 },
  'claude-haiku-5-5': { input: 0.1, output: 0.5, longPrompt: { above: 100_000, input: 0.5, output: 2.5 } },
  // Anthropic: legacy models
  'claude-opus-4-8': { input: 5, output: 25 },
  'claude-opus-4-7': { input: 5, output: 25 },
  'claude-opus-4-6': { input: 5, output: 25 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-3-5-sonnet': { input: 3, output: 15 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-3-opus': { input: 15, output: 75 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
};

/** Providers that run on the user's own machine: every call is free. */
const LOCAL_PROVIDERS = new Set(['ollama', 'fake']);

/**
 * The price of `model` on `provider`: the spec's `price:` when given, 0 for local providers (Ollama),
 * else the table entry; undefined when unknown (an OpenAI-compatible server with a model not in the table).
 */
export function priceFor(provider: string, model: string, override?: ModelPrice): ResolvedPrice | undefined {
  if (override !== undefined) return { input: override.input, output: override.output, source: 'spec' };
  if (LOCAL_PROVIDERS.has(provider)) return { input: 0, output: 0, source: 'local' };
  const entry = tableEntry(model);
  return entry === undefined ? undefined : { ...PRICE_TABLE[entry]!, source: 'table', entry };
}

/** The table entry for a model name, if any (see {@link PRICE_TABLE} for the matching rule). */
export function tableEntry(model: string): string | undefined {
  // Gateways prefix the vendor (`openai/gpt-4o`, `anthropic/claude-sonnet-4-5`); Bedrock prefixes
  // `anthropic.` and Bedrock and Vertex add a version after `-v2`, `@` or `:` (`claude-3-5-sonnet@20240620`).
  const name = (model.split('/').pop() ?? model).toLowerCase().replace(/^(anthropic|openai)\./, '');
  let best: string | undefined;
  for (const entry of Object.keys(PRICE_TABLE)) {
    if (!name.startsWith(entry) || !isSnapshotSuffix(name.slice(entry.length))) continue;
    if (best === undefined || entry.length > best.length) best = entry;
  }
  return best;
}

/**
 * What may follow a family's name in a snapshot of the same model: nothing, a date (`-20250929`,
 * `-2024-08-06`, `-0613`), `-latest`, a version tag (`-v2`), or a platform version after `@` or `:`.
 * A short number (`-6` in `claude-opus-4-6`) or a word (`-pro`, `-codex`) names another model.
 */
function isSnapshotSuffix(rest: string): boolean {
  return rest === '' || /^(?:-(?:\d{4,}|latest|v\d+)(?=$|[-@:])|[@:])/.test(rest);
}

/** US dollars for `usage` at `price`. */
export function costOf(usage: Pick<Usage, 'inputTokens' | 'outputTokens'>, price: ModelPrice): number {
  const rates = price.longPrompt !== undefined && usage.inputTokens > price.longPrompt.above ? price.longPrompt : price;
  return (usage.inputTokens * rates.input + usage.outputTokens * rates.output) / 1_000_000;
}

/** `$0.0123`, `$1.23`, `$0` for display: enough digits to see small runs, cents for large ones. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  if (usd >= 0.01) return `$${usd.toFixed(3)}`;
  if (usd >= 0.0001) return `$${usd.toFixed(4)}`;
  return '<$0.0001';
}
