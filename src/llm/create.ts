import { SmolError } from '../errors.js';
import { DEFAULT_CALL_TIMEOUT_MS, type CallLimits } from './call-limits.js';
import {
  describeConnection,
  nonEmpty,
  resolveConnection,
  type Connection,
  type Env,
  type ProviderSettings,
} from './connection.js';
import {
  chooseProvider,
  detectProvider,
  notConfigured,
  ollamaOrigin,
  type DetectOptions,
  type ProviderChoice,
} from './detect.js';
import type { OpenAIProviderOptions } from './openai.js';
import { withRateLimit, type Clock } from './rate-limit.js';
import type { Provider } from './types.js';

/** Test and CLI knobs passed straight to the SDK and the rate limiter. */
export interface ProviderOverrides extends DetectOptions {
  maxRetries?: number | undefined;
  timeoutMs?: number | undefined;
  /** For the rate limiter's waits (tests). */
  clock?: Clock | undefined;
  /** Longest total pause for 429s per call (default 10 minutes). */
  maxWaitMs?: number | undefined;
}

export interface CreatedProvider {
  provider: Provider;
  /**
   * For humans and the response-cache key, e.g. `openai-compatible at http://127.0.0.1:11434/v1`.
   * Never contains a key; stable however the provider was chosen.
   */
  description: string;
  /** Why this provider was chosen. */
  reason: string;
}

/** Builds the provider the settings and environment name, without probing (see {@link detectAndCreateProvider}). */
export function createProvider(
  settings: ProviderSettings,
  env: Env,
  overrides: ProviderOverrides = {},
): CreatedProvider {
  const choice = chooseProvider(settings, env);
  if (choice === undefined) throw notConfigured(ollamaOrigin(env));
  return buildProvider(choice, settings, env, overrides);
}

/** {@link detectProvider} then build: what the CLI and `generateCodebase` use. */
export async function detectAndCreateProvider(
  settings: ProviderSettings,
  env: Env,
  overrides: ProviderOverrides = {},
): Promise<CreatedProvider> {
  return buildProvider(await detectProvider(settings, env, overrides), settings, env, overrides);
}

/**
 * Builds `choice`: the SDK adapter, wrapped in {@link withRateLimit} (the spec's `rateLimit`, and every
 * 429 pausing all calls). The adapter leaves 429s to that wrapper (`rateLimits: 'caller'`).
 */
function buildProvider(
  choice: ProviderChoice,
  settings: ProviderSettings,
  env: Env,
  overrides: ProviderOverrides = {},
): CreatedProvider {
  const connection = resolveConnection(choice.name, settings, env);
  const problem = connection.problems[0];
  // Any problem of the connection fails every call alike: PROVIDER_NO_KEY, PROVIDER_NOT_CONFIGURED, a bad URL.
  if (problem !== undefined)
    throw new SmolError(problem.code, problem.message, { exitCode: 2, hint: problem.hint, runWide: 'stop-calls' });
  const provider = withRateLimit(buildAdapter(connection, settings, env, overrides), {
    rpm: settings.rateLimit?.rpm,
    tpm: settings.rateLimit?.tpm,
    clock: overrides.clock,
    maxWaitMs: overrides.maxWaitMs,
  });
  return { provider, description: describeConnection(connection), reason: choice.reason };
}

/** The SDK adapter for a connection without problems, its SDK loaded on the first call. */
function buildAdapter(
  connection: Connection,
  settings: ProviderSettings,
  env: Env,
  overrides: ProviderOverrides,
): Provider {
  const limits: CallLimits = {
    deadlineMs: settings.callTimeout === undefined ? DEFAULT_CALL_TIMEOUT_MS : settings.callTimeout * 1000,
    maxFileBytes: settings.maxFileBytes,
  };
  const sdk = {
    rateLimits: 'caller' as const,
    limits,
    fetch: overrides.fetch,
    maxRetries: overrides.maxRetries,
    timeoutMs: overrides.timeoutMs,
    apiKey: connection.keyVariable === undefined ? undefined : nonEmpty(env[connection.keyVariable]),
  };
  const url = connection.url ?? '';
  switch (connection.name) {
    case 'anthropic': {
      const options = { ...sdk, baseURL: url };
      // The Anthropic SDK takes a noticeable time to load: only a run that uses it pays for it.
      return lazyProvider('anthropic', async () => (await import('./anthropic.js')).createAnthropicProvider(options));
    }
    case 'azure': {
      const { endpoint, apiVersion, deployment } = connection.azure!;
      return lazyOpenAI({ ...sdk, name: 'azure', azure: { endpoint, apiVersion, deployment } });
    }
    case 'openai':
      return lazyOpenAI({
        ...sdk,
        name: 'openai',
        baseURL: url,
        organization: nonEmpty(env.OPENAI_ORG_ID),
        project: nonEmpty(env.OPENAI_PROJECT_ID),
      });
    default:
      return lazyOpenAI({ ...sdk, name: connection.name, baseURL: url });
  }
}

/** The openai SDK adapter, loaded on first use (status and check never need it). */
function lazyOpenAI(options: OpenAIProviderOptions): Provider {
  return lazyProvider(options.name ?? 'openai', async () =>
    (await import('./openai.js')).createOpenAIProvider(options),
  );
}

/** A provider whose module is loaded on its first call (its name is known before). */
function lazyProvider(name: string, load: () => Promise<Provider>): Provider {
  let loaded: Promise<Provider> | undefined;
  return {
    name,
    async complete(request, options) {
      loaded ??= load();
      return (await loaded).complete(request, options);
    },
  };
}
