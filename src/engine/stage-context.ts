import { withBudget } from '../llm/budget.js';
import { withResponseCache } from '../llm/cache.js';
import { priceFor } from '../llm/pricing.js';
import type { Provider } from '../llm/types.js';
import { meterUsage } from '../llm/usage.js';
import type { StageContext } from '../plan/stages.js';
import type { Spec } from '../spec/types.js';
import type { EventSink, RunUsage } from './events.js';

/**
 * The provider chain every model call of a run goes through, innermost first: the provider as given (rate
 * limits inside) -> budget (real calls only) -> response cache -> meter (every call, per file).
 */
export function buildStageContext(options: {
  spec: Spec;
  provider: Provider;
  providerIdentity: string | undefined;
  /** Response cache folder; undefined turns the cache off. */
  cacheDir: string | undefined;
  usage: RunUsage;
  onEvent: EventSink;
  signal: AbortSignal | undefined;
}): StageContext {
  const { spec, provider, onEvent } = options;
  const price = priceFor(provider.name, spec.settings.model, spec.settings.price);
  const { budget } = spec.settings;
  const budgeted =
    budget === undefined
      ? provider
      : withBudget(provider, { usd: budget.usd, price, model: spec.settings.model, providerName: provider.name });
  const cached =
    options.cacheDir === undefined
      ? budgeted
      : withResponseCache(budgeted, { dir: options.cacheDir, identity: options.providerIdentity ?? provider.name });
  return {
    provider: meterUsage(cached, options.usage, {
      price,
      onCall: ({ stage, file, usage: call, costUsd, cached: hit }) =>
        onEvent({
          type: 'call-done',
          stage,
          path: file,
          inputTokens: call.inputTokens,
          outputTokens: call.outputTokens,
          estimated: call.estimated,
          costUsd: costUsd ?? null,
          cached: hit,
        }),
      onWait: (wait, request) =>
        onEvent({
          type: 'rate-limited',
          ...wait,
          stage: request.stage,
          path: request.file,
        }),
    }),
    model: spec.settings.model,
    temperature: spec.settings.temperature,
    maxTokens: spec.settings.maxTokens,
    fileList: spec.settings.fileList,
    onWarning: (warning) => onEvent({ type: 'warning', ...warning }),
    signal: options.signal,
  };
}
